"""Plot a learning-curve history with each finding's evidence shaded and labelled. matplotlib is imported only
when a plot is drawn; nothing here calls ``plt.show()``."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .records import CurveHistory, Report

__all__ = ["plot_diagnosis"]

_COLORS = {
    "diverged": "tab:red",
    "lr_too_high": "tab:orange",
    "bad_init": "tab:brown",
    "early_decay": "tab:purple",
    "overfitting": "tab:pink",
    "underfitting": "tab:olive",
    "plateau": "tab:cyan",
    "still_improving": "tab:green",
}
_QUIET = ("healthy", "insufficient_data")


def _finite(a: np.ndarray | None) -> np.ndarray:
    return np.empty(0) if a is None else a[np.isfinite(a)]


def _use_log(*series: np.ndarray | None) -> bool:
    vals = np.concatenate([_finite(s) for s in series]) if series else np.empty(0)
    return bool(vals.size and vals.min() > 0 and vals.max() / vals.min() > 20)


def _mark_non_finite(ax, x: np.ndarray, y: np.ndarray | None, color: str, label: str) -> None:
    """Non-finite points cannot be drawn: mark them with an x along the top edge."""
    if y is None:
        return
    bad = ~np.isfinite(y) & ~np.isnan(y) | (np.isnan(y) & (np.cumsum(np.isfinite(y)) > 0))
    if bad.any():
        ax.plot(
            x[bad], np.full(int(bad.sum()), 0.97), "x", color=color, transform=ax.get_xaxis_transform(), ms=6,
            label=f"{label}: NaN/inf",
        )


def plot_diagnosis(history: CurveHistory, report: Report | None = None, axes: Any = None, *, title: str | None = None):
    """The curves of ``history`` (loss; the metric and the LR when logged), each finding's evidence span shaded and
    labelled. ``axes``: one Axes (loss panel only) or a sequence of up to three. Returns a 1-D array of the Axes
    drawn on, loss panel first. ``report`` defaults to ``diagnose(history)``.

    Examples:
      >>> from lrfinder.diagnose import CurveHistory, Finding, Report
      >>> h = CurveHistory(epochs=range(6), train_loss=[2, 1, .5, .3, .2, .1], val_loss=[2, 1.1, .8, .9, 1, 1.2])
      >>> f = Finding("overfitting", 0.8, "warning", "val_loss up 50% from its minimum", "regularise", span=(2, 5))
      >>> axs = plot_diagnosis(h, Report(findings=(f,), num_points=6))
      >>> len(axs), axs[0].get_ylabel()
      (1, 'loss')
    """
    from ..plotting import require_matplotlib

    plt = require_matplotlib()
    if report is None:
        from .rules import diagnose

        report = diagnose(history)
    x = np.asarray(history.epochs, dtype=float)
    has_metric = any(s is not None and np.isfinite(s).any() for s in (history.train_acc, history.val_acc))
    has_lr = history.lr is not None and np.isfinite(history.lr).any()
    panels = ["loss"] + (["metric"] if has_metric else []) + (["lr"] if has_lr else [])
    if axes is None:
        ratios = [2.2] + [1.0] * (len(panels) - 1)
        _, axs = plt.subplots(
            len(panels), 1, sharex=True, figsize=(8, 3.2 + 1.6 * (len(panels) - 1)), squeeze=False,
            gridspec_kw={"height_ratios": ratios},
        )
        axs = axs[:, 0]
    else:
        axs = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
        panels = panels[: len(axs)]
        axs = axs[: len(panels)]
    marker = "." if x.size <= 60 else None

    ax = axs[0]
    for name, color in (("train_loss", "tab:blue"), ("val_loss", "tab:orange")):
        y = getattr(history, name)
        if y is not None:
            ax.plot(x, y, color=color, marker=marker, ms=4, lw=1.4, label=name.replace("_", " "))
            _mark_non_finite(ax, x, y, color, name.replace("_", " "))
    if _use_log(history.train_loss, history.val_loss):  # spans decades (MSE near 0, or an explosion)
        ax.set_yscale("log")
    if history.num_classes is not None and history.loss_kind in (None, "cross_entropy"):
        ax.axhline(math.log(history.num_classes), color="0.5", ls=":", lw=1, label=f"chance: ln {history.num_classes}")
    ax.set_ylabel("loss")

    for panel, pax in zip(panels[1:], axs[1:]):
        if panel == "metric":
            for name, color in (("train_acc", "tab:blue"), ("val_acc", "tab:orange")):
                y = getattr(history, name)
                if y is not None:
                    label = name.replace("acc", history.metric_name).replace("_", " ")
                    pax.plot(x, y, color=color, marker=marker, ms=3, lw=1.2, ls="--", label=label)
            pax.set_ylabel(history.metric_name)
        else:
            pax.plot(x, history.lr, color="0.3", lw=1.2, drawstyle="steps-post", label="learning rate")
            if _use_log(history.lr):
                pax.set_yscale("log")
            pax.set_ylabel("lr")

    shown = [f for f in report.findings if f.code not in _QUIET and f.span is not None]
    mid = (np.nanmin(x) + np.nanmax(x)) / 2 if x.size else 0.0
    for i, f in enumerate(shown):
        color = _COLORS.get(f.code, "tab:gray")
        lo, hi = float(f.span[0]), float(f.span[1])
        for pax in axs:
            if hi > lo:
                pax.axvspan(lo, hi, color=color, alpha=0.13, lw=0)
            else:
                pax.axvline(lo, color=color, alpha=0.6, lw=2)
        right = lo > mid  # keep the label inside the axes
        ax.text(
            hi if right else lo, 0.99 - 0.075 * i, f" {f.code} ({f.confidence:.2f}) ",
            transform=ax.get_xaxis_transform(), color=color, fontsize=8, va="top", ha="right" if right else "left",
            fontweight="bold",
        )
    for pax in axs:
        pax.grid(True, alpha=0.25)
        if pax.get_legend_handles_labels()[0]:
            pax.legend(fontsize=7, loc="best")
    axs[-1].set_xlabel(history.x_unit)
    verdict = ", ".join(report.codes) or "no findings"
    name = os.path.basename(history.source.rstrip("/")) if history.source else "history"
    ax.set_title(title if title is not None else f"{name}: {verdict}", fontsize=10)
    return axs
