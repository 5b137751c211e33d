"""Page load and "Run" to first chart of the planner's page (``caresim app``).

    python benchmarks/app.py [--replications 20] [--years 5] [--backend auto] [--repeat 1]

Starts ``caresim app`` on a free local port, opens it in headless Chromium
(Debian's ``/usr/bin/chromium``, driven by Playwright), and times:

* server start: from launching the process to its first HTTP answer;
* page load: from ``goto`` to the levers being on the page (a new session);
* run to first chart: from pressing Run (the baseline, no lever changed) to
  the fan chart's image being shown; a second press is served from the cache.

Prints one JSON object. Not a test: it takes a minute or two.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FOSTER = "#lv_placement_types__foster_in_house__capacity_now"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int, folder: Path, backend: str) -> tuple[subprocess.Popen[bytes], float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "sim.cli.main", "app", "--port", str(port)),
            *("--scenarios", str(folder), "--backend", backend),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}", timeout=2).close()
            return proc, time.perf_counter() - started
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("caresim app exited at start") from None
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--years", type=float, default=5)
    parser.add_argument("--backend", default="auto", choices=("auto", "serial", "process"))
    parser.add_argument("--repeat", type=int, default=1, help="page loads and fresh runs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc, server_s = _start(port, Path(tmp), args.backend)
        loads, runs, cached = [], [], []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                for k in range(args.repeat):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    page.set_default_timeout(600_000)
                    t0 = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}")
                    page.wait_for_selector(FOSTER)
                    loads.append(time.perf_counter() - t0)
                    page.fill("#replications", str(args.replications))
                    page.fill("#years", f"{args.years:g}")
                    page.fill("#seed", str(1000 + k))  # a fresh seed: not from the cache
                    page.wait_for_timeout(500)  # let the inputs reach the server
                    t0 = time.perf_counter()
                    page.click("#run")
                    page.wait_for_selector("#fan img")
                    runs.append(time.perf_counter() - t0)
                    # The same run again: the fan chart is redrawn from the cache.
                    page.evaluate("document.querySelector('#fan img').remove()")
                    t0 = time.perf_counter()
                    page.click("#run")
                    page.wait_for_selector("#fan img")
                    cached.append(time.perf_counter() - t0)
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(
        json.dumps(
            {
                "replications": args.replications,
                "years": args.years,
                "backend": args.backend,
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "server_start_s": round(server_s, 2),
                "page_load_s": [round(x, 2) for x in loads],
                "run_to_first_chart_s": [round(x, 2) for x in runs],
                "cached_run_to_chart_s": [round(x, 2) for x in cached],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
