"""The plumbing that runs the study as a Snakemake workflow, with no science in it:
``runtime`` (a job's inputs, logging, threads), ``io`` (result files: weight vectors with
JSON sidecars, tables, atomic writes, checks on read), ``sets`` (reading a solution set),
``config`` (the schema and its checks), ``imports`` (the rules' code inputs: the import
closure of a script), ``checkpoint`` (resumable training), ``provenance``, ``mnist_files``
(the IDX files and their checksums), ``device`` and ``memory``. Workflow modules import only
the standard library, third-party packages, design and each other, never the library, jobs/
or figures/ (tests/test_layout.py); the ones the DAG is built with (config, imports,
mnist_files) import no torch, pandas or matplotlib (tests/test_planning.py).
"""
