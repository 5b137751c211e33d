"""Errors raised while reading and checking SSDA903 and CIN census files.

A :class:`DataError` names the file, the row (1-based line number in the file,
the header being row 1) and the problem, and never echoes the value of an
identifying field (CHILD, DOB, UPN, MC_DOB, postcodes, URN).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.errors import CaresimError

__all__ = ["DataError", "RowProblem"]


@dataclass(frozen=True)
class RowProblem:
    """One bad row found while reading a file.

    Attributes
    ----------
    file
        The file's path, as given (every year's Episodes file may be called
        ``episodes.csv``: the folder tells them apart).
    row
        Line number in the file; the header is row 1, the first record row 2.
    problem
        What is wrong, without identifying values.

    """

    file: str
    row: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}: {self.problem}"


class DataError(CaresimError):
    """An input data file is missing, unreadable, malformed or has too many bad rows.

    Parameters
    ----------
    message
        Full message; names the file, the row and the problem.
    file
        The file concerned, when there is one.
    row
        The row concerned (header = row 1), when there is one.
    problems
        Every bad row found, when the error summarises several.

    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        problems: tuple[RowProblem, ...] = (),
    ):
        super().__init__(message)
        self.file = file
        self.row = row
        self.problems = problems
