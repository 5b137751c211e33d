"""Where replications run: in this process, a local process pool, or a Dask cluster.

Every backend has one job: apply a picklable function to a list of tasks and
yield the results as they complete, in any order. The runner makes the tasks
(chunks of replication indices) and puts the results back in replication
order, so the numbers never depend on the backend or the worker count.

Use a backend as a context manager so its workers are started once and shut
down (or killed, on Ctrl-C) when the block ends::

    with make_backend("process", workers=4) as backend:
        for result in backend.imap(fn, tasks):
            ...
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sim._version import __version__
from sim.errors import CaresimError

__all__ = [
    "BACKENDS",
    "Backend",
    "DaskBackend",
    "ProcessBackend",
    "SerialBackend",
    "make_backend",
]

T = TypeVar("T")
R = TypeVar("R")

#: Names accepted by :func:`make_backend` (and ``caresim run --backend``).
BACKENDS: tuple[str, ...] = ("serial", "process", "dask")


class Backend(Protocol):
    """What the runner needs from a backend."""

    name: str
    workers: int

    def __enter__(self) -> Backend: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for every task, in order of completion."""
        ...


class SerialBackend:
    """Runs every task in this process, one after another."""

    name = "serial"
    workers = 1

    def __enter__(self) -> SerialBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for each task in turn."""
        for task in tasks:
            yield fn(task)


# ---------------------------------------------------------------- process


def _watch_parent(parent: int) -> None:  # pragma: no cover - runs in workers
    # A pool worker blocked on its queue can outlive a parent killed with
    # SIGKILL; exit as soon as the parent is gone instead of lingering.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker() -> None:  # pragma: no cover - runs in workers
    # Ctrl-C reaches the whole process group: let the parent decide what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()


def _mp_context() -> Any:
    # forkserver: workers fork from a clean server that imported caresim once,
    # so they start quickly and never inherit threads (tqdm's monitor, Dask's
    # event loop) the way plain fork would.
    if sys.platform == "win32" or "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sim.experiment.runner"])
    return ctx


class ProcessBackend:
    """A pool of local worker processes (default: one per core)."""

    name = "process"

    def __init__(self, workers: int | None = None):
        if workers is not None and workers < 1:
            raise CaresimError(f"workers must be >= 1, got {workers}")
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessBackend:
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=_mp_context(), initializer=_init_worker
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc_type is None:
            pool.shutdown(wait=True)
            return
        # Interrupted or failed: do not wait for running chunks.
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Submit every task and yield results as workers finish them."""
        if self._pool is None:
            raise RuntimeError("use the backend in a with-block")
        pending: set[Future[R]] = {self._pool.submit(fn, t) for t in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        raise CaresimError(
                            "a worker process died (killed, out of memory, or unable to start: "
                            "code read from standard input cannot use the process backend); "
                            "results already completed are kept; use --backend serial to see "
                            "the error, or --resume to carry on"
                        ) from None
                    yield result
        finally:
            for fut in pending:
                fut.cancel()


# ------------------------------------------------------------------- dask


def _worker_version() -> str:  # pragma: no cover - runs on Dask workers
    return __version__


class DaskBackend:
    """A Dask distributed cluster: an existing scheduler, or a LocalCluster.

    Parameters
    ----------
    scheduler
        Address such as ``tcp://10.0.0.5:8786``; when ``None`` a
        ``LocalCluster`` with ``workers`` single-threaded worker processes is
        started and stopped with the backend.
    workers
        Workers of the LocalCluster (default: one per core); ignored with a
        scheduler.
    connect_timeout
        Seconds to wait for the scheduler (and for at least one worker)
        before giving up with a :class:`~sim.errors.CaresimError`.
    processes
        LocalCluster only: worker processes (``True``) or threads in this
        process (``False``, slower for this pure-Python model but quick to start).

    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        workers: int | None = None,
        connect_timeout: float = 10.0,
        processes: bool = True,
    ):
        if workers is not None and workers < 1:
            raise CaresimError(f"workers must be >= 1, got {workers}")
        self.scheduler = scheduler
        self.workers = workers or os.cpu_count() or 1
        self.connect_timeout = connect_timeout
        self.processes = processes
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskBackend:
        try:
            import dask  # noqa: F401
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise CaresimError(
                f"the Dask backend needs dask[distributed], which is not installed ({exc}); "
                "install it with `pip install 'caresim[dask]'` or use --backend process"
            ) from None
        if self.scheduler is None:
            try:
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=self.processes,
                    dashboard_address=":0",  # a free port: never clash with another cluster
                )
                self._client = Client(self._cluster)
            except Exception as exc:
                self._close()
                raise CaresimError(
                    f"could not start a local Dask cluster ({type(exc).__name__}: {exc}); "
                    "use --backend process, or give --scheduler"
                ) from None
            return self
        try:
            self._client = Client(self.scheduler, timeout=f"{self.connect_timeout}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise CaresimError(
                f"could not reach the Dask scheduler at {self.scheduler} within "
                f"{self.connect_timeout:g} s ({type(exc).__name__}: {exc}); check the address "
                "and that `dask scheduler` is running there, or leave out --scheduler to start "
                "a local cluster"
            ) from None
        try:
            self._client.wait_for_workers(1, timeout=self.connect_timeout)
            versions = self._client.run(_worker_version)
        except (OSError, TimeoutError) as exc:
            self._close()
            raise CaresimError(
                f"the Dask scheduler at {self.scheduler} has no workers after "
                f"{self.connect_timeout:g} s ({exc}); start some with `dask worker "
                f"{self.scheduler}`"
            ) from None
        except Exception as exc:
            self._close()
            raise CaresimError(
                f"Dask workers at {self.scheduler} cannot run caresim ({exc}); install "
                f"caresim {__version__} in the workers' environment"
            ) from None
        wrong = {w: v for w, v in versions.items() if v != __version__}
        if wrong:
            self._close()
            raise CaresimError(
                f"Dask workers run a different caresim ({wrong}); this is {__version__}: "
                "install the same version on every worker so results are reproducible"
            )
        self.workers = len(versions)
        return self

    def _close(self) -> None:
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __exit__(self, *exc: object) -> None:
        self._close()

    def imap(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Submit every task to the cluster and yield results as they complete."""
        from distributed import as_completed

        if self._client is None:
            raise RuntimeError("use the backend in a with-block")
        futures = [self._client.submit(fn, t, pure=False) for t in tasks]
        try:
            for fut in as_completed(futures):
                yield fut.result()
                fut.release()
        finally:
            self._client.cancel([f for f in futures if not f.done()])


def make_backend(
    name: str = "process",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    connect_timeout: float = 10.0,
) -> SerialBackend | ProcessBackend | DaskBackend:
    """Return the backend called ``name`` (one of :data:`BACKENDS`), not yet started.

    >>> make_backend("serial").name
    'serial'
    """
    if scheduler is not None and name != "dask":
        raise CaresimError(f"--scheduler is only for --backend dask, not {name!r}")
    if name == "serial":
        return SerialBackend()
    if name == "process":
        return ProcessBackend(workers)
    if name == "dask":
        return DaskBackend(scheduler, workers=workers, connect_timeout=connect_timeout)
    raise CaresimError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
