"""FCN classifier (Wang et al. 2017) with the dl-4-tsc training recipe."""

from __future__ import annotations

from ..nn import FCN
from ..train import DEFAULT_PRECISION
from .base import BaseDeepClassifier

__all__ = ["FCNClassifier"]


class FCNClassifier(BaseDeepClassifier):
    """Fully convolutional network for time-series classification.

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/backbones/>.

    Three Conv1d -> BatchNorm -> ReLU blocks, global average pooling and a linear head.
    Defaults follow the reference implementation of Ismail Fawaz et al. (2019): Adam 1e-3,
    ReduceLROnPlateau on the training loss (factor 0.5, patience 50, min 1e-4), batch size
    ``min(N/10, 16)``, 2000 epochs, and the weights of the epoch with the lowest training loss.

    Parameters
    ----------
    n_filters : tuple of int, default=(128, 256, 128)
        Filters of each convolution block.
    kernel_sizes : tuple of int, default=(8, 5, 3)
        Kernel size of each convolution block ("same" padding).
    n_epochs : int, default=2000
        Training epochs.
    batch_size : int or {"fcn", "dsn"}, default="fcn"
        Mini-batch size, or a rule of the number of training cases N: ``"fcn"`` is
        ``min(N/10, 16)``, ``"dsn"`` is ``max(min(N/10, 16), 2)``.
    lr : float, default=1e-3
        Initial Adam learning rate.
    lr_schedule : {"plateau", "cosine", "constant"}, default="plateau"
        ReduceLROnPlateau on the training loss, cosine annealing to ``min_lr``, or none.
    min_lr : float, default=1e-4
        Floor of the learning rate schedule.
    selection : {"train_loss", "val_loss", "val_accuracy", "last"}, default="train_loss"
        Checkpoint to keep. ``val_*`` use a split of the training data (``validation_size``);
        test data is never used.
    validation_size : float or int, default=0.0
        Fraction or number of training cases held out (stratified) for ``val_*`` selection.
    normalize : bool, default=True
        z-normalise each series and channel over time (in ``fit`` and ``predict``).
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    precision : {"fp32", "bf16", "auto"}, default="fp32" (``sparsetsc.train.DEFAULT_PRECISION``)
        Numeric precision of training and prediction: float32, bfloat16 mixed precision
        (float32 weights, optimizer state, loss and BatchNorm statistics), or bf16 where the
        hardware runs it natively (CPUs with AMX / AVX512-BF16, recent GPUs).
    verbose : bool, default=False
        Show a progress bar while training.
    random_state : int, RandomState or None, default=None
        Seed for weight initialisation, shuffling and the validation split. The same int
        gives identical predictions on CPU.

    Examples
    --------
    >>> from sparsetsc import FCNClassifier, load_dataset
    >>> X_train, y_train = load_dataset("GunPoint", split="train")
    >>> X_test, y_test = load_dataset("GunPoint", split="test")
    >>> clf = FCNClassifier(n_epochs=100, random_state=0).fit(X_train, y_train)
    >>> clf.score(X_test, y_test)  # doctest: +SKIP
    """

    _network_class = FCN
    _network_params = ("n_filters", "kernel_sizes")

    def __init__(
        self,
        n_filters: tuple[int, ...] = (128, 256, 128),
        kernel_sizes: tuple[int, ...] = (8, 5, 3),
        n_epochs: int = 2000,
        batch_size: int | str = "fcn",
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        min_lr: float = 1e-4,
        selection: str = "train_loss",
        validation_size: float | int = 0.0,
        normalize: bool = True,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        verbose: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.n_filters = n_filters
        self.kernel_sizes = kernel_sizes
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.min_lr = min_lr
        self.selection = selection
        self.validation_size = validation_size
        self.normalize = normalize
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.random_state = random_state
        super().__init__()

    @classmethod
    def _get_test_params(cls, parameter_set: str = "default") -> dict | list[dict]:
        """Tiny, fast settings for aeon's and our estimator checks."""
        return {
            "n_filters": (4, 8),
            "kernel_sizes": (3, 3),
            "n_epochs": 3,
            "batch_size": 4,
            "device": "cpu",
            "random_state": 0,
        }
