"""The SLURM profile on a real SLURM: a one-node cluster on 127.0.0.1, started here.

Debian's slurmctld, slurmd, slurm-client and munge are installed if missing (root and
apt-get needed; the test is skipped, saying why, only where they cannot be had). The
cluster is the kind the profile must survive: no accounting database (``sacct`` is
installed but answers "accounting storage is disabled", so job states come from
``squeue``, kept for a long ``MinJobAge``), and one node of 2 CPUs whose memory is less
than the path group would ask for without the profile's per-group cap.

The smoke preset runs through ``--profile profiles/slurm`` in a throw-away copy, with the
node's size given as the group cap (``--cores``, ``--resources mem_mb=``) as docs/cluster.md
tells a user to; then every job must have gone through SLURM, asked for no more than the
node has, kept its SLURM log, and the weights must equal a local run's byte for byte. The
daemons are stopped by their pids when the test ends, also when it fails.

    .venv/bin/python -m pytest -m slurm      # 25 min on the shared 2-core machine, 20 of them on SLURM
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from workflow_helpers import copy_workflow, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
PROGRAMS = ["munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scancel", "sinfo", "scontrol", "sacct"]
SBIN = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
NODE_CPUS = 2
NODE_MEM_MB = 4000  # less than the smoke path group's uncapped sum (12 jobs x 1,502 MB)
SNAKEMAKE_TIMEOUT_S = 3600  # a hang (the first failure) fails the test instead of blocking CI


def which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path=os.pathsep.join(SBIN))


def ensure_slurm_installed() -> dict[str, str]:
    """Paths of the programs, installing Debian's packages first where some are missing."""
    if all(which(p) for p in PROGRAMS):
        return {p: which(p) for p in PROGRAMS}
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(f"SLURM is not installed and cannot be: installing {' '.join(PACKAGES)} needs root and apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"Debian's SLURM packages are not available here ({' '.join(command)} failed):\n"
                        f"{(done.stdout + done.stderr)[-1500:]}")
    missing = [p for p in PROGRAMS if not which(p)]
    assert not missing, f"apt-get installed {PACKAGES} but these programs are still missing: {missing}"
    return {p: which(p) for p in PROGRAMS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SLURM_CONF = """\
ClusterName=topotest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# No accounting database: sacct has nothing to ask, job states come from slurmctld.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue for an hour (the profile's status command).
MinJobAge=3600
ReturnToService=2
# The node is the size stated below, whatever the machine running the test has.
SlurmdParameters=config_overrides
NodeName=node1 NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=debug Nodes=node1 Default=YES MaxTime=INFINITE State=UP
"""


class Cluster:
    """munged, slurmctld and slurmd in the foreground as children of this process."""

    def __init__(self, root: Path, programs: dict[str, str]):
        self.root, self.programs = root, programs
        self.daemons: list[subprocess.Popen] = []
        self.conf = root / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))

    def start(self) -> None:
        root = self.root
        for d in ("state", "spool", "munge"):
            (root / d).mkdir(mode=0o700, parents=True, exist_ok=True)
        key = root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        socket_path = root / "munge" / "munge.socket"
        self._spawn([self.programs["munged"], "--foreground", "--force", f"--key-file={key}",
                     f"--socket={socket_path}", f"--pid-file={root}/munge/munged.pid",
                     f"--log-file={root}/munge/munged.log", f"--seed-file={root}/munge/munged.seed"])
        self._wait(lambda: socket_path.exists(), "munged's socket", root / "munge" / "munged.log")
        self.conf.write_text(SLURM_CONF.format(
            host=socket.gethostname().split(".")[0], ctld_port=free_port(), slurmd_port=free_port(),
            munge_socket=socket_path, root=root, cpus=NODE_CPUS, mem_mb=NODE_MEM_MB))
        # Inside a job the slurm-jobstep plugin calls srun with every SLURM_* variable but the
        # job's ids removed, SLURM_CONF too: a real node finds its config in /etc/slurm (or
        # slurmd's cache); this cluster's is here, so the jobs' srun is told where.
        (root / "bin").mkdir(exist_ok=True)
        srun = root / "bin" / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {self.programs["srun"]} "$@"\n')
        srun.chmod(0o755)
        self.env["PATH"] = f"{root / 'bin'}{os.pathsep}{self.env['PATH']}"
        self._spawn([self.programs["slurmctld"], "-D", "-i", "-f", str(self.conf)])
        self._spawn([self.programs["slurmd"], "-D", "-N", "node1", "-f", str(self.conf)])
        self._wait(self._node_idle, "node1 idle in sinfo", root / "slurmctld.log")

    def _spawn(self, command: list[str]) -> None:
        log = open(self.root / f"{Path(command[0]).name}.stdout", "w")
        self.daemons.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env))

    def _node_idle(self) -> bool:
        done = self.run("sinfo", "--noheader", "--format=%T", check=False)
        return done.returncode == 0 and done.stdout.strip() == "idle"

    def _wait(self, ready, what: str, log: Path, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [d.args[0] for d in self.daemons if d.poll() is not None]
            assert not dead, f"{dead} exited while waiting for {what}; see {log}"
            time.sleep(0.5)
        raise AssertionError(f"no {what} after {timeout} s; see {log}")

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([self.programs[program], *args], env=self.env, capture_output=True, text=True,
                              timeout=60)
        if check:
            assert done.returncode == 0, f"{program} {' '.join(args)}: {done.stderr}"
        return done

    def jobs(self) -> dict[str, dict]:
        """SLURM job id -> name, CPUs, memory (MB), time limit and state, finished jobs included."""
        out = self.run("squeue", "--states=all", "--noheader", "--format=%i|%j|%C|%m|%l|%T").stdout
        fields = ("name", "cpus", "memory", "time_limit", "state")
        return {line.split("|")[0]: dict(zip(fields, line.split("|")[1:])) for line in out.splitlines() if line}

    def stop(self) -> None:
        if self.daemons and all(d.poll() is None for d in self.daemons):  # no job outlives the test
            ids = list(self.jobs())
            if ids:
                self.run("scancel", *ids, check=False)
                time.sleep(2)
        for daemon in reversed(self.daemons):  # slurmd, slurmctld, then munged: by their own pids
            if daemon.poll() is None:
                daemon.terminate()
                try:
                    daemon.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    programs = ensure_slurm_installed()
    cluster = Cluster(tmp_path_factory.mktemp("slurm"), programs)
    request.addfinalizer(cluster.stop)  # registered before starting: a half-started cluster is stopped too
    cluster.start()
    return cluster


def memory_mb(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMGT]?)", value).groups()
    return float(number) * {"K": 1 / 1024, "": 1, "M": 1, "G": 1024, "T": 1024**2}[unit]


def test_cluster_runs_a_batch_job(cluster, tmp_path):
    job_id = cluster.run("sbatch", "--parsable", "--wrap", "echo hello from $SLURM_JOB_ID",
                         f"--output={tmp_path}/%j.out", "-D", str(tmp_path)).stdout.strip()
    deadline = time.monotonic() + 60
    while cluster.jobs()[job_id]["state"] not in ("COMPLETED", "FAILED") and time.monotonic() < deadline:
        time.sleep(1)
    assert cluster.jobs()[job_id]["state"] == "COMPLETED"
    assert (tmp_path / f"{job_id}.out").read_text().strip() == f"hello from {job_id}"
    # The cluster the profile must survive: sacct is there but has no accounting behind it.
    done = cluster.run("sacct", "-X", "--noheader", check=False)
    assert done.returncode != 0 or not done.stdout.strip(), "this cluster should have no accounting storage"


def test_smoke_preset_through_the_slurm_profile_matches_a_local_run(cluster, tmp_path, monkeypatch):
    started = time.monotonic()
    on_slurm = copy_workflow(tmp_path / "slurm")
    args = ["--configfile", "presets/smoke.yaml", "--profile", "profiles/slurm",
            # The node's size as the per-group cap, as docs/cluster.md tells a user with such nodes.
            "--resources", f"mem_mb={NODE_MEM_MB}"]
    for name in ("SLURM_CONF", "PATH"):  # snakemake and its jobs talk to this cluster
        monkeypatch.setenv(name, cluster.env[name])
    try:
        result = snakemake(on_slurm, *args, timeout=SNAKEMAKE_TIMEOUT_S)  # --cores 2: the node's CPUs
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"snakemake on SLURM did not finish in {SNAKEMAKE_TIMEOUT_S} s (a hang?):\n"
                             f"{(error.stderr or b'')[-4000:]}") from error
    monkeypatch.undo()
    log = result.stdout + result.stderr
    slurm_seconds = time.monotonic() - started
    done = re.search(r"\b(\d+) of \1 steps \(100%\) done", log)
    assert done, log[-3000:]
    steps = int(done.group(1))

    # Every job went through SLURM: its id in Snakemake's log, COMPLETED in squeue, a kept log.
    submitted = set(re.findall(r"SLURM jobid (\d+)", log))
    assert submitted, f"no SLURM job ids in Snakemake's log:\n{log[-3000:]}"
    jobs = cluster.jobs()
    assert submitted <= jobs.keys()
    logs = {p.stem: p for p in (on_slurm / "logs" / "slurm").rglob("*.log")}
    for job_id in submitted:
        job = jobs[job_id]
        assert job["state"] == "COMPLETED", (job_id, job)
        assert job_id in logs, f"SLURM log of job {job_id} not kept under logs/slurm/"
        # What reached sbatch fits the node: the group asked for 12 CPUs and 48 GB.
        assert int(job["cpus"]) <= NODE_CPUS, (job_id, job)
        assert memory_mb(job["memory"]) <= NODE_MEM_MB, (job_id, job)
    # The path group: logs/slurm/group_<group id>_path/<jobid>.log, its jobs two at a time.
    groups = [p.stem for p in logs.values() if p.parent.name.startswith("group_") and p.parent.name.endswith("_path")]
    assert len(groups) == 1, f"the 12 path jobs were not bundled into one group job: {sorted(logs.values())}"
    assert int(jobs[groups[0]]["cpus"]) == NODE_CPUS, jobs[groups[0]]
    # Fewer SLURM jobs than Snakemake jobs (rule all runs locally): the 12 path jobs of the
    # smoke preset share one (a retried job would add an id, so no exact count).
    assert len(submitted) < steps - 1, (len(submitted), steps)

    local = copy_workflow(tmp_path / "local")
    snakemake(local, "--configfile", "presets/smoke.yaml")
    weights = sorted(p.relative_to(local) for p in (local / "results" / "train").rglob("*.safetensors"))
    assert len(weights) == 16  # 2 networks x 2 optimizers x 2 seeds x (train, test)
    for path in weights:
        assert (on_slurm / path).read_bytes() == (local / path).read_bytes(), path
    print(f"smoke preset on SLURM: {len(submitted)} SLURM jobs, {slurm_seconds:.0f} s")
