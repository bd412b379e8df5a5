"""LITE and Inception classifiers (single networks) with the published training recipe.

Both follow the settings of the LITE, InceptionTime and DSP papers' code: Adam at 1e-3,
ReduceLROnPlateau on the training loss (factor 0.5, patience 50, floor 1e-4), batch size 64,
1500 epochs, the weights of the epoch with the lowest training loss, and z-normalised input.
Their ensembles (LITETime, InceptionTime, H-InceptionTime) are in :mod:`.ensemble`.
"""

from __future__ import annotations

from ..nn import LITE, Inception
from ..train import DEFAULT_PRECISION
from .base import BaseDeepClassifier

__all__ = ["InceptionClassifier", "LITEClassifier"]

_TRAINING_PARAMETERS = """
    n_epochs : int, default=1500
        Training epochs.
    batch_size : int or {"fcn", "dsn"}, default=64
        Mini-batch size (capped at the number of training cases), or a rule of it.
    lr : float, default=1e-3
        Initial Adam learning rate.
    lr_schedule : {"plateau", "cosine", "constant"}, default="plateau"
        ReduceLROnPlateau on the training loss (factor 0.5, patience 50), cosine annealing to
        ``min_lr``, or none.
    min_lr : float, default=1e-4
        Floor of the learning-rate schedule.
    selection : {"train_loss", "val_loss", "val_accuracy", "last"}, default="train_loss"
        Checkpoint to keep; ``val_*`` use a stratified split of the training data.
    validation_size : float or int, default=0.0
        Fraction or number of training cases held out for ``val_*`` selection.
    normalize : bool, default=True
        z-normalise each series and channel over time (in ``fit`` and ``predict``).
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...
    precision : {"fp32", "bf16", "auto"}, default="fp32"
        Numeric precision (see :class:`~sparsetsc.FCNClassifier`).
    verbose : bool, default=False
        Show a progress bar while training.
    random_state : int, RandomState or None, default=None
        Seed for weight initialisation and shuffling; the same int gives identical
        predictions on CPU.
"""


class LITEClassifier(BaseDeepClassifier):
    """LITE: a light inception network (9,814 trainable parameters without the classifier).

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/backbones/>.

    Ismail-Fawaz et al., DSAA 2023. Three parallel convolutions (kernels 40/20/10) and 17
    frozen hand-crafted filters, two depthwise-separable dilated convolutions, global average
    pooling and a linear classifier (:class:`sparsetsc.nn.LITE`). Multivariate input uses
    LITEMV (separable branches, hand-crafted filters per channel).

    Parameters
    ----------
    n_filters : int, default=32
        Filters of every branch and FCN module.
    kernel_size : int, default=40
        Longest branch kernel; the others are ``kernel_size // 2`` and ``// 4``.
    use_dilation : bool, default=True
        Dilations 2 and 4 in the FCN modules (else 1).
    hand_crafted : bool, default=True
        Use the 17 frozen hand-crafted filters.
    """

    __doc__ += _TRAINING_PARAMETERS
    _network_class = LITE
    _network_params = ("n_filters", "kernel_size", "use_dilation", "hand_crafted")

    def __init__(
        self,
        n_filters: int = 32,
        kernel_size: int = 40,
        use_dilation: bool = True,
        hand_crafted: bool = True,
        n_epochs: int = 1500,
        batch_size: int | str = 64,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        min_lr: float = 1e-4,
        selection: str = "train_loss",
        validation_size: float = 0.0,
        normalize: bool = True,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        verbose: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.use_dilation = use_dilation
        self.hand_crafted = hand_crafted
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
            "n_filters": 4,
            "kernel_size": 8,
            "n_epochs": 3,
            "batch_size": 4,
            "device": "cpu",
            "random_state": 0,
        }


class InceptionClassifier(BaseDeepClassifier):
    """One Inception network of InceptionTime (Ismail Fawaz et al., DMKD 2020).

    User guide: <https://sparsetsc.github.io/sparsetsc/user-guide/backbones/>.

    Six inception modules (bottleneck 32, convolutions 40/20/10, max-pool branch; 128
    channels), residual shortcuts every three modules, global average pooling and a linear
    classifier: 420,192 parameters without the classifier (:class:`sparsetsc.nn.Inception`).
    With ``hand_crafted=True`` the first module also has the 17 frozen hand-crafted filters
    (H-Inception, Ismail-Fawaz et al., BigData 2022).

    Parameters
    ----------
    n_filters : int, default=32
        Filters of every branch.
    depth : int, default=6
        Inception modules.
    kernel_size : int, default=40
        Longest branch kernel; the others are ``kernel_size // 2`` and ``// 4``.
    bottleneck_size : int, default=32
        Width of the 1x1 bottleneck in front of the branch convolutions.
    use_bottleneck, use_residual : bool, default=True
        Ablations of the bottleneck and of the residual shortcuts.
    hand_crafted : bool, default=False
        Add the hand-crafted filters to the first module (H-Inception).
    """

    __doc__ += _TRAINING_PARAMETERS
    _network_class = Inception
    _network_params = (
        "n_filters",
        "depth",
        "kernel_size",
        "bottleneck_size",
        "use_bottleneck",
        "use_residual",
        "hand_crafted",
    )

    def __init__(
        self,
        n_filters: int = 32,
        depth: int = 6,
        kernel_size: int = 40,
        bottleneck_size: int = 32,
        use_bottleneck: bool = True,
        use_residual: bool = True,
        hand_crafted: bool = False,
        n_epochs: int = 1500,
        batch_size: int | str = 64,
        lr: float = 1e-3,
        lr_schedule: str = "plateau",
        min_lr: float = 1e-4,
        selection: str = "train_loss",
        validation_size: float = 0.0,
        normalize: bool = True,
        device: str = "auto",
        precision: str = DEFAULT_PRECISION,
        verbose: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.n_filters = n_filters
        self.depth = depth
        self.kernel_size = kernel_size
        self.bottleneck_size = bottleneck_size
        self.use_bottleneck = use_bottleneck
        self.use_residual = use_residual
        self.hand_crafted = hand_crafted
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
            "n_filters": 4,
            "depth": 3,
            "kernel_size": 8,
            "bottleneck_size": 4,
            "n_epochs": 3,
            "batch_size": 4,
            "device": "cpu",
            "random_state": 0,
        }
