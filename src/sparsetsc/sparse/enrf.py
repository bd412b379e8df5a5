"""What a sparse network learned: effective receptive fields and tap usage (DSN, Sec. 5).

DSN's large kernels are sparse: each output-channel group may only use the taps of its
search region, and inside that region only a fixed budget of positions is active. How far a
kernel actually *looks* is therefore not its nominal size ``k`` but its **effective
neighbour receptive field** (eNRF): the span between its first and its last active tap,

.. math:: \\mathrm{eNRF} = j_{\\max} - j_{\\min} + 1,

where ``j`` runs over the taps with a non-zero weight of one kernel (one output channel and
one input channel). A kernel with a single active tap has eNRF 1; a kernel with no active tap
is *empty* and is given eNRF 0 (excluded from means and histograms). The paper studies the
eNRF per kernel group (its distributions show that the groups with larger regions really
learn wider receptive fields) and the per-tap usage of each group (its Fig. 8 heatmaps).

Active positions are read from the mask parametrization while a network is being trained,
and from the exact zeros of the weight afterwards (a fitted ``DSNClassifier`` has its masks
baked in), so both give the same answer.

matplotlib is only imported by the plotting functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from ..nn.region_conv import RegionConv1d
from .masks import get_mask

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "active_taps",
    "enrf",
    "sparse_layers",
    "enrf_table",
    "pool_enrf_tables",
    "tap_usage",
    "analyze",
    "plot_enrf_histograms",
    "plot_enrf_distributions",
    "plot_tap_heatmaps",
    "save_figures",
]

Region = tuple[int, int, int, int]


def active_taps(module_or_weight: nn.Module | torch.Tensor) -> torch.Tensor:
    """Active weight positions of a convolution.

    Parameters
    ----------
    module_or_weight : nn.Module or torch.Tensor
        A ``Conv1d`` (masked or not) or a weight tensor of shape ``(out, in, k)``.

    Returns
    -------
    torch.Tensor
        Boolean tensor ``(out, in, k)`` on the CPU: the mask when the module carries one,
        otherwise ``weight != 0`` (the effective weight ``module.weight``).
    """
    with torch.no_grad():
        if isinstance(module_or_weight, torch.Tensor):
            return (module_or_weight.detach() != 0).cpu()
        mask = get_mask(module_or_weight)
        if mask is not None:
            return (mask.mask != 0).cpu()
        return (module_or_weight.weight.detach() != 0).cpu()


def enrf(active: torch.Tensor) -> np.ndarray:
    """Effective neighbour receptive field of every kernel.

    Parameters
    ----------
    active : torch.Tensor
        Boolean tensor ``(out, in, k)`` of active positions.

    Returns
    -------
    np.ndarray
        Integer array ``(out, in)``: last active tap - first active tap + 1, and 0 for a
        kernel with no active tap.
    """
    active = torch.as_tensor(active).bool().cpu()
    if active.dim() != 3:
        raise ValueError(f"active must have shape (out, in, k); got {tuple(active.shape)}")
    k = active.shape[-1]
    taps = torch.arange(k)
    first = torch.where(active, taps, k).amin(dim=-1)
    last = torch.where(active, taps, -1).amax(dim=-1)
    span = (last - first + 1).clamp(min=0)
    return span.numpy().astype(np.int64)


def sparse_layers(network: nn.Module) -> list[tuple[str, nn.Conv1d]]:
    """The sparse convolutions of a network, in module order.

    Parameters
    ----------
    network : nn.Module
        Any network.

    Returns
    -------
    list of (str, nn.Conv1d)
        Every :class:`RegionConv1d` with ``regions`` set and every ``Conv1d`` carrying a mask,
        with its name in ``network.named_modules()``.
    """
    found = []
    for name, module in network.named_modules():
        if not isinstance(module, nn.Conv1d):
            continue
        regioned = isinstance(module, RegionConv1d) and module.regions is not None
        if regioned or get_mask(module) is not None:
            found.append((name, module))
    return found


def _regions(module: nn.Conv1d) -> list[Region]:
    regions = getattr(module, "regions", None)
    if regions:
        return [tuple(int(v) for v in r) for r in regions]  # type: ignore[misc]
    out_channels, _, kernel_size = module.weight.shape
    return [(0, int(out_channels), 0, int(kernel_size))]


def enrf_table(network: nn.Module) -> list[dict[str, Any]]:
    """eNRF statistics per sparse layer and kernel group.

    Parameters
    ----------
    network : nn.Module
        A network with sparse layers (see :func:`sparse_layers`).

    Returns
    -------
    list of dict
        One row per (layer, group) with keys ``layer``, ``group``, ``out_start``,
        ``out_stop``, ``tap_start``, ``tap_stop`` (the group's region), ``nonzero`` (active
        weights), ``kernels`` (out x in kernels of the group), ``empty_kernels`` (kernels
        without active tap), ``enrf_mean``, ``enrf_median``, ``enrf_max`` (over non-empty
        kernels; 0 if none) and ``enrf_hist`` (counts for eNRF = 1 .. kernel_size).
    """
    rows = []
    for name, module in sparse_layers(network):
        active = active_taps(module)
        spans = enrf(active)
        kernel_size = active.shape[-1]
        for group, (o0, o1, t0, t1) in enumerate(_regions(module)):
            values = spans[o0:o1].ravel()
            used = values[values > 0]
            hist = np.bincount(used, minlength=kernel_size + 1)[1 : kernel_size + 1]
            rows.append(
                {
                    "layer": name,
                    "group": group,
                    "out_start": o0,
                    "out_stop": o1,
                    "tap_start": t0,
                    "tap_stop": t1,
                    "nonzero": int(active[o0:o1].sum()),
                    "kernels": int(values.size),
                    "empty_kernels": int((values == 0).sum()),
                    **_span_statistics(used),
                    "enrf_hist": [int(c) for c in hist],
                }
            )
    return rows


def _span_statistics(spans: np.ndarray) -> dict[str, Any]:
    """Mean, median and max eNRF of the non-empty kernels' spans (0 when there are none)."""
    if not spans.size:
        return {"enrf_mean": 0.0, "enrf_median": 0.0, "enrf_max": 0}
    return {
        "enrf_mean": float(spans.mean()),
        "enrf_median": float(np.median(spans)),
        "enrf_max": int(spans.max()),
    }


def pool_enrf_tables(tables: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of several :func:`enrf_table` (e.g. one model per dataset) pooled per (layer,
    group): counts and histograms summed, statistics recomputed from the pooled histogram;
    the region is the first table's (it depends on the series length).

    Parameters
    ----------
    tables : list of list of dict
        :func:`enrf_table` outputs of networks with the same sparse layers and groups.

    Returns
    -------
    list of dict
        Rows as :func:`enrf_table`'s, plus ``models`` (how many tables were pooled).
    """
    pooled: dict[tuple[str, int], dict[str, Any]] = {}
    for rows in tables:
        for row in rows:
            key = (row["layer"], row["group"])
            if key not in pooled:
                pooled[key] = {**row, "enrf_hist": list(row["enrf_hist"]), "models": 1}
                continue
            into = pooled[key]
            into["models"] += 1
            for name in ("nonzero", "kernels", "empty_kernels"):
                into[name] += row[name]
            # Histograms of different lengths (kernel sizes) add up from eNRF = 1.
            total = np.zeros(max(len(into["enrf_hist"]), len(row["enrf_hist"])), dtype=int)
            total[: len(into["enrf_hist"])] += into["enrf_hist"]
            total[: len(row["enrf_hist"])] += row["enrf_hist"]
            into["enrf_hist"] = [int(c) for c in total]
    for row in pooled.values():
        hist = np.asarray(row["enrf_hist"], dtype=int)
        row.update(_span_statistics(np.repeat(np.arange(1, hist.size + 1), hist)))
    return list(pooled.values())


def tap_usage(network: nn.Module) -> dict[str, list[np.ndarray]]:
    """Fraction of kernels of each group that use each tap (the data of DSN's Fig. 8).

    Returns ``{layer name: [one array of length kernel_size per kernel group]}`` for the
    sparse layers (:func:`sparse_layers`) of ``network``.
    """
    usage: dict[str, list[np.ndarray]] = {}
    for name, module in sparse_layers(network):
        active = active_taps(module)
        usage[name] = [
            active[o0:o1].flatten(0, 1).float().mean(dim=0).numpy().astype(np.float64)
            for o0, o1, _, _ in _regions(module)
        ]
    return usage


def _network(estimator_or_network: Any) -> nn.Module:
    if isinstance(estimator_or_network, nn.Module):
        return estimator_or_network
    network = getattr(estimator_or_network, "network_", None)
    if network is None:
        raise ValueError(f"{type(estimator_or_network).__name__} is not fitted (no network_)")
    return network


def analyze(estimator: Any) -> dict[str, Any]:
    """The whole analysis of a fitted estimator as a JSON-serialisable dict.

    Parameters
    ----------
    estimator : estimator or nn.Module
        A fitted estimator (its ``network_`` is analysed) or a network.

    Returns
    -------
    dict
        ``layers`` (:func:`enrf_table`), ``tap_usage`` (layer -> list per group of lists),
        ``ever_active_fraction`` and ``real_density`` (from a ``DSNClassifier``; ``{}`` and
        ``None`` otherwise).
    """
    network = _network(estimator)
    ever = getattr(estimator, "ever_active_fraction_", None) or {}
    density = getattr(estimator, "real_density_", None)
    return {
        "layers": enrf_table(network),
        "tap_usage": {
            name: [[float(v) for v in group] for group in groups]
            for name, groups in tap_usage(network).items()
        },
        "ever_active_fraction": {k: [float(v) for v in f] for k, f in ever.items()},
        "real_density": None if density is None else float(density),
    }


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 2)
    return (n + cols - 1) // cols, cols


def plot_enrf_histograms(network: nn.Module) -> Figure:
    """A matplotlib figure of the eNRF distributions of ``network``'s sparse layers: one
    subplot per layer, one bar set per kernel group."""
    rows = enrf_table(network)
    if not rows:
        raise ValueError("the network has no sparse layers")
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    n_rows, n_cols = _grid(len(layers))
    return _enrf_figure([("", rows)], n_rows, n_cols)


def plot_enrf_distributions(tables: dict[str, list[dict[str, Any]]]) -> Figure:
    """eNRF distributions of several models side by side: one row of subplots per entry
    (e.g. DSN with and without kernel groups, each pooled over datasets), one subplot per
    sparse layer, one bar set per kernel group (the DSN paper's Fig. 6).

    Parameters
    ----------
    tables : dict
        Title -> :func:`enrf_table` rows (or :func:`pool_enrf_tables` rows).

    Returns
    -------
    matplotlib.figure.Figure
    """
    entries = [(title, rows) for title, rows in tables.items() if rows]
    if not entries:
        raise ValueError("no eNRF rows to plot")
    n_cols = max(len(dict.fromkeys(r["layer"] for r in rows)) for _, rows in entries)
    return _enrf_figure(entries, len(entries), n_cols)


def _enrf_figure(
    entries: list[tuple[str, list[dict[str, Any]]]], n_rows: int, n_cols: int
) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * n_cols, 3.2 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    # One entry per row of subplots, or a single network's layers wrapped over the grid.
    slots = [list(axes.ravel())] if len(entries) == 1 else [list(row) for row in axes]
    used = set()
    for (title, rows), row_axes in zip(entries, slots, strict=True):
        layers = list(dict.fromkeys(r["layer"] for r in rows))
        for ax, layer in zip(row_axes, layers, strict=False):
            used.add(id(ax))
            groups = [r for r in rows if r["layer"] == layer]
            width = 0.8 / len(groups)
            for i, row in enumerate(groups):
                hist = np.asarray(row["enrf_hist"], dtype=float)
                share = hist / max(hist.sum(), 1.0)
                x = np.arange(1, hist.size + 1) + (i - (len(groups) - 1) / 2) * width
                ax.bar(
                    x,
                    share,
                    width=width,
                    label=f"group {row['group']} (taps {row['tap_start']}-{row['tap_stop'] - 1})",
                )
            ax.set_title(f"{title}: {layer}" if title else layer, fontsize="small")
            ax.set_xlabel("eNRF (taps)")
            ax.set_ylabel("fraction of kernels")
            ax.legend(fontsize="x-small")
    for ax in axes.ravel():
        if id(ax) not in used:
            fig.delaxes(ax)
    return fig


def plot_tap_heatmaps(network: nn.Module, layer: str | None = None) -> Figure:
    """Heatmaps of active weights per output channel and tap, one per layer and group.

    Each cell counts the active input channels of one (output channel, tap); rows are the
    output channels of the group, columns the taps, and a dashed line marks the end of the
    group's region (DSN's Fig. 8).

    Parameters
    ----------
    network : nn.Module
        A network with sparse layers.
    layer : str, optional
        Only this layer (default: every sparse layer, one row of subplots each).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    layers = sparse_layers(network)
    if layer is not None:
        layers = [(n, m) for n, m in layers if n == layer]
        if not layers:
            raise ValueError(f"no sparse layer named {layer!r}")
    if not layers:
        raise ValueError("the network has no sparse layers")
    n_cols = max(len(_regions(m)) for _, m in layers)
    fig = Figure(figsize=(3.2 * n_cols + 1, 2.8 * len(layers)), layout="constrained")
    axes = fig.subplots(len(layers), n_cols, squeeze=False)
    for r, (name, module) in enumerate(layers):
        counts = active_taps(module).sum(dim=1).numpy()  # (out, k)
        in_channels = module.weight.shape[1]
        regions = _regions(module)
        for g in range(n_cols):
            ax = axes[r, g]
            if g >= len(regions):
                fig.delaxes(ax)
                continue
            o0, o1, t0, t1 = regions[g]
            image = ax.imshow(
                counts[o0:o1],
                aspect="auto",
                interpolation="nearest",
                cmap="viridis",
                vmin=0,
                vmax=in_channels,
                extent=(-0.5, counts.shape[1] - 0.5, o1 - 0.5, o0 - 0.5),
            )
            for edge in (t0 - 0.5, t1 - 0.5):
                if -0.5 < edge < counts.shape[1] - 0.5:
                    ax.axvline(edge, color="white", linestyle="--", linewidth=1)
            ax.set_title(f"{name} group {g}", fontsize="small")
            ax.set_xlabel("tap")
            if g == 0:
                ax.set_ylabel("output channel")
        fig.colorbar(image, ax=list(axes[r, : len(regions)]), label="active inputs")
    return fig


def save_figures(estimator: Any, folder: str | Path) -> list[Path]:
    """Write ``enrf_histograms.png`` and ``tap_heatmaps.png`` into ``folder``.

    Parameters
    ----------
    estimator : estimator or nn.Module
        A fitted estimator or a network with sparse layers.
    folder : str or Path
        Output folder (created if missing).

    Returns
    -------
    list of Path
        The written files.
    """
    network = _network(estimator)
    # Draw first: without matplotlib this fails before anything is written.
    figures = (
        ("enrf_histograms.png", plot_enrf_histograms(network)),
        ("tap_heatmaps.png", plot_tap_heatmaps(network)),
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, fig in figures:
        path = folder / filename
        fig.savefig(path, dpi=100)
        written.append(path)
    return written
