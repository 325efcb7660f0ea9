"""Plots of finished results. Each function draws on an ``Axes`` (a new one if none is given) and returns it;
nothing here calls ``plt.show()``. matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_range_test", "require_matplotlib", "save_figure"]


def require_matplotlib():
    """``matplotlib.pyplot``, or an ImportError that says how to get it."""
    try:
        import matplotlib

        if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from exc
    return plt


def save_figure(ax, path: str | os.PathLike[str], dpi: int = 150) -> str:
    """Save the figure that holds ``ax`` to ``path`` and close it; returns the path."""
    plt = require_matplotlib()
    fig = ax.figure
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return os.fspath(path)


def _robust_ylim(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    lo = float(np.min(finite))
    # Cap the top so that a diverged tail does not flatten the interesting part of the curve.
    head = finite[: max(3, finite.size // 10)]
    hi = float(min(np.max(finite), max(np.median(head), lo) * 1.5 + 1e-12))
    if hi <= lo:
        hi = lo + max(abs(lo) * 0.1, 1e-6)
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def plot_range_test(
    result: Any,
    ax=None,
    *,
    suggestions: Sequence[str] = ("default",),
    smoother: str | None = None,
    show_raw: bool = True,
    show_attempts: bool = True,
    show_repeats: bool = True,
    title: str | None = None,
):
    """Loss vs LR on a log axis: raw losses, the smoothed curve, and each suggestion with its good interval.

    With ``show_attempts``, the smoothed curves of earlier range tests that declined and were retried
    (``find_lr(..., retries=n)``: ``result.attempts``) are drawn as thin grey lines behind. With ``show_repeats``,
    a record of repeated tests (``find_lr(..., repeats=k)``) also shows each test's smoothed curve as a thin line
    and, where it gave one, its own default suggestion as a short tick (the default suggestion is their mean).

    Examples:
      >>> from lrfinder.records import RangeTestResult
      >>> import numpy as np
      >>> lrs = np.logspace(-5, 0, 50)
      >>> r = RangeTestResult(lrs=lrs, losses=2 - np.exp(-((np.log10(lrs) + 2) ** 2)))
      >>> ax = plot_range_test(r)
      >>> ax.get_xscale()
      'log'
    """
    plt = require_matplotlib()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    lrs = np.asarray(result.lrs, dtype=float)
    curve = np.asarray(result.curve, dtype=float)
    smoothed = result.smoothed(smoother)
    finite = curve[np.isfinite(curve)]
    if finite.size:  # a polynomial smoother can overshoot at a blow-up; never draw beyond what was measured
        smoothed = np.clip(smoothed, finite.min(), finite.max())
    which = "validation loss" if result.val_losses is not None else "loss"
    for i, earlier in enumerate(getattr(result, "attempts", ()) if show_attempts else ()):
        measured = earlier.curve[np.isfinite(earlier.curve)]
        drawn = earlier.smoothed(smoother)
        if measured.size:
            drawn = np.clip(drawn, measured.min(), measured.max())
        ax.plot(earlier.lrs, drawn, color="0.55", lw=1, ls="-.",
                label=f"attempt {i + 1}: no LR, retried" if i == 0 else f"attempt {i + 1}")
    rows = getattr(result, "repeat_losses", None)
    if show_repeats and rows is not None and result.val_losses is None:
        from .smoothing import DEFAULT_SMOOTHER, smooth

        per_test = result.suggest("default").details
        for i, row in enumerate(rows):
            measured = row[np.isfinite(row)]
            if measured.size < 2:
                continue
            drawn = np.clip(smooth(row, method=smoother or DEFAULT_SMOOTHER, lrs=lrs), measured.min(), measured.max())
            line = ax.plot(lrs, drawn, lw=0.8, alpha=0.6, color="tab:cyan",
                           label=f"each of the {rows.shape[0]} tests (smoothed)" if i == 0 else None)[0]
            lr_i = per_test.get(f"repeat_{i + 1}_lr")
            if lr_i is not None:
                ax.axvline(lr_i, ymax=0.06, color=line.get_color(), lw=1.5,
                           label="each test's default suggestion" if i == 0 else None)
    if show_raw:
        ax.plot(lrs, curve, color="tab:blue", alpha=0.3, lw=1, marker=".", ms=3, label=f"raw {which}")
        if result.val_losses is not None:
            ax.plot(lrs, result.losses, color="tab:gray", alpha=0.3, lw=1, label="raw training loss")
    ax.plot(lrs, smoothed, color="tab:blue", lw=2, label=f"smoothed {which}")
    colors = ["tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown"]
    for name, color in zip(suggestions, colors):
        s = result.suggest(name)
        if not s.ok:
            ax.text(
                0.02, 0.02, f"{name}: no suggestion: {s.reason}", transform=ax.transAxes, fontsize=8, color=color,
                va="bottom", wrap=True,
            )
            continue
        if s.interval is not None:
            ax.axvspan(s.interval[0], s.interval[1], color=color, alpha=0.12, lw=0)
        ax.axvline(s.lr, color=color, ls="--", lw=1.2, label=f"{name}: lr={s.lr:.2g}")
        if s.loss is not None and np.isfinite(s.loss):
            ax.plot([s.lr], [s.loss], marker="o", color=color, ms=7)
    if result.stop_reason in ("diverged", "non_finite") and result.stop_step is not None:
        ax.axvline(lrs[result.stop_step], color="0.4", ls=":", lw=1, label=f"stopped: {result.stop_reason}")
    ax.set_xscale("log")
    ylim = _robust_ylim(np.concatenate([smoothed[np.isfinite(smoothed)], curve[np.isfinite(curve)]]))
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel(which)
    ax.set_title(title or f"LR range test ({result.optimizer or 'optimizer'})", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="upper left")
    return ax
