"""Labels, colours and figure output shared by every plot of the workflow."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window (also on clusters)
import matplotlib.pyplot as plt  # noqa: E402

from ..workflow.io import atomic_path  # noqa: E402

# The experiment's names and labels (design.SET_LABELS, ...) are design's; here only how they look.
# The paper's colours: BFGS-train navy, BFGS-test light blue, SGD-train light red, SGD-test gold.
SET_COLORS = {
    "lbfgs-train": "#1f2f7a",
    "lbfgs-test": "#74b3e8",
    "sgd-train": "#f08080",
    "sgd-test": "#e6b422",
}


def in_order(values, order) -> list[str]:
    """The distinct ``values``: those named in ``order`` first, in that order, then the
    rest in the order they first appear (e.g. a table's sets in the paper's order)."""
    present = list(dict.fromkeys(values))
    return [v for v in order if v in present] + [v for v in present if v not in order]


def require_columns(table, what: str, columns) -> None:
    """Stop with a message naming ``what`` when the table to plot is empty or lacks any of
    ``columns``."""
    if table is None or table.empty:
        raise ValueError(f"{what} is empty: nothing to plot")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(missing)}")


def set_palette(sets) -> dict[str, str]:
    """Each set's colour, for seaborn's ``palette=`` (grey for a set not named here)."""
    return {s: SET_COLORS.get(s, "grey") for s in sets}


# No creation date in a PDF, so that redrawing the same figure gives the same bytes.
_METADATA = {".pdf": {"CreationDate": None}}


def save_figure(fig, *paths) -> None:
    """Save ``fig`` to each path (format from the suffix), atomically, then close it."""
    for path in paths:
        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=150, bbox_inches="tight", metadata=_METADATA.get(path.suffix))
    plt.close(fig)
