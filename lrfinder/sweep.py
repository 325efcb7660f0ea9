"""Coarse-to-fine LR sweep: short runs on a log grid around the range test's finding, runs the diagnostics call
diverged or ``lr_too_high`` pruned, then longer runs on a finer grid around the best survivors.

You bring the training: ``train_fn(lr, epochs) -> history``, where the history is a
:class:`~lrfinder.diagnose.CurveHistory` or a dict of per-epoch (or per-step) lists (``train_loss``, ``val_loss``,
``train_acc``, ``val_acc``, ``lr``, or the Keras/Lightning names :func:`lrfinder.diagnose.read_history` knows;
optionally ``x_unit``, ``num_classes``, ``loss_kind``).

Examples:
  >>> import math
  >>> def train_fn(lr, epochs):  # a toy whose final loss is best at lr = 0.01
  ...     final = 0.2 + (math.log10(lr) + 2) ** 2
  ...     return {"val_loss": [final + 1.0 / (e + 1) for e in range(epochs)]}
  >>> healthy = lambda history: Report(findings=(), num_points=len(history))
  >>> result = lr_sweep(train_fn, around=0.01, coarse_points=5, fine_points=3, diagnose_fn=healthy)
  >>> round(result.chosen_lr, 6), len(result.coarse), len(result.fine)
  (0.01, 5, 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from numbers import Real
from typing import Any, ClassVar

import numpy as np

from ._checks import int_at_least
from ._jsonio import JsonRecord, finite_or_none, nan_if_none
from .diagnose.records import CurveHistory, Report
from .records import SCHEMA_VERSION, RangeTestResult, _check_schema

__all__ = ["DEFAULT_PRUNE", "SweepResult", "SweepRun", "as_history", "lr_sweep", "plot_sweep"]

#: Diagnosis codes that prune a run.
DEFAULT_PRUNE = ("diverged", "lr_too_high")
#: Codes that can only hold from some LR upwards. A run flagged with one is pruned only if every run of its stage
#: at a higher LR is flagged too: a flag below an unflagged LR is contradicted by the grid (noise, not the LR).
MONOTONE_CODES = ("lr_too_high",)
#: Runs whose metric is within this fraction of the best are reported as tied with it.
TIE = 0.01
STAGES = ("coarse", "fine")
_META_KEYS = ("x_unit", "num_classes", "loss_kind", "metric_name", "source")
_METRICS = ("val_loss", "train_loss", "val_acc", "train_acc")


def as_history(history: Any, *, source: str = "") -> CurveHistory:
    """A :class:`CurveHistory` from what a ``train_fn`` returned: a history, or anything
    :func:`lrfinder.diagnose.read_history` reads (a dict of lists with Keras/Lightning-style names such as ``loss``,
    ``val_accuracy``; a list of row dicts; a Keras ``History``). The dict may also carry ``x_unit``,
    ``num_classes``, ``loss_kind``, ``metric_name`` and ``source``.

    Examples:
      >>> h = as_history({"loss": [2.0, 1.0], "val_accuracy": [0.5, 0.7], "x_unit": "step"})
      >>> h.train_loss.tolist(), h.val_acc.tolist(), h.x_unit
      ([2.0, 1.0], [0.5, 0.7], 'step')
    """
    if isinstance(history, CurveHistory):
        return history
    from .diagnose.readers import read_history

    meta: dict[str, Any] = {}
    if isinstance(history, Mapping):
        meta = {k: history[k] for k in _META_KEYS if k in history}
        history = {k: v for k, v in history.items() if k not in meta}
    elif not isinstance(history, (list, tuple)) and not hasattr(history, "history"):
        raise TypeError(f"train_fn must return a CurveHistory or a dict of lists, got {type(history).__name__}")
    h = read_history(history, num_classes=meta.get("num_classes"), loss_kind=meta.get("loss_kind"))
    changes = {k: meta[k] for k in ("x_unit", "metric_name") if k in meta}
    changes["source"] = meta.get("source", source or h.source)
    return replace(h, **changes)


# -- records -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SweepRun:
    """One training run of a sweep: its LR, stage, metric, diagnosis and, if pruned, why."""

    lr: float
    stage: str
    epochs: int
    final: float
    best: float
    codes: tuple[str, ...]
    pruned: str | None
    history: CurveHistory
    report: Report | None = None

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}")
        object.__setattr__(self, "codes", tuple(self.codes))

    @property
    def kept(self) -> bool:
        return self.pruned is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "stage": self.stage,
            "epochs": self.epochs,
            "final": finite_or_none(self.final),
            "best": finite_or_none(self.best),
            "codes": list(self.codes),
            "pruned": self.pruned,
            "history": self.history.to_dict(),
            "report": None if self.report is None else self.report.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepRun:
        return cls(
            lr=float(data["lr"]),
            stage=data["stage"],
            epochs=int(data["epochs"]),
            final=nan_if_none(data.get("final")),
            best=nan_if_none(data.get("best")),
            codes=tuple(data.get("codes") or ()),
            pruned=data.get("pruned"),
            history=CurveHistory.from_dict(data["history"]),
            report=None if data.get("report") is None else Report.from_dict(data["report"]),
        )


@dataclass(frozen=True, eq=False)
class SweepResult(JsonRecord):
    """The runs of a coarse-to-fine sweep, the LR it chose (``None`` when every run was pruned) and the evidence.

    ``metric`` is the series runs are compared on (``mode`` ``"min"`` or ``"max"``), by its final value
    (``score="final"``) or its best (``"best"``). ``notes`` are caveats worth reading before trusting the choice.
    """

    runs: tuple[SweepRun, ...]
    metric: str
    mode: str
    score: str
    chosen_lr: float | None
    evidence: str
    notes: tuple[str, ...] = ()
    center: float | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    schema_version: ClassVar[int] = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "runs", tuple(self.runs))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "config", dict(self.config))

    @property
    def coarse(self) -> tuple[SweepRun, ...]:
        return tuple(r for r in self.runs if r.stage == "coarse")

    @property
    def fine(self) -> tuple[SweepRun, ...]:
        return tuple(r for r in self.runs if r.stage == "fine")

    @property
    def chosen(self) -> SweepRun | None:
        """The run the chosen LR comes from."""
        if self.chosen_lr is None:
            return None
        stage = "fine" if any(r.lr == self.chosen_lr and r.stage == "fine" for r in self.runs) else "coarse"
        return next(r for r in self.runs if r.lr == self.chosen_lr and r.stage == stage)

    def value(self, run: SweepRun) -> float:
        return run.final if self.score == "final" else run.best

    def table(self) -> str:
        """One line per run: stage, LR, epochs, final and best metric, diagnosis codes, why pruned."""
        head = f"{'stage':<7}{'lr':>10}{'epochs':>8}{'final ' + self.metric:>18}{'best':>10}  diagnosis / pruned"
        lines = [head]
        for r in self.runs:
            mark = " <- chosen" if r is self.chosen else ""
            why = f"PRUNED: {r.pruned}" if r.pruned else ", ".join(r.codes) or "-"
            lines.append(f"{r.stage:<7}{r.lr:>10.3g}{r.epochs:>8d}{r.final:>18.4g}{r.best:>10.4g}  {why}{mark}")
        return "\n".join(lines)

    def summary(self) -> str:
        chosen = "none" if self.chosen_lr is None else f"{self.chosen_lr:.3g}"
        lines = [f"LR sweep on {self.metric} ({self.mode}, {self.score} value): chosen lr = {chosen}", self.evidence]
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary() + "\n" + self.table()

    def plot(self, axes=None):
        """See :func:`plot_sweep`."""
        return plot_sweep(self, axes=axes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": "lr_sweep",
            "metric": self.metric,
            "mode": self.mode,
            "score": self.score,
            "chosen_lr": self.chosen_lr,
            "evidence": self.evidence,
            "notes": list(self.notes),
            "center": self.center,
            "config": dict(self.config),
            "runs": [r.to_dict() for r in self.runs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepResult:
        _check_schema(data, "lr_sweep")
        return cls(
            runs=tuple(SweepRun.from_dict(r) for r in data.get("runs") or ()),
            metric=data["metric"],
            mode=data["mode"],
            score=data.get("score", "final"),
            chosen_lr=data.get("chosen_lr"),
            evidence=data.get("evidence", ""),
            notes=tuple(data.get("notes") or ()),
            center=data.get("center"),
            config=data.get("config") or {},
        )


# -- the sweep ---------------------------------------------------------------------------------------------------
def _center_of(around: Any) -> float:
    if isinstance(around, RangeTestResult):
        s = around.suggestion
        if s.lr is None:
            raise ValueError(f"around: the range test gave no suggestion ({s.reason}); pass lrs=[...] instead")
        return float(s.lr)
    if isinstance(around, Real) and not isinstance(around, bool) and math.isfinite(around) and around > 0:
        return float(around)
    raise ValueError(f"around must be a RangeTestResult or an LR > 0, got around={around!r}")


def _metric_series(history: CurveHistory, metric: str) -> np.ndarray:
    values = getattr(history, metric)
    if values is None:
        raise ValueError(f"metric {metric!r} is not in the history train_fn returned (it has: "
                         f"{[m for m in _METRICS if getattr(history, m) is not None]})")
    return values


def _final_and_best(values: np.ndarray, mode: str) -> tuple[float, float]:
    """The last recorded (non-NaN: NaN means not logged) value, and the best finite one."""
    recorded = values[~np.isnan(values)]
    finite = recorded[np.isfinite(recorded)]
    if finite.size == 0:
        return math.nan, math.nan
    return float(recorded[-1]), float(finite.min() if mode == "min" else finite.max())


def _non_finite(history: CurveHistory, values: np.ndarray) -> str | None:
    if not np.isfinite(values).any():
        return "the metric has no finite value"
    for name in ("train_loss", "val_loss"):
        s = getattr(history, name)
        if s is not None and np.isinf(s).any():
            return f"{name} reached inf"
    tl = history.train_loss
    if tl is not None and np.isnan(tl[-1]) and np.isfinite(tl).any():
        return "train_loss ends in NaN"
    if np.isinf(values).any():
        return "the metric reached inf"
    return None


def _prune_reason(history: CurveHistory, values: np.ndarray, report: Report | None, prune: Sequence[str],
                  min_confidence: float) -> str | None:
    why = _non_finite(history, values)
    if why is not None:
        return f"non-finite: {why}"
    if report is not None:
        for f in report.findings:
            if f.code in prune and f.confidence >= min_confidence:
                return f"{f.code} ({f.confidence:.2f}): {f.evidence}"
    return None


def _monotone_flag(run: SweepRun, codes: Sequence[str], min_confidence: float):
    if run.report is None:
        return None
    return next((f for f in run.report.findings if f.code in codes and f.confidence >= min_confidence), None)


def _settle_monotone(stage_runs: list[SweepRun], prune: Sequence[str], min_confidence: float, metric: str
                     ) -> tuple[list[SweepRun], list[str]]:
    """Prune the stage's runs flagged with a monotone code (lr_too_high) from the lowest LR above which every run is
    flagged; keep the others, with a note. If every run is flagged, prune none: the grid cannot tell."""
    codes = [c for c in prune if c in MONOTONE_CODES]
    live = sorted((r for r in stage_runs if r.kept), key=lambda r: r.lr)
    flags = {id(r): _monotone_flag(r, codes, min_confidence) for r in live}
    flagged = [r for r in live if flags[id(r)] is not None]
    if not codes or not flagged:
        return stage_runs, []
    stage = stage_runs[0].stage
    if len(flagged) == len(live):
        code = flags[id(flagged[0])].code
        return stage_runs, [
            f"every {stage} run was diagnosed {code}, down to lr={live[0].lr:.3g}: either the whole grid is too high "
            "(move it lower) or the curves are too noisy for the diagnostics (log losses averaged over several "
            f"steps, not raw per-batch values); they were ranked on {metric} without pruning them for it"
        ]
    clean = max(r.lr for r in live if flags[id(r)] is None)
    out, ignored = [], []
    for r in stage_runs:
        f = flags.get(id(r))
        if f is not None and r.lr > clean:
            r = replace(r, pruned=f"{f.code} ({f.confidence:.2f}): {f.evidence}")
        elif f is not None:
            ignored.append(r.lr)
        out.append(r)
    notes = []
    if ignored:
        notes.append(
            f"{stage} run(s) at lr={', '.join(f'{v:.3g}' for v in ignored)} were diagnosed "
            f"{', '.join(codes)} but a higher LR ({clean:.3g}) was not: not pruned for it"
        )
    return out, notes


def _better(a: float, b: float, mode: str) -> bool:
    return a < b if mode == "min" else a > b


def _ranked(runs: Sequence[SweepRun], value: Callable[[SweepRun], float], mode: str) -> list[SweepRun]:
    kept = [r for r in runs if r.kept and math.isfinite(value(r))]
    return sorted(kept, key=lambda r: value(r) if mode == "min" else -value(r))


def lr_sweep(
    train_fn: Callable[[float, int], Any],
    *,
    around: RangeTestResult | float | None = None,
    lrs: Sequence[float] | None = None,
    decades: float = 1.5,
    coarse_points: int = 7,
    coarse_epochs: int = 3,
    fine_points: int = 5,
    fine_epochs: int = 10,
    keep: int = 1,
    metric: str = "auto",
    mode: str | None = None,
    score: str = "final",
    prune: Sequence[str] = DEFAULT_PRUNE,
    min_confidence: float = 0.5,
    diagnose_fn: Callable[[CurveHistory], Report] | None = None,
    on_run: Callable[[SweepRun], None] | None = None,
) -> SweepResult:
    """Coarse-to-fine LR sweep (steps 4 and 5 of the tuning recipe).

    1. Coarse: ``coarse_points`` LRs evenly spaced in log over ``around``'s LR ± ``decades`` (or exactly ``lrs``),
       ``coarse_epochs`` each. Every history is diagnosed; runs with a non-finite metric, or a finding in ``prune``
       (confidence >= ``min_confidence``), are pruned with the reason recorded. ``lr_too_high`` can only hold from
       some LR upwards, so it prunes a run only if every run of the stage at a higher LR has it too, and none if
       every run has it (the grid cannot tell then; a note says so).
    2. Fine: ``fine_points`` LRs from one coarse step below the best ``keep`` surviving runs to one step above
       them, ``fine_epochs`` each (``fine_points=0`` skips it). With ``keep=1`` and a metric that is unimodal in
       log LR, the optimum of the coarse runs lies within that step of the best one; the fine runs are longer, and
       the best LR for a longer run is often lower (short runs favour high LRs), so the step either side also covers
       that shift. An odd ``fine_points`` re-runs the best coarse LR.
    3. The chosen LR is the best surviving fine run (else coarse run) on ``metric``.

    Args:
      train_fn: ``train_fn(lr, epochs) -> history`` trains from scratch (same seed each time) and returns the
        history. Log several points per epoch (``x_unit="step"``) so the diagnostics can judge short runs, each the
        training loss averaged over the steps since the last point: raw per-batch losses read as oscillation.
      around: a range-test result (its suggestion is the centre) or an LR.
      metric: ``"val_loss"``, ``"train_loss"``, ``"val_acc"``, ``"train_acc"``; ``"auto"`` is ``val_loss`` when the
        histories have it, else ``train_loss``. ``mode`` (``"min"``/``"max"``) defaults from the name.
      score: compare runs on the ``"final"`` or the ``"best"`` value of ``metric``.
      diagnose_fn: ``history -> Report``; default :func:`lrfinder.diagnose.diagnose`.
      on_run: called with each :class:`SweepRun` as it finishes, for progress reporting (pruning for
        ``lr_too_high`` is settled when its stage ends: the result's table is final).
    """
    if not callable(train_fn):
        raise TypeError(f"train_fn must be callable(lr, epochs) -> history, got {train_fn!r}")
    if (around is None) == (lrs is None):
        raise ValueError("pass exactly one of around= (a range-test result or an LR) and lrs=[...]")
    if lrs is not None:
        grid = sorted({float(v) for v in lrs})
        if not grid or not all(math.isfinite(v) and v > 0 for v in grid):
            raise ValueError(f"lrs must be a non-empty list of LRs > 0, got lrs={list(lrs)!r}")
        center = None
    else:
        center = _center_of(around)
        coarse_points = int_at_least(coarse_points, "coarse_points", 2)
        if isinstance(decades, bool) or not isinstance(decades, Real) or not (0 < decades <= 6):
            raise ValueError(f"decades must be a number in (0, 6], got decades={decades!r}")
        grid = [center * 10**e for e in np.linspace(-decades, decades, coarse_points)]
    coarse_epochs = int_at_least(coarse_epochs, "coarse_epochs", 1)
    fine_points = int_at_least(fine_points, "fine_points", 0)
    fine_epochs = int_at_least(fine_epochs, "fine_epochs", 1)
    keep = int_at_least(keep, "keep", 1)
    if metric != "auto" and metric not in _METRICS:
        raise ValueError(f"metric must be 'auto' or one of {_METRICS}, got metric={metric!r}")
    if mode is not None and mode not in ("min", "max"):
        raise ValueError(f"mode must be None, 'min' or 'max', got mode={mode!r}")
    if score not in ("final", "best"):
        raise ValueError(f"score must be 'final' or 'best', got score={score!r}")
    if diagnose_fn is None:
        from .diagnose import diagnose as diagnose_fn  # the rules live there; imported only when a sweep runs

    state: dict[str, Any] = {"metric": None if metric == "auto" else metric, "mode": mode}
    runs: list[SweepRun] = []

    def run(lr: float, epochs: int, stage: str) -> SweepRun:
        history = as_history(train_fn(lr, epochs), source=f"{stage} lr={lr:.3g}")
        if state["metric"] is None:
            state["metric"] = "val_loss" if history.val_loss is not None else "train_loss"
        if state["mode"] is None:
            state["mode"] = "max" if state["metric"].endswith("acc") else "min"
        values = _metric_series(history, state["metric"])
        final, best = _final_and_best(values, state["mode"])
        report = diagnose_fn(history)
        codes = tuple(f.code for f in report.findings)
        hard = [c for c in prune if c not in MONOTONE_CODES]  # the monotone ones are settled per stage
        reason = _prune_reason(history, values, report, hard, min_confidence)
        r = SweepRun(lr=lr, stage=stage, epochs=epochs, final=final, best=best, codes=codes, pruned=reason,
                     history=history, report=report)
        runs.append(r)
        if on_run is not None:
            on_run(r)
        return r

    notes: list[str] = []

    def settle(stage: str) -> None:
        mine = [r for r in runs if r.stage == stage]
        if mine:
            settled, more = _settle_monotone(mine, prune, min_confidence, state["metric"])
            runs[len(runs) - len(mine):] = settled
            notes.extend(more)

    for lr in grid:
        run(lr, coarse_epochs, "coarse")
    settle("coarse")
    value = (lambda r: r.final) if score == "final" else (lambda r: r.best)
    m, md = state["metric"], state["mode"]
    coarse_ranked = _ranked(runs, value, md)
    fine_grid: list[float] = []
    if coarse_ranked and fine_points > 0:
        top = sorted(r.lr for r in coarse_ranked[:keep])
        step = (grid[-1] / grid[0]) ** (1 / (len(grid) - 1)) if len(grid) > 1 else 10**0.5
        lo, hi = top[0] / step, top[-1] * step  # a step either side: the longer runs' optimum may have moved
        fine_grid = [float(v) for v in np.geomspace(lo, hi, fine_points)] if fine_points > 1 else [
            math.sqrt(lo * hi)]
        for lr in fine_grid:
            run(lr, fine_epochs, "fine")
        settle("fine")
    fine_ranked = _ranked([r for r in runs if r.stage == "fine"], value, md)
    ranked = fine_ranked or coarse_ranked
    config = {
        "decades": None if lrs is not None else float(decades), "coarse_points": len(grid),
        "coarse_epochs": coarse_epochs, "fine_points": fine_points, "fine_epochs": fine_epochs, "keep": keep,
        "prune": list(prune), "min_confidence": float(min_confidence),
    }
    pruned = [r for r in runs if not r.kept]
    if not ranked:
        reasons = "; ".join(f"lr={r.lr:.3g}: {r.pruned}" for r in pruned[:4])
        evidence = (
            f"no LR chosen: all {len(runs)} runs were pruned ({reasons}). Every LR of the grid "
            f"({grid[0]:.2g}..{grid[-1]:.2g}) trains badly: move the grid lower, or check the model with "
            "lrfinder.sanity first"
        )
        return SweepResult(runs=tuple(runs), metric=m, mode=md, score=score, chosen_lr=None, evidence=evidence,
                           notes=(), center=center, config=config)
    chosen = ranked[0]
    stage_runs = [r for r in runs if r.stage == chosen.stage]
    evidence = (
        f"lr={chosen.lr:.3g}: {score} {m} {value(chosen):.4g} after {chosen.epochs} epochs, the best of "
        f"{len(stage_runs)} {chosen.stage} runs"
    )
    if len(ranked) > 1:
        evidence += f" (runner-up lr={ranked[1].lr:.3g}: {value(ranked[1]):.4g})"
    coarse_pruned = [r for r in runs if r.stage == "coarse" and not r.kept]
    evidence += f"; coarse grid {grid[0]:.2g}..{grid[-1]:.2g}, {len(grid)} runs of {coarse_epochs} epochs"
    if coarse_pruned:
        evidence += (f", {len(coarse_pruned)} pruned (from lr={min(r.lr for r in coarse_pruned):.2g}: "
                     f"{coarse_pruned[0].pruned.split(':')[0]})")
    if fine_points > 0 and not fine_ranked:
        notes.append(f"every fine run was pruned: the choice falls back to the best coarse run ({chosen.lr:.3g})")
    best_coarse = coarse_ranked[0] if coarse_ranked else None
    if best_coarse is not None and len(grid) > 2 and best_coarse.lr in (grid[0], grid[-1]):
        side = "lowest" if best_coarse.lr == grid[0] else "highest"
        notes.append(
            f"the best coarse run is at the {side} LR of the grid ({best_coarse.lr:.3g}): the optimum may lie "
            "beyond it; widen decades or move the grid"
        )
    if len(ranked) > 1 and value(chosen) != 0:
        tied = [r for r in ranked if abs(value(r) - value(chosen)) / abs(value(chosen)) < TIE]
        if len(tied) > 1:
            a, b = min(r.lr for r in tied), max(r.lr for r in tied)
            notes.append(
                f"{len(tied)} {chosen.stage} runs are within {TIE:.0%} of the best, from lr={a:.3g} to {b:.3g}: on "
                "one seed each, any LR in that range is as good on this evidence"
            )
    short = [r for r in runs if "insufficient_data" in r.codes]
    if short:
        notes.append(
            f"{len(short)} of {len(runs)} runs were too short for the diagnostics (insufficient_data): pruning "
            "relied on non-finite values there; log the history per step (x_unit='step') or run more epochs"
        )
    if chosen.report is not None:
        for f in chosen.report.problems:
            notes.append(f"the chosen run shows {f.code}: {f.evidence}" + (f" -> {f.advice}" if f.advice else ""))
    return SweepResult(runs=tuple(runs), metric=m, mode=md, score=score, chosen_lr=chosen.lr, evidence=evidence,
                       notes=tuple(notes), center=center, config=config)


# -- plot --------------------------------------------------------------------------------------------------------
def _chart_cap(values: np.ndarray, mode: str) -> float:
    """Where the metric axis stops, so that a diverged run does not flatten the runs worth comparing: two decades
    above the best of positive losses (drawn on a log axis), else ten median spreads from the best."""
    if values.size == 0 or mode == "max":
        return math.inf if mode == "min" else -math.inf
    best = float(values.min())
    if best > 0:
        return 100.0 * best
    return best + 10 * abs(float(np.median(values)) - best) + 1e-12


def _clip(value: float, cap: float, mode: str) -> float:
    if not math.isfinite(value):
        return cap
    return min(value, cap) if mode == "min" else max(value, cap)


def plot_sweep(result: SweepResult, axes=None, *, stage: str | None = None):
    """Two panels: the metric of every run vs its LR (coarse o, fine s, pruned x, chosen LR marked), and the
    curves of the ``stage`` runs (default: fine when there are any) coloured by LR. Returns the two ``Axes``.

    Examples:
      >>> h = CurveHistory(epochs=[1, 2, 3], val_loss=[1.0, 0.8, 0.7])
      >>> run = SweepRun(lr=0.01, stage="coarse", epochs=3, final=0.7, best=0.7, codes=(), pruned=None, history=h)
      >>> r = SweepResult(runs=(run,), metric="val_loss", mode="min", score="final", chosen_lr=0.01, evidence="")
      >>> ax_metric, ax_curves = plot_sweep(r)
      >>> ax_metric.get_xscale()
      'log'
    """
    from .plotting import require_matplotlib

    plt = require_matplotlib()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax_m, ax_c = axes
    finite = np.array([result.value(r) for r in result.runs if math.isfinite(result.value(r))])
    cap = _chart_cap(finite, result.mode)
    for st, marker, color in (("coarse", "o", "tab:blue"), ("fine", "s", "tab:green")):
        kept = [r for r in result.runs if r.stage == st and r.kept]
        gone = [r for r in result.runs if r.stage == st and not r.kept]
        if kept:
            ax_m.plot([r.lr for r in kept], [_clip(result.value(r), cap, result.mode) for r in kept], marker=marker,
                      ls="", color=color, ms=7, label=f"{st} ({kept[0].epochs} epochs)")
        if gone:
            ax_m.plot([r.lr for r in gone], [_clip(result.value(r), cap, result.mode) for r in gone], marker="x",
                      ls="", color="tab:red", ms=8, label=f"{st}: pruned")
    off = [r for r in result.runs if not (math.isfinite(result.value(r)) and _clip(result.value(r), cap,
                                                                                     result.mode) == result.value(r))]
    if off:
        ax_m.axhline(cap, color="0.6", ls=":", lw=1, label="off the chart (drawn at this line)")
    if result.chosen_lr is not None:
        ax_m.axvline(result.chosen_lr, color="tab:red", ls="--", lw=1.2, label=f"chosen lr={result.chosen_lr:.2g}")
    ax_m.set_xscale("log")
    if result.mode == "min" and finite.size and finite.min() > 0:
        ax_m.set_yscale("log")
    ax_m.set_xlabel("learning rate (log scale)")
    ax_m.set_ylabel(f"{result.score} {result.metric}")
    ax_m.set_title("LR sweep: metric vs LR", fontsize=10)
    ax_m.grid(True, which="both", alpha=0.25)
    ax_m.legend(fontsize=8)

    if stage is None:
        stage = "fine" if result.fine else "coarse"
    shown = [r for r in result.runs if r.stage == stage]
    cmap = plt.get_cmap("viridis")
    logs = np.log10([r.lr for r in shown]) if shown else np.array([0.0])
    span = float(logs.max() - logs.min()) or 1.0
    for r, lg in zip(shown, logs):
        ys = getattr(r.history, result.metric)
        if ys is None:
            continue
        logged = np.isfinite(ys)  # NaN: not logged at that step; drawn as one line through the logged points
        color = cmap(0.9 * (lg - logs.min()) / span)
        ax_c.plot(r.history.epochs[logged], ys[logged], color=color, lw=2.2 if r.lr == result.chosen_lr else 1.2,
                  marker="." if logged.sum() < 30 else None, ls="-" if r.kept else ":",
                  label=f"lr={r.lr:.2g}" + ("" if r.kept else " (pruned)"))
    ax_c.set_xlabel(shown[0].history.x_unit if shown else "epoch")
    ax_c.set_ylabel(result.metric)
    if result.mode == "min" and finite.size and finite.min() > 0:
        ax_c.set_yscale("log")
    ax_c.set_title(f"{stage} runs: {result.metric} per LR", fontsize=10)
    ax_c.grid(True, alpha=0.25)
    ax_c.legend(fontsize=7, ncol=2)
    return ax_m, ax_c
