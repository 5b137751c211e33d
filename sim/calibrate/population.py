"""Children looked after on a given day: the warm start of a calibrated run.

Only counts by placement, age and time in care leave this module's callers;
the table itself holds one row per child with internal keys only.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["stock_at"]

_DAYS_PER_YEAR = 365.25


def stock_at(placements: pd.DataFrame, periods: pd.DataFrame, as_at: pd.Timestamp) -> pd.DataFrame:
    """Children in care at the end of ``as_at`` and their current placement.

    Parameters
    ----------
    placements, periods
        Tables from :func:`sim.calibrate.clean_episodes`.
    as_at
        The day.

    Returns
    -------
    pandas.DataFrame
        One row per child: ``category``, ``provider``, ``place``,
        ``age_years`` (on ``as_at``), ``days_in_care`` (since the period
        began), ``days_at_least`` (True when the first episode of the period in
        the data is not an RNE S one: the period began earlier, on a day the data
        do not show, so ``days_in_care`` is a lower bound; a period that began
        before the data window with an RNE S episode still open then has a known
        start),
        ``days_in_placement``.

    """
    pl = placements
    current = pl[(pl["start"] <= as_at) & (pl["end"].isna() | (pl["end"] > as_at))]
    current = current.sort_values("start").drop_duplicates("child_key", keep="last")
    per = periods.set_index("period_key")
    start = per.loc[current["period_key"], "start"].to_numpy()
    unknown_start = ~per.loc[current["period_key"], "start_known"].to_numpy(bool)
    return pd.DataFrame(
        {
            "category": current["category"].to_numpy(),
            "provider": current["provider"].to_numpy(),
            "place": current["place"].to_numpy(),
            "age_years": (
                current["age_at_start_years"] + (as_at - current["start"]).dt.days / _DAYS_PER_YEAR
            ).to_numpy(),
            "days_in_care": (as_at - pd.to_datetime(start)).days.to_numpy(),
            "days_at_least": unknown_start.astype(bool),
            "days_in_placement": (as_at - current["start"]).dt.days.to_numpy(),
        }
    )
