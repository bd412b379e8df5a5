# %% [markdown]
# # Export to ONNX and measure latency
#
# A fitted model leaves sparsetsc as one ONNX file holding the whole prediction
# (z-normalisation, the network or every member of an ensemble, softmax). The file is
# checked in onnxruntime against `predict_proba` before it is written, and
# `OnnxClassifier` serves it with onnxruntime and NumPy alone, no PyTorch. This tutorial
# exports a LITE fitted on GunPoint, checks the predictions, and times PyTorch against
# onnxruntime at batch 1 and 64. It needs the `export` extra (`pip install
# "sparsetsc[export]"`) and runs in about 20 s on 2 CPU cores.
#
# The timings below are from the machine that built this page, beside whatever else it
# was running: read them as an example of the measurement, and measure on your own
# hardware. The [Deployment](../../user-guide/deployment/) page has our measurements on an
# idle machine.

# %%
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import sparsetsc
from sparsetsc.export import OnnxClassifier, export_onnx

X_train, y_train, X_test, y_test = sparsetsc.load_train_test("GunPoint")
lite = sparsetsc.LITEClassifier(n_epochs=100, random_state=0)
lite.fit(X_train, y_train)
print(f"test accuracy {lite.score(X_test, y_test):.3f}")

# %% [markdown]
# ## Export
#
# `export_onnx` runs the exported graph on the series it is given and refuses to write a
# file whose probabilities differ from `predict_proba` by more than 1e-4.

# %%
folder = Path(tempfile.mkdtemp(prefix="sparsetsc-tutorial-"))
report = export_onnx(lite, folder / "lite.onnx", X_test)
checks = ("max_abs_diff", "predictions_identical")
print({key: report[key] for key in checks})
print(f"file size {(folder / 'lite.onnx').stat().st_size / 1024:.0f} KiB")

runtime = OnnxClassifier(folder / "lite.onnx")
predicted = runtime.predict(X_test)
same = (predicted == lite.predict(X_test)).all()
print("same labels as PyTorch:", bool(same))
print("first predictions:", predicted[:8])

# %% [markdown]
# ## Latency
#
# The median of 30 calls of `predict_proba` for one series and for a batch of 64, after
# a warm-up, in this process.

# %%


def median_ms(predict, X, repeats=30, warmup=5):
    for _ in range(warmup):
        predict(X)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


timings = {}
for batch in (1, 64):
    X = X_test[:batch]
    timings[batch] = {
        "PyTorch": median_ms(lite.predict_proba, X),
        "onnxruntime": median_ms(runtime.predict_proba, X),
    }
    times = [f"{k} {v:.2f} ms" for k, v in timings[batch].items()]
    print(f"batch {batch:>2}: " + ", ".join(times))

# %%
fig, axes = plt.subplots(1, 2, figsize=(7, 2.8))
for ax, (batch, row) in zip(axes, timings.items(), strict=True):
    ax.bar(list(row), list(row.values()), color=["tab:red", "tab:blue"])
    ax.set_title(f"batch {batch}")
    ax.set_ylabel("ms per call (median)")
fig.tight_layout()

# %% [markdown]
# On the command line the same export is `sparsetsc export MODEL_DIR --onnx model.onnx
# --dataset GunPoint`, and `sparsetsc predict model.onnx --input new_series.csv` predicts
# from the file without loading PyTorch's model code.
