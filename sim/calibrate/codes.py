"""SSDA903 code lists and the groupings the simulator uses (DOMAIN.md sections 3-5).

Placement codes are grouped into categories, placement providers into
in-house / external, reasons an episode ceased (REC) into exit routes.
Legacy codes found in older returns are mapped to their current equivalent.
"""

from __future__ import annotations

from sim.config.schema import EXIT_ROUTES

__all__ = [
    "CATEGORY_ORDER",
    "CIN_CODES",
    "CIN_COLUMNS",
    "CLOSURE_REASONS",
    "EPISODE_COLUMNS",
    "EPISODE_REQUIRED",
    "HEADER_COLUMNS",
    "HEADER_REQUIRED",
    "IDENTIFIER_COLUMNS",
    "KNOWN_COLUMNS",
    "LEGACY_PLACE",
    "LEGACY_REC",
    "LS_CODES",
    "PLACE_CATEGORY",
    "PLACE_PROVIDERS",
    "PLANNED_CHANGE_REASONS",
    "REASON_PLACE_CHANGE_CODES",
    "REC_ROUTE",
    "RNE_CODES",
    "RNE_MOVE",
    "ROUTE_ORDER",
    "SHORT_BREAK_LS",
    "provider_group",
]

#: Columns of the Episodes table (DOMAIN.md section 5).
EPISODE_COLUMNS: tuple[str, ...] = (
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
)
#: Columns an Episodes file must have; the others may be absent or blank.
EPISODE_REQUIRED: tuple[str, ...] = ("CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC")

HEADER_COLUMNS: tuple[str, ...] = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
HEADER_REQUIRED: tuple[str, ...] = ("CHILD", "DOB")

#: Columns that identify a child; they never leave the loader.
IDENTIFIER_COLUMNS: tuple[str, ...] = (
    "CHILD",
    "DOB",
    "UPN",
    "MOTHER",
    "MC_DOB",
    "HOME_POST",
    "PL_POST",
    "URN",
)

#: Columns of the CIN-census-like referrals table the loader reads.
CIN_COLUMNS: tuple[str, ...] = (
    "CHILD",
    "REFERRAL_DATE",
    "DOB",
    "REFERRAL_SOURCE",
    "REFERRAL_NFA",
    "ASSESSMENT_START",
    "ASSESSMENT_AUTHORISED",
    "CLOSURE_DATE",
    "CLOSURE_REASON",
)

#: Every column name the loader knows; only these may be echoed in a message
#: (an unknown "column name" may be a record's cell in a file with no header).
KNOWN_COLUMNS: frozenset[str] = frozenset(EPISODE_COLUMNS + HEADER_COLUMNS + CIN_COLUMNS)

RNE_CODES: frozenset[str] = frozenset({"S", "L", "P", "T", "B", "U"})
#: New-episode reasons that mean the child changed placement (RNE L does not).
RNE_MOVE: frozenset[str] = frozenset({"P", "T", "B", "U"})

LS_CODES: frozenset[str] = frozenset(
    {"C1", "C2", "D1", "E1", "V2", "V3", "V4", "L1", "L2", "L3", "J1", "J2", "J3"}
)
#: Legal statuses of short-break (respite) episodes, excluded by default.
SHORT_BREAK_LS: frozenset[str] = frozenset({"V3", "V4"})

CIN_CODES: frozenset[str] = frozenset({f"N{i}" for i in range(1, 9)})

PLACE_PROVIDERS: frozenset[str] = frozenset({f"PR{i}" for i in range(6)})

REASON_PLACE_CHANGE_CODES: frozenset[str] = frozenset(
    {
        "CARPL",
        "CLOSE",
        "ALLEG",
        "STAND",
        "APPRR",
        "CREQB",
        "CREQO",
        "CHILD",
        "LAREQ",
        "PLACE",
        "CUSTOD",
        "OTHER",
    }
)
#: Placement changes that are not breakdowns: implementing the care plan, or a
#: change in the placement's status only.
PLANNED_CHANGE_REASONS: frozenset[str] = frozenset({"CARPL", "PLACE"})

#: Placement categories, in the order reports show them.
CATEGORY_ORDER: tuple[str, ...] = (
    "placed_with_parents",
    "kinship",
    "fostering",
    "supported",
    "residential",
    "secure",
    "adoption",
    "other",
)

PLACE_CATEGORY: dict[str, str] = {
    **dict.fromkeys(("U1", "U2", "U3"), "kinship"),
    **dict.fromkeys(("U4", "U5", "U6"), "fostering"),
    **dict.fromkeys(("K2", "R1", "P3", "S1"), "residential"),
    "K1": "secure",
    **dict.fromkeys(("H5", "P2", "K3"), "supported"),
    "P1": "placed_with_parents",
    **dict.fromkeys(("A3", "A4", "A5", "A6"), "adoption"),
    **dict.fromkeys(("R2", "R3", "R5", "T0", "T1", "T2", "T3", "T4", "Z1"), "other"),
}

#: Placement codes used before U1-U6: Q1 foster placement with other carers,
#: Q2 with a relative or friend. Mapped to a current code of the same category.
LEGACY_PLACE: dict[str, str] = {"Q1": "U4", "Q2": "U1"}

ROUTE_ORDER: tuple[str, ...] = EXIT_ROUTES

REC_ROUTE: dict[str, str] = {
    **dict.fromkeys(("E4A", "E4B", "E13"), "return_home"),
    **dict.fromkeys(("E11", "E12"), "adoption"),
    **dict.fromkeys(("E45", "E46", "E47", "E48"), "special_guardianship"),
    "E41": "child_arrangements",
    **dict.fromkeys(("E17", "E5", "E6", "E7"), "leaving_care"),
    **dict.fromkeys(("E2", "E3", "E8", "E9", "E14", "E15", "E16"), "other"),
}

#: Special guardianship codes before 2014 (E43 to former foster carers, E44 to
#: others), mapped to current SGO codes.
LEGACY_REC: dict[str, str] = {"E43": "E45", "E44": "E46"}

#: CIN census closure reasons.
CLOSURE_REASONS: frozenset[str] = frozenset({f"RC{i}" for i in range(1, 10)})


def provider_group(place_provider: str) -> str:
    """Return ``"in_house"`` or ``"external"`` for a PLACE_PROVIDER code.

    PR1 (own authority) is in-house; PR2-PR5 (other authority, other public,
    private, voluntary) are external. PR0 (parents) and blank are counted as
    in-house: no placement is bought.
    """
    if place_provider in {"PR2", "PR3", "PR4", "PR5"}:
        return "external"
    return "in_house"
