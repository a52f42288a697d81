"""What each Snakemake rule runs: a ``*_job(job)`` function reads the files its rule names
(``job.input``, ``job.params``), calls the library, and writes its outputs; a script under
scripts/ does nothing but hand it to ``workflow.runtime.run``. One module per rule file of
workflow/rules/ (data, train, select, paths, geometry, curvature, crosscheck, figures,
report), except that the jobs a torch rule's results feed are kept apart from it, because
they run in the analysis environment, without torch, and must not rerun when a torch module
changes: ``barriers`` and ``toy`` (paths.smk's other rules), ``crosscheck_results`` (the
table and figure rules of curvature.smk and crosscheck.smk). ``landscapes`` builds the
network landscape that the path, curvature and Bezier jobs share; ``networks`` is the check
of the config's networks (a custom network's factory, one example of the data through it)
that the Snakefile runs while it builds the DAG. Jobs may import anything
in the package (the library, design, figures/, workflow/); nothing imports from jobs/
(tests/test_layout.py).
"""
