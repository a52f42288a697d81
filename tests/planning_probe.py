"""Run by test_planning.py in a subprocess: build the DAG of the workflow in the current
directory (a dry run, through Snakemake's API), recording every import statement that the
workflow's own files execute (the Snakefile, the rule files, the package), and print them
as JSON: {"imports": [[file, module], ...], "rules": {rule: {"script": ..., "code": [...], "conda": ...}}}.

Snakemake itself may load more (its executor plugins do: the SLURM plugin imports pandas),
so the record is of import statements, not of sys.modules."""

import builtins
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path.cwd().resolve()
seen = []
_import = builtins.__import__


def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    caller = Path(sys._getframe(1).f_code.co_filename)
    if caller.is_absolute() and ROOT in caller.parents:
        module = name
        if level:
            module = importlib.util.resolve_name("." * level + name, (globals or {}).get("__package__") or "")
        seen.append((str(caller.relative_to(ROOT)), module))
    return _import(name, globals, locals, fromlist, level)


from snakemake.api import SnakemakeApi  # noqa: E402
from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings  # noqa: E402

builtins.__import__ = recording_import
with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(cores=1),
        config_settings=ConfigSettings(configfiles=[Path(p) for p in sys.argv[1:]]),
        snakefile=Path("Snakefile"),
        workdir=ROOT,
    )
    workflow.dag(DAGSettings()).execute_workflow(executor="dryrun")
    rules = {
        rule.name: dict(script=rule.script, conda=rule.conda_env,
                        code=list(rule.input.code) if "code" in rule.input._names else [])
        for rule in workflow._workflow.rules
    }
builtins.__import__ = _import
print(json.dumps(dict(imports=seen, rules=rules)))
