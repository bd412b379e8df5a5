"""Same seed, same bits: whether numba compiles a kernel now or loads it from its cache.

numba's parallel lowering optimises each ``prange`` body twice (the copy the compiling
process runs and the copy it caches); with ``fastmath`` those copies computed different
bits, so a fit on a fresh install differed from the same fit once the cache was warm. Each
test here compiles in a fresh process with an empty ``NUMBA_CACHE_DIR``, loads in a second
one, and compares digests of every output and gradient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sparsetsc.nn import kernels

PROBE = Path(__file__).with_name("determinism_probe.py")
INNER_HELPERS = {"_row_sum"}


def _probe(cache_dir: Path, *args: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run(
        [sys.executable, str(PROBE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def cold_and_warm(tmp_path_factory) -> tuple[dict, dict]:
    cache_dir = tmp_path_factory.mktemp("numba-cache")
    cold = _probe(cache_dir, "1", "--fit")
    warm = _probe(cache_dir, "1", "--fit")
    return cold, warm


def test_the_probe_really_compiled_then_really_loaded_every_kernel(cold_and_warm):
    cold, warm = cold_and_warm
    assert cold["cache"].keys() == warm["cache"].keys()
    assert len(cold["cache"]) >= 8  # every @njit kernel of nn.kernels and sparse.inference
    for name, (hits, misses) in cold["cache"].items():
        assert hits == 0 and misses >= 1, f"{name} was not compiled in the cold process"
    for name, (hits, misses) in warm["cache"].items():
        assert misses == 0, f"{name} was compiled again in the warm process"
        # a helper called only from other kernels is linked into them: never loaded alone
        assert hits >= 1 or name in INNER_HELPERS, f"{name} was not loaded from the cache"


def test_the_first_compile_is_announced_once_and_a_cache_load_not(cold_and_warm):
    cold, warm = cold_and_warm
    assert cold["compile_notices"] == 1
    assert warm["compile_notices"] == 0


def test_every_kernel_output_and_gradient_is_bit_identical_cold_and_warm(cold_and_warm):
    cold, warm = cold_and_warm
    kernel_keys = [k for k in cold["digests"] if "DSP" not in k and "DSN" not in k]
    assert len(kernel_keys) == 11
    for key in kernel_keys:
        assert cold["digests"][key] == warm["digests"][key], key


def test_a_short_dsp_lite_fit_is_bit_identical_cold_and_warm(cold_and_warm):
    cold, warm = cold_and_warm
    for key in ("DSP-LITE probabilities", "DSP-LITE widths"):
        assert cold["digests"][key] == warm["digests"][key], key


def test_dsn_fit_and_its_sparse_inference_are_bit_identical_cold_and_warm(cold_and_warm):
    cold, warm = cold_and_warm
    for key in ("DSN probabilities", "DSN sparse inference"):
        assert cold["digests"][key] == warm["digests"][key], key


def test_the_first_kernel_call_keeps_torchs_thread_count(cold_and_warm):
    # Starting numba's OpenMP pool reset torch's thread count to one per core.
    for run in cold_and_warm:
        assert run["threads"] == [1, 1]


@pytest.mark.parametrize("kernel", ["depthwise", "bn-relu", "max-pool"])
def test_kernels_give_the_same_bits_on_one_and_two_threads(kernel):
    # Each parallel task owns whole rows or channels: the split never changes a sum.
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(16, 21, 150, generator=generator)
    upstream = torch.randn(16, 21, 150, generator=generator)
    weight = torch.randn(21, 1, 9, generator=generator)
    results = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            xi, wi = x.clone().requires_grad_(), weight.clone().requires_grad_()
            bn = torch.nn.BatchNorm1d(21).train()
            if kernel == "depthwise":
                y = kernels.depthwise_conv1d(xi, wi, 3, 12)
            elif kernel == "bn-relu":
                y = kernels.batch_norm_relu(bn, xi)
            else:
                y = kernels.max_pool3(xi)
            y.backward(upstream)
            results.append((y.detach(), xi.grad, wi.grad, bn.weight.grad))
    finally:
        torch.set_num_threads(before)
    for one, two in zip(*results, strict=True):
        assert (one is None and two is None) or torch.equal(one, two)
