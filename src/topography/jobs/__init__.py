"""What each Snakemake rule runs, one module per rule file of workflow/rules/ (data, train,
select, paths, geometry, curvature, crosscheck, figures, report), and ``landscapes``, the
network landscape on the prepared data that the path, curvature and Bezier jobs share.
A ``*_job(job)`` function reads the files its rule names (``job.input``, ``job.params``),
calls the library, and writes its outputs; a script under scripts/ does nothing but hand it
to ``workflow.runtime.run``. Jobs may import anything in the package: the library, design,
figures/ and workflow/; nothing imports from jobs/ (tests/test_layout.py).
"""
