"""Optimizers and the topography of neural-network loss landscapes: a reproduction.

The science library sits at the top of the package, one module per concern: ``landscape``
(a loss as a function of a flat weight vector, for many vectors at once), ``models`` (the
four networks, flat), ``optim`` (L-BFGS-GSS), ``pathfinder`` (FourierPathFinder),
``bezier`` (the quadratic Bezier curve), ``curvature`` (Hessian eigenvalues and trace),
``geometry`` (distances, kernel PCA), ``tables`` (tidy tables of path and curvature
records), ``claims`` (the statistics behind the paper's claims) and ``toy`` (the 2D landscape
of paper Fig 3), beside ``design``, which names the experiment with the standard library
alone. ``jobs/`` holds what each Snakemake rule runs, ``figures/`` the plots, and
``workflow/`` the plumbing (runtime, result files, config, code inputs, checkpoints).

The names a researcher needs are exported here, and imported on first use, so that
``import topography`` stays light (building the DAG imports design and workflow modules
without torch)::

    import topography
    net = topography.build_network("fcp")
    landscape = topography.NetworkLandscape(net, x, y)
    result = topography.find_path(landscape, w_a, w_b, topography.PathConfig())

The package's own modules, scripts and notebooks import from the defining module (``from
topography.pathfinder import find_path``), never these names: the rules' code inputs
follow import statements, not this table (tests/test_layout.py checks both).
"""

from __future__ import annotations

import importlib

# name -> the module that defines it
API = {
    "Landscape": "landscape",
    "FunctionLandscape": "landscape",
    "NetworkLandscape": "landscape",
    "build_network": "models",
    "FlatNetwork": "models",
    "LBFGSGSS": "optim",
    "PathConfig": "pathfinder",
    "PathResult": "pathfinder",
    "find_path": "pathfinder",
    "BezierConfig": "bezier",
    "BezierPath": "bezier",
    "find_bezier_path": "bezier",
    "CurvatureConfig": "curvature",
    "measure_curvature": "curvature",
}
__all__ = sorted(API)


def __getattr__(name: str):
    if name not in API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{API[name]}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *API})
