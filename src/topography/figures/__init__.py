"""The figures of the study, drawn from its tidy tables with matplotlib and seaborn:
``style`` (labels, colours, atomic and reproducible saving), ``plots`` (loss curves,
distances, kernel PCA), ``barriers`` (paper Fig 4 / S2 and the budget figure),
``crosscheck`` (curvature and Bezier-against-Fourier) and ``toy`` (paper Fig 3). A plot
function takes a DataFrame and the paths to save to; reading the table is its job's (jobs/).
Figures may import the library, design and workflow/ (for atomic writes), never jobs/
(tests/test_layout.py).
"""
