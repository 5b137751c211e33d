"""Families and children as the model carries them: plain slotted records.

A *family* is a referral unit: one to a few siblings who share a latent need,
a block of uniforms for their decisions (common random numbers between
scenarios), and so a pathway through the front door. A *child* exists once
the family enters care, and carries its own placement and exit plan.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["DAYS_PER_YEAR", "Child", "Family", "U"]

DAYS_PER_YEAR = 365.25


class U:
    """Positions in a family's block of uniforms, one per decision.

    Each decision has its own position so that changing one parameter (say a
    threshold) leaves every other draw of the same family unchanged.
    """

    N_CHILDREN = 0
    NEED = 1
    TRIAGE_NOISE = 2
    EARLY_HELP_DAYS = 3
    REREFERRAL = 4
    REREFERRAL_DAYS = 5
    ASSESSMENT_DAYS = 6
    ASSESSMENT_NOISE = 7
    SECTION47_DAYS = 8
    CIN_DAYS = 9
    CIN_ESCALATION = 10
    CIN_ESCALATION_TIME = 11
    EDGE_ELIGIBLE = 12
    EDGE_DAYS = 13
    EDGE_OUTCOME = 14
    COMPLEXITY = 15
    EXIT_ROUTE = 16
    EXIT_DAYS = 17
    PRE_EXIT_DAYS = 18
    ALLOWANCE = 19
    STAYING_PUT = 20
    CP_DAYS = 21
    CP_ESCALATION = 22
    CP_ESCALATION_TIME = 23
    NEED_DRIFT = 24
    AGE = 25  # 25, 26, 27: ages of the first three children
    WIDTH = 28


class Family:
    """A referred family (sibling group)."""

    __slots__ = (
        "assess_days",
        "assessed_pct",
        "births",
        "fid",
        "need",
        "need_pct",
        "size",
        "triage_pct",
        "u",
    )

    def __init__(
        self,
        fid: int,
        births: list[float],
        need: float,
        u: Sequence[float],
        scores: tuple[float, float, float] | None = None,
        assess_days: float = -1.0,
    ):
        self.fid = fid
        self.births = births  # simulation day of birth of each child
        self.size = len(births)  # number of children
        self.need = need  # latent need, standard normal scale
        self.u = u
        # Percentiles of true need, of the score triage sees and of the assessed
        # score; computed lazily (or in bulk for new families, see Simulation).
        self.need_pct, self.triage_pct, self.assessed_pct = scores or (-1.0, -1.0, -1.0)
        # Length of an assessment before any caseload delay (days), drawn in bulk for
        # new families; -1 until drawn.
        self.assess_days = assess_days

    def ages_years(self, now: float) -> list[float]:
        """Ages of the children at ``now`` (years)."""
        return [(now - b) / DAYS_PER_YEAR for b in self.births]


class Child:
    """A child looked after (or formerly looked after)."""

    __slots__ = (
        "base_cost",
        "birth",
        "break_at",
        "category",
        "cid",
        "complexity",
        "draws",
        "entry_day",
        "exit_at",
        "family",
        "fy",
        "fy_placements",
        "moves",
        "pre_exit_at",
        "route",
        "step_at",
        "step_to",
        "token",
        "type",
        "u",
        "waiting",
    )

    def __init__(self, cid: int, family: Family, birth: float, u: Sequence[float]):
        self.cid = cid
        self.family = family
        self.birth = birth
        self.u = u
        self.complexity = 0.0
        self.category = ""  # placement category needed now
        self.type = -1  # index of the current placement type, -1 when not placed
        self.base_cost = 0.0
        self.break_at = float("inf")
        self.step_at = float("inf")
        self.step_to = ""
        self.route = ""
        self.exit_at = float("inf")
        self.pre_exit_at = float("inf")
        self.entry_day = 0.0
        self.moves = 0
        self.draws = 0  # uniforms drawn for this child's placements so far
        self.fy = -1  # financial year of the last placement (index), for stability counts
        self.fy_placements = 0  # placements in that financial year
        self.waiting = False
        self.token = 0  # plan token of the next scheduled step; -1 once the child has left

    def age(self, now: float) -> float:
        """Age at ``now`` (years)."""
        return (now - self.birth) / DAYS_PER_YEAR

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Child({self.cid}, type={self.type}, category={self.category})"
