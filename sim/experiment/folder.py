"""A batch into a result folder: new, resumed, or run until precise.

:func:`run_to_folder` is what ``caresim run`` (and the planner's page) call:
it creates or reopens a :class:`~sim.results.store.ResultStore`, writes the
manifest, runs the replications still missing (or adds replications until a
:class:`~sim.experiment.runner.PrecisionTarget` is met), and combines the
parts into the final tables. It prints nothing: the caller is told what is
about to happen through ``on_start`` and gets a :class:`FolderRun` back.

Resuming is refused when the config or seed differ from those the folder
was made with, naming the keys that differ, so two models are never mixed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import config_from_dict, with_overrides
from sim.config.schema import Config
from sim.errors import CaresimError
from sim.experiment.backends import Backend
from sim.experiment.precision import PrecisionTarget, run_to_precision
from sim.experiment.progress import Progress
from sim.experiment.runner import run_batch
from sim.experiment.uncertainty import check_uncertainty
from sim.results.manifest import config_differences, config_json, run_manifest
from sim.results.run_result import ReplicationFailure
from sim.results.store import FinalFiles, ResultStore

__all__ = ["FolderRun", "ResumeState", "RunInterrupted", "open_resume", "run_to_folder"]


class RunInterrupted(CaresimError):
    """The batch was interrupted (Ctrl-C or SIGTERM); what finished is saved in ``out``."""

    def __init__(self, out: Path, saved: int):
        self.out = out
        self.saved = saved
        super().__init__(
            f"interrupted; {saved} replication(s) are saved in {out}/. "
            f"Finish the batch with `caresim run --resume {out}`."
        )


@dataclass(frozen=True)
class ResumeState:
    """A result folder reopened to finish it: its store, config, seed and batch size."""

    store: ResultStore
    config: Config
    seed: int
    replications: int
    precision: PrecisionTarget | None
    scenario: str


@dataclass(frozen=True)
class FolderRun:
    """What :func:`run_to_folder` did.

    Attributes
    ----------
    out
        The result folder.
    config, seed
        What was run.
    replications
        Size of the batch (after a precision loop: the replications it needed).
    done
        Replications saved in the folder.
    status
        ``complete``, ``incomplete`` (some asked for are missing) or ``failed``.
    files
        The combined tables written.
    failures
        Replications that raised (their tracebacks are under ``out/failures/``).
    precision
        The precision table (one row per measure and period) when a target was given.

    """

    out: Path
    config: Config
    seed: int
    replications: int
    done: int
    status: str
    files: FinalFiles
    failures: tuple[ReplicationFailure, ...]
    precision: pd.DataFrame | None
    target: PrecisionTarget | None


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (a job scheduler stopping the run) like Ctrl-C: save and stop."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, AttributeError):  # not the main thread, or no SIGTERM
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stored_target(manifest: Mapping[str, Any]) -> PrecisionTarget | None:
    p = manifest.get("precision")
    if not p:
        return None
    return PrecisionTarget(
        tuple(p["measures"]),
        float(p["relative_half_width"]),
        max_replications=int(p["max_replications"]),
        min_replications=int(p.get("min_replications", 10)),
    )


def open_resume(
    folder: str | Path,
    *,
    config: Config | None = None,
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    replications: int | None = None,
) -> ResumeState:
    """Reopen ``folder`` to finish (or extend) its batch.

    Parameters
    ----------
    folder
        A result folder written by :func:`run_to_folder`.
    config
        The config to resume with; it must equal the stored one. ``None``
        uses the stored config, with ``overrides`` applied (which must then
        change nothing).
    overrides
        Dotted-key overrides (``--set``) applied to the stored config.
    seed
        Must equal the stored seed when given.
    replications
        A larger batch size extends the batch; a smaller one is refused.

    Raises
    ------
    CaresimError
        Naming the config keys, the seed or the count that differ.

    """
    where = Path(folder)
    store = ResultStore.open(where)
    manifest = store.manifest
    if config is None:
        config = config_from_dict(manifest["config"], source=f"{where}/manifest.json")
        if overrides:
            config = with_overrides(config, dict(overrides))
    diff = config_differences(manifest["config"], config_json(config))
    if diff:
        shown = ", ".join(diff[:5]) + (f" and {len(diff) - 5} more" if len(diff) > 5 else "")
        raise CaresimError(
            f"--resume {where}: the config differs from the one these results were made with "
            f"(different: {shown}); resuming would mix two models. Resume with the original "
            "config (or none: the manifest's is used), or start a new batch with --out"
        )
    stored_seed = int(manifest["seed"])
    if seed is not None and seed != stored_seed:
        raise CaresimError(
            f"--resume {where}: --seed {seed} differs from the seed of these results "
            f"({stored_seed}); leave out --seed to resume, or start a new batch with --out"
        )
    n = int(manifest["replications"])
    if replications is not None:
        if replications < n:
            raise CaresimError(
                f"--resume {where}: -n {replications} is fewer than the {n} replications "
                "of this batch; leave out -n to finish it"
            )
        n = replications
    return ResumeState(
        store=store,
        config=config,
        seed=stored_seed,
        replications=n,
        precision=_stored_target(manifest),
        scenario=str(manifest.get("scenario", "baseline")),
    )


def _precision_setup(target: PrecisionTarget | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {
        "measures": list(target.measures),
        "relative_half_width": target.relative,
        "max_replications": target.max_replications,
        "min_replications": target.min_replications,
    }


def run_to_folder(
    config: Config,
    out: str | Path,
    *,
    seed: int,
    replications: int,
    backend: Backend,
    resume: ResumeState | None = None,
    only: Sequence[int] = (),
    precision: PrecisionTarget | None = None,
    scenario: str = "baseline",
    chunk_size: int | None = None,
    source: str = "",
    timeseries_format: str = "parquet",
    progress: Callable[[int, str], Progress] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> FolderRun:
    """Run a batch into the result folder ``out``, saving each chunk as it completes.

    Parameters
    ----------
    config, seed, replications
        What to run: replications ``0 .. replications-1`` of ``seed``.
    out
        The result folder (must not exist or be empty, unless resuming).
    backend
        An unopened backend (:func:`sim.experiment.backends.make_backend`);
        it is opened and closed here.
    resume
        From :func:`open_resume`: finish that folder's batch instead of
        starting a new one (``out`` must be its folder).
    only
        Run only these replication indices.
    precision
        Add replications until the target is met (ignored with ``only``).
    scenario
        Label of the ``scenario`` column.
    chunk_size
        Replications per task sent to the backend (default: chosen from the workers).
    source
        Where the config came from (written in the manifest).
    timeseries_format
        ``parquet`` or ``csv`` for the combined monthly table.
    progress
        Makes a progress bar from (replications to run, label).
    on_start
        Called once, with a sentence saying what is about to run.

    Raises
    ------
    RunInterrupted
        On Ctrl-C or SIGTERM, after marking the folder ``interrupted``.
    CaresimError
        When ``out`` exists and is not empty (a new batch), or on a bad config.

    """
    out = Path(out)
    started = dt.datetime.now(dt.UTC)
    check_uncertainty(config)
    indices = sorted(set(only)) or list(range(replications))
    setup = _precision_setup(precision)
    store = resume.store if resume is not None else None
    if store is None:
        ResultStore.check_new(out)
    with _terminate_as_interrupt(), backend:
        try:
            if store is None:
                store = ResultStore.create(
                    out,
                    run_manifest(
                        config,
                        seed=seed,
                        replications=precision.max_replications if precision else replications,
                        started=started,
                        source=source,
                        extra={
                            "scenario": scenario,
                            "backend": backend.name,
                            "workers": backend.workers,
                            "chunk_size": chunk_size,
                            "only_replications": list(only) or None,
                            "precision": setup,
                            "parameter_uncertainty": {
                                k: v.model_dump(mode="json", exclude_none=True)
                                for k, v in config.parameter_uncertainty.items()
                            },
                        },
                    ),
                )
            store.update_manifest(
                status="running", backend=backend.name, workers=backend.workers, finished=None
            )
            todo = len(set(indices) - store.done())
            if on_start is not None and store.set_aside_now:
                on_start(
                    f"{out}: {len(store.set_aside_now)} damaged part(s) set aside in "
                    f"{out}/damaged/ and their replications run again: "
                    + "; ".join(why for _, why in store.set_aside_now)
                )
            if on_start is not None:
                what = (
                    f"replications until the 95% CI half-width of {', '.join(precision.measures)} "
                    f"is within {precision.relative:.1%} of the mean (at most "
                    f"{precision.max_replications})"
                    if precision and not only
                    else f"{len(indices)} replication(s), {todo} to run"
                )
                on_start(
                    f"{config.run.name}: seed {seed}, {what}, backend {backend.name} "
                    f"({backend.workers} worker(s)), results in {out}/"
                )
            bar = progress(todo, config.run.name) if progress else contextlib.nullcontext()
            table = None
            with bar as live:
                if precision is not None and not only:
                    replications, table, failures = run_to_precision(
                        config,
                        target=precision,
                        seed=seed,
                        sink=store,
                        backend=backend,
                        chunk_size=chunk_size,
                        scenario=scenario,
                        progress=live,
                    )
                    store.update_manifest(
                        replications=replications,
                        precision={
                            **(setup or {}),
                            "replications_needed": replications,
                            "met": bool(table["met"].all()),
                        },
                    )
                else:
                    failures = run_batch(
                        config,
                        seed=seed,
                        indices=indices,
                        sink=store,
                        backend=backend,
                        chunk_size=chunk_size,
                        scenario=scenario,
                        progress=live,
                    )
                    store.update_manifest(replications=replications)
        except KeyboardInterrupt:
            if store is None:
                raise
            store.update_manifest(status="interrupted")
            raise RunInterrupted(out, len(store.done())) from None
    if not store.done():
        store.update_manifest(status="failed")
        first = failures[0].describe() if failures else "no replication finished"
        raise CaresimError(
            f"every replication failed, so there is nothing to combine in {out}/ "
            f"(tracebacks in {out}/failures/). The first: {first}. Check the config "
            "(`caresim validate`) or run one replication alone with --only-replication 0 "
            "--backend serial"
        )
    files = store.finalize(timeseries_format=timeseries_format)
    missing = sorted(set(range(replications)) - store.done())
    status = "complete" if not missing else ("failed" if failures else "incomplete")
    store.update_manifest(
        status=status, finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    return FolderRun(
        out=out,
        config=config,
        seed=seed,
        replications=replications,
        done=len(store.done()),
        status=status,
        files=files,
        failures=tuple(failures),
        precision=table,
        target=precision,
    )
