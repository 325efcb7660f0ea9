"""Which column of a training log holds which series: automatic mapping of column names to roles.

A *role* is one of :data:`ROLES`. Names are compared after normalisation (lower case, spaces and dashes as ``_``).
The mapping tries, per role: an explicit override, then a list of well-known names in priority order, then a
token rule (e.g. any ``*val*loss*`` column). YOLO-style loss components (``train/box_loss``, ``train/cls_loss``,
...) with no total column are summed into the total.

Pure Python: no numpy, torch or matplotlib.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["ROLES", "SERIES_ROLES", "ColumnMatch", "match_columns", "normalize"]

#: Roles a column can play: the x axis (``epoch``/``step``) and the series of a :class:`CurveHistory`.
ROLES = ("epoch", "step", "train_loss", "val_loss", "train_acc", "val_acc", "lr")
SERIES_ROLES = ("train_loss", "val_loss", "train_acc", "val_acc", "lr")

# Well-known names per role (normalised), best first.
_KNOWN: dict[str, tuple[str, ...]] = {
    "epoch": ("epoch", "epochs", "ep", "epoch_num", "epoch_idx", "trainer/epoch"),
    "step": ("step", "global_step", "steps", "iteration", "iterations", "iter", "it", "trainer/global_step", "_step"),
    "train_loss": (
        "train_loss_epoch", "train_loss", "loss_epoch", "loss", "training_loss", "train/loss_epoch", "train/loss",
        "loss/train", "train/epoch_loss", "epoch_loss", "train_epoch_loss", "avg_train_loss", "mean_train_loss",
        "loss_train", "trn_loss", "tr_loss", "main/loss", "train_loss_step", "train/loss_step", "loss_step",
    ),
    "val_loss": (
        "val_loss_epoch", "val_loss", "valid_loss", "validation_loss", "eval_loss", "val/loss", "valid/loss",
        "validation/loss", "eval/loss", "loss/val", "loss/valid", "loss/validation", "validation/epoch_loss",
        "val_epoch_loss", "avg_val_loss", "loss_val", "dev_loss", "test_loss", "test/loss", "loss/test",
        "validation/main/loss", "val_loss_step",
    ),
    "train_acc": (
        "train_acc_epoch", "train_acc", "accuracy", "acc", "train_accuracy", "training_accuracy", "train/acc",
        "train/accuracy", "acc/train", "accuracy/train", "train/epoch_accuracy", "epoch_accuracy",
        "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy", "main/accuracy", "train_acc_step",
    ),
    "val_acc": (
        "val_acc_epoch", "val_acc", "val_accuracy", "valid_acc", "valid_accuracy", "validation_accuracy",
        "eval_accuracy", "eval_acc", "val/acc", "val/accuracy", "valid/acc", "acc/val", "accuracy/val",
        "acc/valid", "validation/epoch_accuracy", "val_categorical_accuracy", "val_sparse_categorical_accuracy",
        "val_binary_accuracy", "validation/main/accuracy", "test_acc", "test_accuracy", "test/acc", "val_acc_step",
    ),
    "lr": (
        "lr", "learning_rate", "lr_epoch", "lr/pg0", "x/lr0", "lr0", "learningrate", "train/lr", "train/learning_rate",
        "epoch_learning_rate", "train/epoch_learning_rate", "epoch_lr", "lr_step",
    ),
}

# Higher-is-better metrics used for the val/train "accuracy" slot when no accuracy is logged: name -> label.
_METRICS: tuple[tuple[str, str], ...] = (
    ("metrics/map50(b)", "mAP50"),
    ("metrics/map_0.5", "mAP50"),
    ("metrics/map50", "mAP50"),
    ("map50", "mAP50"),
    ("map_50", "mAP50"),
    ("map", "mAP"),
    ("f1", "f1"),
    ("f1_score", "f1"),
    ("macro_f1", "f1"),
    ("auc", "auc"),
    ("roc_auc", "auc"),
    ("auroc", "auc"),
    ("iou", "iou"),
    ("miou", "iou"),
    ("mean_iou", "iou"),
    ("dice", "dice"),
    ("top1", "top1"),
    ("acc1", "top1"),
    ("top1_acc", "top1"),
)

_TRAIN_TOKENS = {"train", "training", "trn", "tr"}
_VAL_TOKENS = {"val", "valid", "validation", "eval", "evaluation", "dev", "test"}
_ACC_TOKENS = {"acc", "accuracy"}
_NEUTRAL_TOKENS = {"epoch", "step", "avg", "mean", "total", "loss", "main", "epoch_loss"}
_SPLIT = re.compile(r"[_/.\s:]+")


def normalize(name: str) -> str:
    """Normalised column name: trimmed, lower case, spaces and dashes as ``_``.

    Examples:
      >>> normalize("  Val Loss ")
      'val_loss'
      >>> normalize("lr-SGD")
      'lr_sgd'
    """
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _tokens(norm: str) -> list[str]:
    return [t for t in _SPLIT.split(norm) if t]


@dataclass(frozen=True)
class ColumnMatch:
    """Columns chosen for each role (several columns are summed), and the name of the accuracy-like metric."""

    roles: Mapping[str, tuple[str, ...]]
    metric_name: str = "accuracy"
    summed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, role: str) -> tuple[str, ...] | None:
        return self.roles.get(role)


def _split_of(tokens: list[str]) -> str | None:
    """'train', 'val' or None for a column name's tokens."""
    t = set(tokens)
    if t & _VAL_TOKENS:
        return "val"
    if t & _TRAIN_TOKENS:
        return "train"
    return None


def _rank(tokens: list[str]) -> tuple[int, int]:
    """Prefer epoch aggregates over untagged names over step values, then shorter names."""
    tag = 0 if "epoch" in tokens else 2 if "step" in tokens else 1
    return tag, len(tokens)


def _loss_by_tokens(split: str, names: Sequence[str], norms: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    """Loss column(s) of ``split`` found by token rules: one total, or the sum of its components."""
    totals, parts = [], []
    for name, norm in zip(names, norms):
        toks = _tokens(norm)
        if not any(t == "loss" or t.endswith("loss") for t in toks) or _split_of(toks) != split:
            continue
        residual = [t for t in toks if t not in _NEUTRAL_TOKENS | _TRAIN_TOKENS | _VAL_TOKENS]
        residual = [t for t in residual if not (t.endswith("loss") and t[: -len("loss")] in ("", "epoch_"))]
        (parts if residual else totals).append((name, toks))
    if totals:
        return (min(totals, key=lambda nt: _rank(nt[1]))[0],), False
    steps = [p for p in parts if "step" in p[1]]
    if len(parts) > 1 and len(steps) < len(parts):  # components such as train/box_loss + train/cls_loss
        parts = [p for p in parts if "step" not in p[1]]
    if len(parts) > 1:
        return tuple(p[0] for p in parts), True
    if parts:
        return (parts[0][0],), False
    return (), False


def _acc_by_tokens(split: str, names: Sequence[str], norms: Sequence[str]) -> str | None:
    found = []
    for name, norm in zip(names, norms):
        toks = _tokens(norm)
        if set(toks) & _ACC_TOKENS and not {"top5", "top_5"} & set(toks) and _split_of(toks) == split:
            found.append((name, toks))
    return min(found, key=lambda nt: _rank(nt[1]))[0] if found else None


def _metric(split: str, names: Sequence[str], norms: Sequence[str]) -> tuple[str, str] | None:
    """A higher-is-better metric for the accuracy slot: (column, label)."""
    drop = _TRAIN_TOKENS | _VAL_TOKENS | {"epoch", "metrics"}
    cands = []
    for name, norm in zip(names, norms):
        toks = _tokens(norm)
        cands.append((name, norm, _split_of(toks), "_".join(t for t in toks if t not in drop)))
    for key, label in _METRICS:
        for name, norm, where, base in cands:
            if norm == key and split == "val" and "/" in key:  # e.g. YOLO's metrics/mAP50(B): a validation metric
                return name, label
            if where == split and base == key:
                return name, label
    return None


def _lr_by_pattern(names: Sequence[str], norms: Sequence[str]) -> str | None:
    found = []
    for name, norm in zip(names, norms):
        toks = _tokens(norm)
        if norm.startswith(("lr_", "lr/")) or "lr" in toks or "learning_rate" in norm:
            # Lightning's LearningRateMonitor: lr-SGD, lr-Adam/pg1, ...; prefer the first parameter group.
            pg = re.search(r"pg(\d+)$", norm)
            found.append(((int(pg.group(1)) if pg else -1, len(norm)), name))
    return min(found)[1] if found else None


def _resolve_override(role: str, value: str | Sequence[str], names: Sequence[str], source: str) -> tuple[str, ...]:
    wanted = [value] if isinstance(value, str) else list(value)
    if not wanted or not all(isinstance(w, str) for w in wanted):
        raise ValueError(f"columns[{role!r}] must be a column name or a list of names, got {value!r}")
    by_norm: dict[str, str] = {}
    for n in names:
        by_norm.setdefault(normalize(n), n)
    out = []
    for w in wanted:
        if w in names:
            out.append(w)
        elif normalize(w) in by_norm:
            out.append(by_norm[normalize(w)])
        else:
            where = f"{source}: " if source else ""
            raise ValueError(
                f"{where}columns[{role!r}] names column {w!r}, which is not in the log; "
                f"available columns: {', '.join(repr(n) for n in names)}"
            )
    return tuple(out)


def match_columns(
    names: Sequence[str],
    overrides: Mapping[str, str | Sequence[str] | None] | None = None,
    *,
    source: str = "",
) -> ColumnMatch:
    """Map log column ``names`` to roles; ``overrides`` (role -> column, list of columns to sum, or None to ignore
    the role) win over the automatic mapping.

    Examples:
      >>> m = match_columns(["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"])
      >>> dict(m.roles)["train_loss"], dict(m.roles)["val_acc"]
      (('loss',), ('val_accuracy',))
      >>> match_columns(["epoch", "train/box_loss", "train/cls_loss", "val/box_loss"]).roles["train_loss"]
      ('train/box_loss', 'train/cls_loss')
      >>> match_columns(["step", "my_loss"], {"train_loss": "my_loss"}).roles["train_loss"]
      ('my_loss',)
    """
    names = [n for n in names if isinstance(n, str)]
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(ROLES))
    if unknown:
        raise ValueError(f"columns has unknown role(s) {unknown}; roles are {list(ROLES)}")
    norms = [normalize(n) for n in names]
    first_of: dict[str, str] = {}
    for n, norm in zip(names, norms):
        first_of.setdefault(norm, n)

    roles: dict[str, tuple[str, ...]] = {}
    summed: dict[str, tuple[str, ...]] = {}
    metric_name = "accuracy"
    for role in ROLES:
        if role in overrides:
            if overrides[role] is not None:
                roles[role] = _resolve_override(role, overrides[role], names, source)
                if len(roles[role]) > 1:
                    summed[role] = roles[role]
            continue
        hit = next((first_of[k] for k in _KNOWN[role] if k in first_of), None)
        if hit is not None:
            roles[role] = (hit,)
            continue
        if role in ("train_loss", "val_loss"):
            cols, is_sum = _loss_by_tokens(role.split("_")[0], names, norms)
            if cols:
                roles[role] = cols
                if is_sum:
                    summed[role] = cols
        elif role in ("train_acc", "val_acc"):
            col = _acc_by_tokens(role.split("_")[0], names, norms)
            if col is None:
                found = _metric(role.split("_")[0], names, norms)
                if found is not None:
                    col, label = found
                    if role == "val_acc" or "val_acc" not in roles:
                        metric_name = label
            if col is not None:
                roles[role] = (col,)
        elif role == "lr":
            col = _lr_by_pattern(names, norms)
            if col is not None:
                roles[role] = (col,)
    # One column must not play two series roles (e.g. "loss" as train loss and a token rule's val loss).
    used: set[str] = set()
    for role in SERIES_ROLES:
        if role in roles and role not in overrides and used & set(roles[role]):
            del roles[role]
        used |= set(roles.get(role, ()))
    return ColumnMatch(roles=roles, metric_name=metric_name, summed=summed)
