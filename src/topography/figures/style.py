"""Labels, colours and figure output shared by every plot of the workflow."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window (also on clusters)
import matplotlib.pyplot as plt  # noqa: E402

from ..workflow.io import atomic_path  # noqa: E402

# The experiment's names (optimizers, sets, ...) are design's; here only how they look.
OPTIMIZER_LABELS = {"lbfgs": "L-BFGS-GSS", "sgd": "SGD"}
SET_LABELS = {
    "lbfgs-train": "BFGS-train",
    "lbfgs-test": "BFGS-test",
    "sgd-train": "SGD-train",
    "sgd-test": "SGD-test",
}
# The paper's colours: BFGS-train navy, BFGS-test light blue, SGD-train light red, SGD-test gold.
SET_COLORS = {
    "lbfgs-train": "#1f2f7a",
    "lbfgs-test": "#74b3e8",
    "sgd-train": "#f08080",
    "sgd-test": "#e6b422",
}
NETWORK_LABELS = {"fcp": "FCP", "lenet": "LeNet", "autoencoder": "Autoencoder", "lstm": "LSTM"}


def in_order(values, order) -> list[str]:
    """The distinct ``values``: those named in ``order`` first, in that order, then the
    rest in the order they first appear (e.g. a table's sets in the paper's order)."""
    present = list(dict.fromkeys(values))
    return [v for v in order if v in present] + [v for v in present if v not in order]


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
