"""Progress of a batch: a tqdm bar on a terminal, plain lines otherwise, or nothing.

A log file or CI console gets a line at most every ``interval`` seconds (and
at the end) instead of a bar redrawn with carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Literal, TextIO

__all__ = ["Progress"]

Mode = Literal["auto", "bar", "lines", "quiet"]


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Counts replications done out of a total that may grow (precision runs).

    Parameters
    ----------
    total
        Replications expected.
    desc
        Label shown before the counts.
    mode
        ``auto`` (a bar when ``stream`` is a terminal, else lines), ``bar``,
        ``lines`` or ``quiet``.
    stream
        Where to write (default: standard error).
    interval
        Seconds between plain lines.

    """

    def __init__(
        self,
        total: int,
        *,
        desc: str = "replications",
        mode: Mode = "auto",
        stream: TextIO | None = None,
        interval: float = 10.0,
    ):
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode = mode
        self.total = total
        self.done = 0
        self.desc = desc
        self.interval = interval
        self._start = time.monotonic()
        self._last_line = -float("inf")
        self._bar: Any = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="rep", desc=desc, file=self.stream, leave=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_total(self, total: int) -> None:
        """Change the expected number of replications."""
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def update(self, n: int = 1) -> None:
        """Record ``n`` more replications done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines":
            now = time.monotonic()
            if now - self._last_line >= self.interval or self.done >= self.total:
                self._last_line = now
                self._line(now)

    def _line(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        eta = _clock(left / rate) if rate > 0 else "?"
        pct = 100 * self.done / self.total if self.total else 100.0
        print(
            f"{self.desc}: {self.done}/{self.total} replications ({pct:.0f}%), "
            f"{rate:.2f}/s, elapsed {_clock(elapsed)}, ETA {eta}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        """Finish the bar (or print nothing more)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
