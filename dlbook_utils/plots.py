"""The book's figures: one style and the plots several chapters share.

Every function draws into ``ax`` when given (else a new figure) and returns the Axes (or the
Figure for grids), so a notebook can add a title stating the finding.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["OKABE_ITO", "set_style", "plot_history", "plot_decision_boundary", "show_images",
           "plot_trajectories", "plot_function_and_grad", "plot_curves_with_bands",
           "plot_bars_with_intervals"]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency.  Black comes last so that it is not the first data colour.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000"]


def set_style() -> None:
    """Apply the book style: colour-blind-safe cycle, readable sizes, no chart junk, 100 dpi."""
    mpl.rcParams.update({
        "axes.prop_cycle": mpl.cycler(color=OKABE_ITO),
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (6.0, 3.6),
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.fontsize": 10,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.6,
        "legend.frameon": False,
        "lines.linewidth": 1.8,
        "image.cmap": "viridis",
        "svg.hashsalt": "dlbook",  # deterministic SVG ids
    })


def _axes(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history, ax=None, *, metric: str = "loss", log: bool = False):
    """Training (solid) and validation (dashed) curves of ``metric`` per epoch.

    ``history`` is a :class:`dlbook_utils.train.History` or any dict of lists, e.g. Keras'
    ``model.fit(...).history``.  Epochs are numbered from 1.
    """
    ax = _axes(ax)
    train_values = list(history.get(metric, []))
    if not train_values:
        raise ValueError(f"plot_history: history has no {metric!r} values "
                         f"(keys with values: {[k for k, v in history.items() if len(v)]})")
    epochs = np.arange(1, len(train_values) + 1)
    (line,) = ax.plot(epochs, train_values, label=f"training {metric}")
    val = list(history.get(f"val_{metric}", []))
    if val:
        ax.plot(np.arange(1, len(val) + 1), val, "--", color=line.get_color(),
                label=f"validation {metric}")
    ax.set_xlabel("epoch")
    ax.set_ylabel({"loss": "loss", "acc": "accuracy", "accuracy": "accuracy"}.get(metric, metric))
    if log:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_decision_boundary(predict_fn, X, y, ax=None, *, resolution: int = 200,
                           margin: float = 0.25):
    """Colour the plane by the class ``predict_fn`` assigns; draw the points on top.

    ``predict_fn`` maps an ``(m, 2)`` array to ``(m,)`` class labels, or to ``(m, k)`` scores
    (the arg-max is taken), or to ``(m, 1)`` logits (positive means class 1).
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary expected X of shape (n, 2), got {X.shape}")
    ax = _axes(ax, figsize=(4.5, 4.0))
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype)
    out = np.asarray(predict_fn(grid))
    if out.ndim == 2 and out.shape[1] > 1:
        labels = out.argmax(axis=1)
    elif out.ndim == 2 or out.dtype.kind == "f":
        labels = (out.reshape(-1) > 0).astype(int)
    else:
        labels = out
    classes = np.unique(np.concatenate([np.unique(y), np.unique(labels)])).astype(int)
    cmap = mpl.colors.ListedColormap(OKABE_ITO[:max(classes.max() + 1, 2)])
    norm = mpl.colors.BoundaryNorm(np.arange(cmap.N + 1) - 0.5, cmap.N)
    ax.contourf(gx, gy, labels.reshape(gx.shape), levels=np.arange(cmap.N + 1) - 0.5,
                cmap=cmap, norm=norm, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, norm=norm, s=14, edgecolors="white",
               linewidths=0.4)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    return ax


def show_images(images, labels=None, *, ncols: int = 8, cmap: str = "gray_r",
                size: float = 1.2, vmin=None, vmax=None):
    """A grid of images (n, h, w) or (n, h, w, c) with optional titles; returns the Figure."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"show_images expected (n, h, w) or (n, h, w, c), got {images.shape}")
    n = len(images)
    if labels is not None and len(labels) != n:
        raise ValueError(f"show_images got {n} images but {len(labels)} labels")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2 * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=None if images.ndim == 4 else cmap, vmin=vmin, vmax=vmax,
                      interpolation="nearest")
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    return fig


def plot_trajectories(f, paths: dict, levels=20, ax=None, *, extent=None, resolution=200):
    """Contours of ``f(x, y)`` with one optimisation path per name: ``{name: (T, 2) array}``.

    ``f`` takes two arrays of the same shape and returns their values elementwise.  ``extent``
    is ``(xmin, xmax, ymin, ymax)``; default: the paths' bounding box with a margin.
    """
    ax = _axes(ax, figsize=(5.5, 4.2))
    arrays = {name: np.asarray(p, dtype=float) for name, p in paths.items()}
    for name, p in arrays.items():
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"plot_trajectories: path {name!r} must have shape (T, 2), "
                             f"got {p.shape}")
    if extent is None:
        pts = np.concatenate(list(arrays.values()))
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.15 * np.maximum(hi - lo, 1e-3)
        extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    gx, gy = np.meshgrid(np.linspace(extent[0], extent[1], resolution),
                         np.linspace(extent[2], extent[3], resolution))
    ax.contour(gx, gy, f(gx, gy), levels=levels, colors="0.6", linewidths=0.7)
    for name, p in arrays.items():
        (line,) = ax.plot(p[:, 0], p[:, 1], ".-", markersize=3, label=name)
        ax.plot(*p[-1], "o", color=line.get_color(), markersize=6)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.grid(False)
    ax.legend()
    return ax


def plot_function_and_grad(f, grad, x=None, ax=None, *, names=("f(z)", "f'(z)")):
    """Plot a 1-D function and its derivative on one Axes (solid and dashed)."""
    ax = _axes(ax, figsize=(5.0, 3.2))
    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x)
    ax.plot(x, f(x), label=names[0])
    ax.plot(x, grad(x), "--", label=names[1])
    ax.axhline(0, color="0.5", linewidth=0.6)
    ax.set_xlabel("z")
    ax.legend()
    return ax


def _per_seed(name, values, ndim: int) -> np.ndarray:
    """Per-seed numbers from an array or from a result with ``.scores``, as float64."""
    values = np.asarray(getattr(values, "scores", values), dtype=np.float64)
    if values.ndim != ndim or len(values) < 2:
        shape = "(n_seeds, n_epochs)" if ndim == 2 else "(n_seeds,)"
        raise ValueError(f"{name!r}: expected {shape} values from at least 2 seeds, "
                         f"got shape {values.shape}")
    return values


def plot_curves_with_bands(curves: dict, ax=None, *, ylabel: str = "validation accuracy",
                           confidence: float = 0.95):
    """Mean curve per name with a band of its Student-t interval across seeds, per epoch.

    ``curves``: ``{name: (n_seeds, n_epochs) array}``, e.g. ``results.curves("val_acc")``;
    NaN marks epochs after a run stopped early. The band is mean ± t s/√n over the seeds
    (dlbook_utils.intervals). Once a run has stopped, the mean of the runs still going is
    dotted and has no band: it is a mean over fewer, self-selected runs.
    """
    from .intervals import mean_and_half_width

    ax = _axes(ax)
    for name, values in curves.items():
        values = _per_seed(name, values, 2)
        mean, half = mean_and_half_width(values, axis=0, confidence=confidence)
        epochs = np.arange(1, values.shape[1] + 1)
        complete = np.isfinite(values).all(axis=0)
        last = int(np.argmin(complete)) if not complete.all() else len(epochs)
        (line,) = ax.plot(epochs[:last], mean[:last], label=f"{name} (n = {len(values)})")
        ax.fill_between(epochs[:last], (mean - half)[:last], (mean + half)[:last],
                        color=line.get_color(), alpha=0.2, linewidth=0)
        if last < len(epochs):
            ax.plot(epochs[last - 1:], mean[last - 1:], ":", color=line.get_color())
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_ylabel(f"{ylabel} (mean, {confidence * 100:g} % CI)")
    ax.legend()
    return ax


def plot_bars_with_intervals(scores: dict, ax=None, *, ylabel: str = "test accuracy",
                             confidence: float = 0.95, zoom: bool = False):
    """One bar per name at the mean over seeds, its Student-t interval, and each seed as a dot.

    ``scores``: ``{name: (n_seeds,) array}`` or results with ``.scores`` (run_seeds, final_test).
    The dots show what the interval summarizes: with 5 seeds, every seed is visible. Bars start
    at 0; ``zoom=True`` limits the y axis to the intervals and dots, for differences of a few
    tenths of a percent (say so in the caption: the bars' heights are then not to scale).
    """
    from .intervals import t_interval

    ax = _axes(ax)
    rng = np.random.default_rng(0)  # fixed horizontal jitter: the figure is the same every run
    shown = []  # every y value drawn: interval ends and seeds
    for i, (name, values) in enumerate(scores.items()):
        values = _per_seed(name, values, 1)
        interval = t_interval(values, confidence)
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        ax.bar(i, interval.mean, width=0.6, color=colour, alpha=0.35)
        ax.errorbar(i, interval.mean, yerr=interval.half_width, color=colour, capsize=6,
                    linewidth=1.8)
        ax.plot(i + rng.uniform(-0.12, 0.12, len(values)), values, "o", color=colour,
                markersize=4)
        shown += [interval.low, interval.high, *values]
    ax.set_xticks(range(len(scores)), list(scores))
    if zoom:
        shown = np.array(shown)
        span = np.ptp(shown) or 1.0
        ax.set_ylim(shown.min() - 0.15 * span, shown.max() + 0.15 * span)
    ax.set_ylabel(f"{ylabel} (mean, {confidence * 100:g} % CI)")
    ax.grid(axis="x", visible=False)
    return ax
