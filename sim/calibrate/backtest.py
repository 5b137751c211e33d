"""Backtest: calibrate on data up to a date, simulate forward, compare with what happened.

The data after the as-at date are hidden from the calibration (episodes that
started later are removed, those that ended later are reopened), the
calibrated config is run forward with :func:`sim.run`, and each month's
observed value is compared with the simulated distribution: children looked
after at month end (all and by placement category), entries to care in the
month, exits in the month (all and by route).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.calibrate.cleaning import CleanData, clean_episodes
from sim.calibrate.codes import CATEGORY_ORDER
from sim.calibrate.errors import DataError
from sim.calibrate.loader import load_903, load_cin
from sim.calibrate.model_entries import Runner
from sim.calibrate.writer import DEFAULT_TEMPLATE, Calibration, calibrate_loaded
from sim.config import EXIT_ROUTES, with_overrides

__all__ = ["BacktestResult", "backtest", "observed_monthly"]

# Categories the observed data and the simulator share (the data's "other" has no model twin).
_CATEGORIES = tuple(c for c in CATEGORY_ORDER if c != "other")
_ROUTES = EXIT_ROUTES


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest found.

    Attributes
    ----------
    errors
        One row per measure, category and month: observed, sim_median,
        sim_p5, sim_p95 (a 90% band for a further run, see :func:`_band`),
        error (median - observed), inside (P5 <= observed <= P95).
    coverage
        Per measure and category: months, share_inside, mean_error (bias),
        mean_abs_error, mean_abs_pct_error.
    calibration
        The calibration made on the data up to the as-at date.
    files
        Files written (CSV tables, fan chart, Markdown summary).

    """

    errors: pd.DataFrame
    coverage: pd.DataFrame
    calibration: Calibration
    files: tuple[Path, ...]

    def share_inside(self, measure: str = "looked_after", category: str = "all") -> float:
        """Share of months whose observed value lies inside the simulated P5-P95 band."""
        row = self.coverage[
            (self.coverage["measure"] == measure) & (self.coverage["category"] == category)
        ]
        return float(row["share_inside"].iloc[0]) if len(row) else float("nan")


def observed_monthly(clean: CleanData, months: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """Observed monthly series in the simulator's terms.

    Parameters
    ----------
    clean
        Clean tables of the full data.
    months
        First days of the months to measure.

    Returns
    -------
    pandas.DataFrame
        date (month start), measure, category, value. Stocks are counted at
        the end of the month, flows over the month.

    """
    per, pl = clean.periods, clean.placements
    rows = []
    for m in months:
        m_end = m + pd.offsets.MonthEnd(0)
        in_care = (per["start"] <= m_end) & (per["end"].isna() | (per["end"] > m_end))
        rows.append((m, "looked_after", "all", int(in_care.sum())))
        cur = pl[(pl["start"] <= m_end) & (pl["end"].isna() | (pl["end"] > m_end))]
        cur = cur.drop_duplicates("child_key", keep="last")
        counts = cur["category"].value_counts()
        for cat in _CATEGORIES:
            rows.append((m, "looked_after_by_category", cat, int(counts.get(cat, 0))))
        started = (per["start"] >= m) & (per["start"] <= m_end) & per["start_known"]
        rows.append((m, "entries", "all", int(started.sum())))
        ended = per[per["end"].notna() & (per["end"] >= m) & (per["end"] <= m_end)]
        rows.append((m, "exits", "all", len(ended)))
        by_route = ended["route_model"].value_counts()
        for route in _ROUTES:
            rows.append((m, "exits", route, int(by_route.get(route, 0))))
    return pd.DataFrame(rows, columns=["date", "measure", "category", "value"])


def _band(values: pd.Series) -> pd.Series:
    """Simulated P5, median and P95 of one month, as a 90% band for a new run.

    The quantiles are read at plotting positions i / (n + 1) (numpy's
    ``weibull`` method): the band between them then holds a further run of the
    same model with probability 90% whatever the number of runs n. The usual
    interpolation between order statistics (positions (i - 1) / (n - 1)) gives
    a narrower band that holds a further run with probability 0.9 (n - 1) /
    (n + 1) only: 81% with 20 runs, 86% with 40; a backtest asking that the
    observed path lie inside the band in 80% of months would then fail for a
    perfect model about as often as not.
    """
    p5, median, p95 = np.quantile(values.to_numpy(float), [0.05, 0.5, 0.95], method="weibull")
    return pd.Series({"sim_p5": float(p5), "sim_median": float(median), "sim_p95": float(p95)})


def _fan_chart(errors: pd.DataFrame, path: Path, title: str) -> Path:
    panels = [
        ("looked_after", "all", "children looked after (month end)"),
        ("entries", "all", "entries to care per month"),
        ("exits", "all", "exits from care per month"),
    ]
    cats = [
        c
        for c in _CATEGORIES
        if not errors[
            (errors["measure"] == "looked_after_by_category") & (errors["category"] == c)
        ].empty
    ]
    panels += [
        ("looked_after_by_category", c, f"looked after: {c.replace('_', ' ')}") for c in cats
    ]
    n = len(panels)
    cols = 3
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(4.3 * cols, 3.0 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, (measure, cat, label) in zip(axes, panels, strict=False):
        d = errors[(errors["measure"] == measure) & (errors["category"] == cat)].sort_values("date")
        if d.empty:
            ax.set_visible(False)
            continue
        ax.fill_between(
            d["date"],
            d["sim_p5"],
            d["sim_p95"],
            color="#9ecae1",
            alpha=0.7,
            label="simulated P5-P95",
        )
        ax.plot(d["date"], d["sim_median"], color="#3182bd", lw=1.2, label="simulated median")
        ax.plot(d["date"], d["observed"], color="black", marker=".", lw=1.0, label="observed")
        inside = d["inside"].mean()
        ax.set_title(f"{label}\n{inside:.0%} of months inside the band", fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=100, metadata={"Title": "caresim backtest", "Software": "caresim"})
    return path


def backtest(
    episodes: Sequence[str | Path] | str | Path,
    header: Sequence[str | Path] | str | Path,
    as_at: dt.date | str,
    horizon_years: float = 2.0,
    replications: int = 20,
    seed: int = 1,
    out_dir: str | Path | None = None,
    *,
    cin: Sequence[str | Path] | str | Path | None = None,
    template: str | Path = DEFAULT_TEMPLATE,
    n_bootstrap: int = 20,
    scale_years: float = 2.5,
    uncertainty: bool = True,
    runner: Runner | None = None,
    max_bad_row_share: float = 0.01,
) -> BacktestResult:
    """Calibrate on data up to ``as_at``, simulate ``horizon_years`` forward, compare.

    Parameters
    ----------
    episodes, header, cin
        The SSDA903 (and optional CIN) files, covering ``as_at`` and after.
    as_at
        Calibration date; data after it are hidden from the calibration.
    horizon_years
        Years simulated (and compared, as far as the data go).
    replications, seed
        Size and seed of the forward simulation.
    out_dir
        Folder for ``backtest-errors.csv``, ``backtest-coverage.csv``,
        ``backtest.png`` and ``backtest.md`` (nothing written when None).
    template
        Template config for the calibration.
    n_bootstrap
        Bootstrap replicates of the calibration's exit model.
    scale_years
        Length of the model runs that set the referral rate.
    uncertainty
        Draw the referral rate, route durations and breakdown rates per
        replication from their estimation uncertainty, so the band reflects
        what the data could not pin down (not only the model's chance).
    runner
        Replaces :func:`sim.run` (tests).
    max_bad_row_share
        Largest share of bad rows skipped per file (see :func:`sim.calibrate.load_903`).

    Returns
    -------
    BacktestResult

    """
    if runner is None:
        from sim.experiment.batch import run

        runner = run
    if isinstance(episodes, str | Path):
        episodes = [episodes]
    if isinstance(header, str | Path):
        header = [header]
    as_at_d = as_at if isinstance(as_at, dt.date) else dt.date.fromisoformat(str(as_at))
    loaded = load_903(list(episodes), list(header), max_bad_row_share=max_bad_row_share)
    cin_paths = [cin] if isinstance(cin, str | Path) else list(cin or [])
    cin_data = load_cin(cin_paths, max_bad_row_share=max_bad_row_share) if cin_paths else None
    full = clean_episodes(loaded)
    calibration = calibrate_loaded(
        loaded,
        cin=cin_data,
        as_at=as_at_d,
        template=template,
        n_bootstrap=n_bootstrap,
        seed=seed,
        scale_years=scale_years,
        runner=runner,
        uncertainty=uncertainty,
    )
    cfg = with_overrides(calibration.config, {"run.years": horizon_years})
    start = pd.Timestamp(cfg.run.start_date)
    last = min(full.data_end, start + pd.DateOffset(days=cfg.run.horizon_days - 1))
    months = list(pd.date_range(start, last, freq="MS"))
    months = [m for m in months if m + pd.offsets.MonthEnd(0) <= full.data_end]
    if not months:
        raise DataError(
            f"the data end on {full.data_end.date()}: no whole month after the as-at date "
            f"{as_at_d} to compare with; choose an earlier as-at date"
        )
    observed = observed_monthly(full, months)
    result = runner(cfg, replications=replications, seed=seed)
    ts = result.timeseries
    ts = ts.assign(date=pd.to_datetime(ts["date"]))
    keys = set(zip(observed["measure"], observed["category"], strict=True))
    sim = ts[[(m, c) in keys for m, c in zip(ts["measure"], ts["category"], strict=True)]]
    sim = sim[sim["date"].isin(months)]
    q = (
        sim.groupby(["measure", "category", "date"], observed=True)["value"]
        .apply(_band)
        .unstack()
        .reset_index()
    )
    q["measure"] = q["measure"].astype(str)
    q["category"] = q["category"].astype(str)
    errors = observed.rename(columns={"value": "observed"}).merge(
        q, on=["measure", "category", "date"], how="inner"
    )
    # Categories nobody is in, in the data or the model, say nothing.
    nonzero = (
        errors.groupby(["measure", "category"])[["observed", "sim_p95"]]
        .transform("max")
        .sum(axis=1)
        > 0
    )
    errors = errors[nonzero].copy()
    errors["error"] = errors["sim_median"] - errors["observed"]
    errors["inside"] = (errors["observed"] >= errors["sim_p5"]) & (
        errors["observed"] <= errors["sim_p95"]
    )
    errors = (
        errors[
            [
                "measure",
                "category",
                "date",
                "observed",
                "sim_median",
                "sim_p5",
                "sim_p95",
                "error",
                "inside",
            ]
        ]
        .sort_values(["measure", "category", "date"])
        .reset_index(drop=True)
    )
    g = errors.groupby(["measure", "category"], sort=False)
    coverage = g.agg(
        months=("inside", "size"),
        share_inside=("inside", "mean"),
        mean_error=("error", "mean"),
        mean_abs_error=("error", lambda e: float(np.mean(np.abs(e)))),
    ).reset_index()
    obs_mean = g["observed"].mean().to_numpy()
    coverage["mean_abs_pct_error"] = np.where(
        obs_mean > 0, coverage["mean_abs_error"] / obs_mean, np.nan
    )

    files: list[Path] = []
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        e_path = out / "backtest-errors.csv"
        errors.assign(date=errors["date"].dt.date).to_csv(e_path, index=False)
        c_path = out / "backtest-coverage.csv"
        coverage.to_csv(c_path, index=False)
        png = _fan_chart(
            errors,
            out / "backtest.png",
            f"Backtest: calibrated on data to {as_at_d}, {replications} runs forward",
        )
        md = out / "backtest.md"
        md.write_text(_markdown(errors, coverage, as_at_d, replications, months), encoding="utf-8")
        files = [e_path, c_path, png, md]
    return BacktestResult(errors, coverage, calibration, tuple(files))


def _markdown(
    errors: pd.DataFrame,
    coverage: pd.DataFrame,
    as_at: dt.date,
    replications: int,
    months: Sequence[pd.Timestamp],
) -> str:
    lines = [
        "# Backtest",
        "",
        f"Calibrated on data up to {as_at}; {replications} simulated runs compared with "
        f"{len(months)} observed months ({months[0].date()} to {months[-1].date()}).",
        "",
        "![fan chart](backtest.png)",
        "",
        "| measure | category | months | share inside P5-P95 | mean error | mean abs error "
        "| mean abs % error |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in coverage.itertuples():
        pct = "" if not np.isfinite(r.mean_abs_pct_error) else f"{r.mean_abs_pct_error:.1%}"
        lines.append(
            f"| {r.measure} | {r.category} | {r.months} | {r.share_inside:.0%} | "
            f"{r.mean_error:+.1f} | {r.mean_abs_error:.1f} | {pct} |"
        )
    lines += ["", "Monthly detail: backtest-errors.csv.", ""]
    del errors
    return "\n".join(lines)
