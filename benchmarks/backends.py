"""Backend benchmarks: parallel efficiency and per-task overhead.

Run from the repository root (about 3-5 minutes on 2 cores)::

    python benchmarks/backends.py                 # all cores, 1-year baseline replications
    python benchmarks/backends.py --years 5 --per-worker 6 --json benchmarks/backends-results.json

For each backend (process pool, Dask LocalCluster) and each worker count N in
1..cores, it reports

* start-up: seconds to start the workers and run one replication on each;
* throughput: replications per second once the workers are warm (best of
  ``--repeat`` runs, as the machine may be shared);
* parallel efficiency: throughput on N workers / (N × throughput on 1 worker);
* per-task overhead: wall time per task of a no-op task that carries a config
  (what a chunk costs to send, schedule and return, with no simulation).

Numbers are ratios measured side by side on one machine; they are not asserted
anywhere (wall times in tests are flaky).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import sim
from sim.experiment.backends import DaskBackend, ProcessBackend, SerialBackend
from sim.experiment.runner import MemorySink, Task, plan_chunks, run_batch

ROOT = Path(__file__).resolve().parent.parent


def noop(task: Task) -> list[Any]:
    """A task that does nothing: measures the cost of shipping one chunk."""
    return []


def machine() -> dict[str, Any]:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        model = platform.processor()
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "caresim": sim.__version__,
    }


def make(kind: str, workers: int) -> Any:
    if kind == "serial":
        return SerialBackend()
    if kind == "process":
        return ProcessBackend(workers)
    return DaskBackend(workers=workers, processes=True)


def measure(
    kind: str, workers: int, cfg: sim.Config, reps: int, tasks: int, repeat: int
) -> dict[str, Any]:
    t0 = time.perf_counter()
    backend = make(kind, workers)
    with backend:
        # Start-up includes one warm-up replication per worker (pools start lazily).
        run_batch(cfg, seed=1, indices=range(workers), sink=MemorySink(), backend=backend)
        startup = time.perf_counter() - t0
        # Best of `repeat`: this machine may be shared, so keep the least disturbed run.
        elapsed = float("inf")
        for _ in range(repeat):
            t1 = time.perf_counter()
            run_batch(
                cfg,
                seed=1,
                indices=range(1000, 1000 + reps),
                sink=MemorySink(),
                backend=backend,
                chunk_size=max(1, reps // (4 * workers)),
            )
            elapsed = min(elapsed, time.perf_counter() - t1)
        noop_tasks = [Task(cfg, 1, c) for c in plan_chunks(range(tasks), 1)]
        list(backend.imap(noop, noop_tasks[:workers]))  # warm
        per_task = float("inf")
        for _ in range(repeat):
            t2 = time.perf_counter()
            list(backend.imap(noop, noop_tasks))
            per_task = min(per_task, (time.perf_counter() - t2) / tasks)
    return {
        "backend": kind,
        "workers": workers,
        "load_average": os.getloadavg()[0],
        "startup_s": startup,
        "replications": reps,
        "seconds": elapsed,
        "reps_per_s": reps / elapsed,
        "per_task_overhead_ms": 1000 * per_task,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=1.0, help="years per replication")
    parser.add_argument("--per-worker", type=int, default=12, help="replications per worker")
    parser.add_argument("--tasks", type=int, default=200, help="no-op tasks for the overhead")
    parser.add_argument("--max-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backends", default="process,dask")
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats (best is kept)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    cfg = sim.load_config(ROOT / "configs" / "worcestershire-2016.toml", {"run.years": args.years})
    counts = sorted({1, *range(2, args.max_workers + 1)})
    rows = [measure("serial", 1, cfg, args.per_worker, args.tasks, args.repeat)]
    for kind in args.backends.split(","):
        for n in counts:
            rows.append(measure(kind, n, cfg, args.per_worker * n, args.tasks, args.repeat))
            print(json.dumps(rows[-1]), flush=True)
    one = {r["backend"]: r["reps_per_s"] for r in rows if r["workers"] == 1}
    for r in rows:
        r["efficiency"] = r["reps_per_s"] / (r["workers"] * one[r["backend"]])
        r["vs_serial"] = r["reps_per_s"] / one["serial"]
    info = machine()
    print()
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}, Python {info['python']}"
    )
    print(f"Workload: baseline, {args.years:g}-year replications, {args.per_worker} per worker\n")
    print(
        "| backend | workers | start-up (s) | replications/s | efficiency | vs serial | "
        "per-task overhead (ms) | load average |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['backend']} | {r['workers']} | {r['startup_s']:.2f} | {r['reps_per_s']:.2f} | "
            f"{r['efficiency']:.2f} | {r['vs_serial']:.2f} | {r['per_task_overhead_ms']:.2f} | "
            f"{r['load_average']:.1f} |"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": info, "args": vars(args), "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
