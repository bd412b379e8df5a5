"""Run every compiled kernel, a short DSP-LITE fit and DSN's sparse inference; print digests.

Run as a script by ``test_kernel_determinism.py``, in fresh processes that share one
``NUMBA_CACHE_DIR``: the first compiles every kernel (cold cache), the second loads them
(warm). It prints one JSON object: a SHA-1 per output and gradient, numba's cache hits and
misses per kernel, torch's thread count before and after the kernels ran, and how many
first-compile notices the kernels gave.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
threads_before = torch.get_num_threads()

import sparsetsc  # noqa: E402 - after the thread setting, as a user would
from sparsetsc.nn import kernels  # noqa: E402
from sparsetsc.sparse import SparseConv1d, inference  # noqa: E402


def digest(array) -> str:
    if isinstance(array, torch.Tensor):
        array = array.detach().numpy()
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()


def kernel_digests() -> dict[str, str]:
    # LITE block-1 sizes: lengths that are not multiples of the vector width, odd channels.
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(28, 37, 286, generator=generator, requires_grad=True)
    upstream = torch.randn(28, 37, 286, generator=generator)
    weight = torch.randn(37, 1, 21, generator=generator, requires_grad=True)
    out = {}
    y = kernels.depthwise_conv1d(x, weight, 2, 20)
    y.backward(upstream)
    out |= {"depthwise": digest(y), "depthwise x grad": digest(x.grad)}
    out["depthwise weight grad"] = digest(weight.grad)
    x.grad = None
    bn = torch.nn.BatchNorm1d(37).train()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5, generator=generator)
        bn.bias.uniform_(-0.5, 0.5, generator=generator)
    y = kernels.batch_norm_relu(bn, x)
    y.backward(upstream)
    out |= {"bn-relu": digest(y), "bn-relu x grad": digest(x.grad)}
    out["bn-relu weight grad"] = digest(bn.weight.grad)
    out["bn-relu bias grad"] = digest(bn.bias.grad)
    out["bn-relu running var"] = digest(bn.running_var)
    x.grad = None
    y = kernels.max_pool3(x)
    y.backward(upstream)
    out |= {"max-pool": digest(y), "max-pool x grad": digest(x.grad)}
    torch.manual_seed(0)
    conv = torch.nn.Conv1d(37, 23, 9, padding="same")
    with torch.no_grad():
        conv.weight.mul_(torch.rand(conv.weight.shape, generator=generator) < 0.2)
    with torch.no_grad():
        out["sparse conv"] = digest(SparseConv1d.from_conv(conv)(x))
    return out


def fit_digests() -> dict[str, str]:
    X_train, y_train, X_test, _ = sparsetsc.load_train_test("GunPoint")
    dsp = sparsetsc.DSPClassifier(
        backbone="lite", n_epochs=6, recovery_epochs=3, device="cpu", random_state=0
    ).fit(X_train[:40], y_train[:40])
    dsn = sparsetsc.DSNClassifier(n_epochs=2, device="cpu", random_state=0)
    dsn.fit(X_train[:40], y_train[:40])
    sparse = inference.sparse_inference(dsn.network_)
    with torch.no_grad():
        dsn_sparse = sparse(torch.as_tensor(X_test[:20], dtype=torch.float32))
    return {
        "DSP-LITE probabilities": digest(dsp.predict_proba(X_test)),
        "DSP-LITE widths": json.dumps(dsp.kept_widths_, sort_keys=True),
        "DSN probabilities": digest(dsn.predict_proba(X_test)),
        "DSN sparse inference": digest(dsn_sparse),
    }


def cache_stats() -> dict[str, list[int]]:
    compiled = {
        name: value
        for module in (kernels, inference)
        for name, value in vars(module).items()
        if hasattr(value, "stats") and hasattr(value, "py_func")
    }
    return {
        name: [sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values())]
        for name, k in sorted(compiled.items())
    }


if __name__ == "__main__":
    notices = []
    kernels.notify_before_compiling(lambda: notices.append("compiling"))
    digests = kernel_digests()
    threads_after = torch.get_num_threads()
    if "--fit" in sys.argv:
        digests |= fit_digests()
    print(
        json.dumps(
            {
                "digests": digests,
                "cache": cache_stats(),
                "threads": [threads_before, threads_after],
                "compile_notices": len(notices),
            }
        )
    )
