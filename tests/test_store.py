"""The result store: atomic parts, resume after SIGKILL, failures kept and re-run alone."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
import sim.experiment.runner
from sim.cli.main import main
from sim.errors import CaresimError
from sim.experiment.backends import make_backend
from sim.experiment.runner import run_batch
from sim.results.manifest import run_manifest
from sim.results.store import ResultStore

ROOT = Path(__file__).resolve().parent.parent
CARESIM = Path(sys.executable).parent / "caresim"


def _finals(folder: Path) -> dict[str, bytes]:
    names = ("summary.csv", "summary.parquet", "timeseries.parquet", "summary_stats.csv")
    return {name: (folder / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, baseline_path_module) -> Path:
    """Eight one-year replications run in one go (process pool, chunks of 3)."""
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    argv = [str(baseline_path_module), "-n", "8", "--years", "1", "--seed", "3", "--out", str(out)]
    assert main(["run", *argv, "--workers", "2", "--chunk-size", "3", "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def baseline_path_module() -> Path:
    return ROOT / "configs" / "worcestershire-2016.toml"


def test_resume_after_sigkill_gives_exactly_the_uninterrupted_results(
    tmp_path, uninterrupted, baseline_path_module
):
    out = tmp_path / "killed"
    cmd = [str(CARESIM), "run", str(baseline_path_module), "-n", "8", "--years", "1"]
    cmd += ["--seed", "3", "--out", str(out), "--backend", "serial", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    parts = out / "parts"
    while time.monotonic() < deadline:
        if parts.is_dir() and len(list(parts.glob("summary-*.parquet"))) >= 2:
            break
        if proc.poll() is not None:
            pytest.fail(f"caresim ended before it could be killed: {proc.stderr.read()!r}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    saved = len(list(parts.glob("summary-*.parquet")))
    assert 2 <= saved < 8, "the run was not interrupted part-way"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and not (out / "summary.csv").exists()

    # Resume on another backend: replications already saved are not run again.
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("summary-*.parquet")}
    assert main(["run", "--resume", str(out), "--workers", "2", "-q"]) == 0
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("summary-*.parquet")}
    assert all(after[name] == t for name, t in before.items())

    assert _finals(out) == _finals(uninterrupted)
    summary = pd.read_parquet(out / "summary.parquet")
    assert sorted(summary["replication"].unique()) == list(range(8))
    assert summary.groupby("replication").size().nunique() == 1  # nobody counted twice
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications_done"] == 8


def test_resume_refuses_a_different_config(tmp_path, uninterrupted, baseline_path_module, capsys):
    rc = main(["run", str(baseline_path_module), "--years", "2", "--resume", str(uninterrupted)])
    err = capsys.readouterr().err
    assert rc == 2 and "the config differs" in err and "run.years" in err
    assert "Traceback" not in err


def test_resume_refuses_a_different_seed(uninterrupted, baseline_path_module, capsys):
    rc = main(["run", "--resume", str(uninterrupted), "--seed", "4"])
    err = capsys.readouterr().err
    assert rc == 2 and "--seed 4 differs from the seed of these results (3)" in err


def test_resume_refuses_a_folder_without_a_manifest(tmp_path, capsys):
    rc = main(["run", "--resume", str(tmp_path)])
    assert rc == 2 and "not a caresim result folder" in capsys.readouterr().err


def test_a_new_batch_refuses_a_folder_that_holds_results(
    uninterrupted, baseline_path_module, capsys
):
    rc = main(["run", str(baseline_path_module), "--out", str(uninterrupted), "-n", "1"])
    assert rc == 2 and "already holds results" in capsys.readouterr().err


def test_failed_replications_are_kept_apart_and_can_be_rerun_alone(
    tmp_path, uninterrupted, baseline_path_module, monkeypatch, capsys
):
    real = sim.experiment.runner.simulate

    def flaky(cfg, *, seed, replication):
        if replication in (2, 5):
            raise RuntimeError(f"boom in {replication}")
        return real(cfg, seed=seed, replication=replication)

    monkeypatch.setattr(sim.experiment.runner, "simulate", flaky)
    out = tmp_path / "flaky"
    argv = [str(baseline_path_module), "-n", "8", "--years", "1", "--seed", "3", "--out", str(out)]
    assert main(["run", *argv, "--backend", "serial", "-q"]) == 1
    err = capsys.readouterr().err
    assert "replication 2 (root seed 3" in err and "--only-replication 2" in err
    record = json.loads((out / "failures" / "replication-000002.json").read_text())
    assert (
        record["seed"] == 3
        and "boom in 2" in record["error"]
        and "Traceback" in record["traceback"]
    )
    kept = pd.read_parquet(out / "summary.parquet")
    assert sorted(kept["replication"].unique()) == [0, 1, 3, 4, 6, 7]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [f["replication"] for f in manifest["failed"]] == [2, 5]

    monkeypatch.setattr(sim.experiment.runner, "simulate", real)
    rc = main(["run", "--resume", str(out), "--only-replication", "2", "--backend", "serial", "-q"])
    assert rc == 0
    assert not (out / "failures" / "replication-000002.json").exists()
    assert main(["run", "--resume", str(out), "--backend", "serial", "-q"]) == 0
    assert _finals(out) == _finals(uninterrupted)


def test_opening_a_store_discards_parts_without_their_summary_marker(
    tmp_path, baseline_path_module
):
    cfg = sim.load_config(baseline_path_module, {"run.years": 1})
    manifest = run_manifest(cfg, seed=1, replications=3, started=pd.Timestamp.now(tz="UTC"))
    store = ResultStore.create(tmp_path / "s", manifest)
    with make_backend("serial") as backend:
        run_batch(cfg, seed=1, indices=range(2), sink=store, backend=backend)
    parts = tmp_path / "s" / "parts"
    (parts / "timeseries-000002-000002.parquet").write_bytes(b"half a file")
    (parts / ".summary-000002-000002.parquet.tmp-123").write_bytes(b"half a file")
    reopened = ResultStore.open(tmp_path / "s")
    assert reopened.done() == {0, 1}
    assert sorted(p.name for p in parts.iterdir()) == [
        "summary-000000-000000.parquet",
        "summary-000001-000001.parquet",
        "timeseries-000000-000000.parquet",
        "timeseries-000001-000001.parquet",
    ]


def test_a_replication_in_two_parts_is_reported_as_corruption(tmp_path, baseline_path_module):
    cfg = sim.load_config(baseline_path_module, {"run.years": 1})
    manifest = run_manifest(cfg, seed=1, replications=2, started=pd.Timestamp.now(tz="UTC"))
    store = ResultStore.create(tmp_path / "s", manifest)
    with make_backend("serial") as backend:
        run_batch(cfg, seed=1, indices=range(2), sink=store, backend=backend, chunk_size=2)
    parts = tmp_path / "s" / "parts"
    os.link(parts / "summary-000000-000001.parquet", parts / "summary-000001-000001.parquet")
    with pytest.raises(CaresimError, match="replication 1 is in two parts"):
        ResultStore.open(tmp_path / "s")


def test_ctrl_c_stops_a_process_pool_run_saves_what_is_done_and_it_resumes(
    tmp_path, uninterrupted, baseline_path_module
):
    out = tmp_path / "interrupted"
    cmd = [str(CARESIM), "run", str(baseline_path_module), "-n", "8", "--years", "1"]
    cmd += ["--seed", "3", "--out", str(out), "--workers", "2", "--chunk-size", "1", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    parts = out / "parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob("summary-*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before it could be interrupted")
    assert proc.returncode == 130, err
    assert "Finish the batch with `caresim run --resume" in err and "Traceback" not in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert main(["run", "--resume", str(out), "--backend", "serial", "-q"]) == 0
    assert _finals(out) == _finals(uninterrupted)


def test_streamed_timeseries_statistics_equal_those_computed_in_memory(uninterrupted):
    from sim.results.stats import describe

    streamed = pd.read_parquet(uninterrupted / "timeseries_stats.parquet")
    ts = pd.read_parquet(uninterrupted / "timeseries.parquet")
    in_memory = describe(ts, ["scenario", "date", "measure", "category"])
    keys = ["measure", "category", "date"]
    for frame in (streamed, in_memory):
        for col in ("measure", "category"):
            frame[col] = frame[col].astype(str)
        frame["date"] = pd.to_datetime(frame["date"])
    a = streamed.sort_values(keys).reset_index(drop=True)
    b = in_memory.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[keys], b[keys])
    pd.testing.assert_frame_equal(a.drop(columns=keys), b[a.drop(columns=keys).columns], rtol=1e-9)


def test_replications_with_different_rows_fall_back_to_tidy_statistics():
    import pyarrow as pa

    from sim.results.store import _matrix_stats

    def table(categories: list[list[str]]) -> pa.Table:
        rows = [(k, c) for k, cats in enumerate(categories) for c in cats]
        return pa.table(
            {
                "replication": [k for k, _ in rows],
                "date": pd.to_datetime(["2020-04-01"] * len(rows)),
                "category": pd.Categorical([c for _, c in rows]),
                "value": [float(k) for k, _ in rows],
            }
        )

    same = _matrix_stats(table([["a", "b"], ["a", "b"], ["a", "b"]]))
    assert same is not None and same["mean"].tolist() == [1.0, 1.0]
    assert _matrix_stats(table([["a", "b"], ["a"], ["a", "b"]])) is None
    assert _matrix_stats(table([["a", "b"], ["b", "a"]])) is None


def _damage(path: Path, how: str) -> None:
    if how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "emptied":
        path.write_bytes(b"")
    else:  # garbage
        path.write_bytes(os.urandom(path.stat().st_size))


@pytest.mark.parametrize("kind", ["summary", "timeseries"])
@pytest.mark.parametrize("how", ["truncated", "emptied", "garbage"])
def test_resume_sets_a_damaged_part_aside_and_equals_the_uninterrupted_run(
    tmp_path, uninterrupted, how, kind, capsys
):
    out = tmp_path / "copy"
    shutil.copytree(uninterrupted, out)
    for name in ("summary.csv", "summary.parquet", "timeseries.parquet", "summary_stats.csv"):
        (out / name).unlink()
    victim = sorted((out / "parts").glob(f"{kind}-*.parquet"))[1]
    _damage(victim, how)

    assert main(["check", str(out)]) == 1
    report = capsys.readouterr().out
    assert "damaged: replications" in report and victim.name in report

    assert main(["run", "--resume", str(out), "--backend", "serial"]) == 0
    said = capsys.readouterr().out
    assert "damaged part(s) set aside" in said and "Traceback" not in said
    assert _finals(out) == _finals(uninterrupted)
    assert any((out / "damaged").iterdir())  # kept for inspection, not deleted
    assert main(["check", str(out)]) == 0


def test_a_garbage_manifest_is_reported_in_words(tmp_path, uninterrupted, capsys):
    out = tmp_path / "copy"
    shutil.copytree(uninterrupted, out)
    (out / "manifest.json").write_bytes(b"\x00\xffnot json")
    assert main(["run", "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json is damaged" in err and "Traceback" not in err
    (out / "manifest.json").write_text('{"status": "running"}')
    assert main(["check", str(out)]) == 2
    assert "lacks the config and seed" in capsys.readouterr().err


def test_two_processes_cannot_resume_one_folder_at_once(tmp_path, uninterrupted):
    out = tmp_path / "copy"
    shutil.copytree(uninterrupted, out)
    ResultStore.open(out)  # this process now holds the folder's lock
    code = f"from sim.results.store import ResultStore; ResultStore.open({str(out)!r})"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert other.returncode != 0
    assert "in use by another caresim process" in other.stderr
    ResultStore.open(out)  # the same process may reopen it


def test_a_run_whose_replications_all_fail_says_so_in_words(
    tmp_path, baseline_path_module, monkeypatch, capsys
):
    def boom(*_args, **_kwargs):
        raise ValueError("the model broke")

    monkeypatch.setattr(sim.experiment.runner, "simulate", boom)
    out = tmp_path / "all-failed"
    argv = ["run", str(baseline_path_module), "-n", "2", "--years", "1", "--out", str(out)]
    assert main([*argv, "--backend", "serial"]) == 2
    err = capsys.readouterr().err
    assert "every replication failed" in err and "the model broke" in err
    assert "Traceback" not in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
