"""The calibration report: Markdown and PNG charts in a folder.

Charts are drawn on matplotlib's Agg canvas directly (no pyplot state):
observed (Aalen-Johansen, lifelines) against fitted cumulative incidence of
each exit route, observed (Kaplan-Meier, lifelines) against fitted time in
care, entries by year and age band, and the placement mix at entry. Tables
list every estimate with its interval and n, the cleaning report and the
keys that remain inputs. Only aggregates appear.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.calibrate.codes import CATEGORY_ORDER, ROUTE_ORDER
from sim.calibrate.rates import band_labels
from sim.calibrate.writer import Calibration

__all__ = ["observed_cif", "write_report"]

_PNG_METADATA = {"Title": "caresim calibration report", "Software": "caresim"}
_TIE_BREAK_DAYS = 1e-3


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110, metadata=_PNG_METADATA)
    return path


def observed_cif(time_days: np.ndarray, status: np.ndarray, route_index: int) -> pd.Series:
    """Aalen-Johansen cumulative incidence of one route (lifelines).

    ``status`` is the route index of each exit, -1 while open. Exits by
    different routes on the same day are separated by a thousandth of a day
    per route index, so lifelines never has to jitter them at random.
    """
    events = np.where(status >= 0, status + 1, 0)
    t = np.asarray(time_days, dtype=float) + np.where(
        status >= 0, (status + 1) * _TIE_BREAK_DAYS, 0.0
    )
    t = np.maximum(t, _TIE_BREAK_DAYS)
    ajf = AalenJohansenFitter(calculate_variance=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ajf.fit(t, events, event_of_interest=route_index + 1)
    return ajf.cumulative_density_.iloc[:, 0]


def _exit_plots(cal: Calibration, out: Path) -> list[Path]:
    est = cal.report.estimates
    # Observed curves from entry: only the periods that began inside the window
    # (those already under way at its start are left-truncated).
    data = est.exit_input
    data = data.take(np.nonzero(data.entry == 0)[0])
    fit = est.exits
    labels = band_labels(est.exit_edges_years)
    colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
    horizon = float(np.percentile(data.time_days, 99)) if len(data.time_days) else 1.0
    grid = np.linspace(0, max(horizon, 1.0), 200)
    fig = Figure(figsize=(13, 8))
    axes = fig.subplots(2, 3).ravel()
    for j, route in enumerate(ROUTE_ORDER):
        ax = axes[j]
        for b, label in enumerate(labels):
            mask = data.band == b
            if mask.sum() < 10:
                continue
            cif = observed_cif(data.time_days[mask], data.status[mask], j)
            ax.step(
                cif.index,
                cif.to_numpy(),
                where="post",
                color=colours[b % 6],
                lw=1.2,
                label=f"{label} observed",
            )
            model = fit.cif(data.tau_days[mask], b, grid)[route]
            ax.plot(grid, model, color=colours[b % 6], ls="--", lw=1.2, label=f"{label} fitted")
        ax.set_title(route.replace("_", " "))
        ax.set_xlabel("days since entry")
        ax.set_ylabel("cumulative incidence")
        ax.set_xlim(0, grid[-1])
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle("Exit routes by age at entry: observed (Aalen-Johansen, solid) vs fitted (dashed)")
    fig.tight_layout()
    paths = [_save(fig, out / "exit_routes.png")]

    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for b, label in enumerate(labels):
        mask = data.band == b
        if mask.sum() < 10:
            continue
        km = KaplanMeierFitter().fit(data.time_days[mask], event_observed=data.status[mask] >= 0)
        sf = km.survival_function_.iloc[:, 0]
        ax.step(
            sf.index, sf.to_numpy(), where="post", color=colours[b % 6], label=f"{label} observed"
        )
        cifs = fit.cif(data.tau_days[mask], b, grid)
        ax.plot(
            grid, 1 - sum(cifs.values()), color=colours[b % 6], ls="--", label=f"{label} fitted"
        )
    ax.set_xlabel("days since entry")
    ax.set_ylabel("share still in care")
    ax.set_xlim(0, grid[-1])
    ax.set_title("Time in care by age at entry: Kaplan-Meier (solid) vs fitted (dashed)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    paths.append(_save(fig, out / "time_in_care.png"))
    return paths


def _entry_plots(cal: Calibration, out: Path) -> list[Path]:
    est = cal.report.estimates
    by_year = est.entries_by_year.copy()
    table = by_year.pivot(index="year_ending", columns="band", values="entries").fillna(0)
    table = table[[c for c in by_year["band"].unique()]]
    exposure = by_year.groupby("year_ending")["exposure_years"].first()
    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    bottom = np.zeros(len(table))
    x = np.arange(len(table))
    for band in table.columns:
        vals = table[band].to_numpy(float)
        ax.bar(x, vals, bottom=bottom, label=str(band))
        bottom += vals
    ax.set_xticks(x, [f"{y}" + ("*" if exposure[y] < 0.999 else "") for y in table.index])
    ax.set_xlabel("collection year ending 31 March (* part year)")
    ax.set_ylabel("entries to care")
    t = est.trend
    ax.set_title(
        f"Entries by year and age band (trend {t.growth_per_year:+.1%}/yr, "
        f"95% CI {t.lower:+.1%} to {t.upper:+.1%})"
    )
    ax.legend(title="age at entry", fontsize=8)
    fig.tight_layout()
    paths = [_save(fig, out / "entries.png")]

    mix = est.entry_mix[est.entry_mix["provider"] == "all"]
    bands = list(dict.fromkeys(mix["band"]))
    fig = Figure(figsize=(9, 5))
    ax = fig.subplots()
    left = np.zeros(len(bands))
    for cat in CATEGORY_ORDER:
        vals = np.array(
            [
                float(mix[(mix["band"] == b) & (mix["category"] == cat)]["share"].sum())
                for b in bands
            ]
        )
        if vals.sum() == 0:
            continue
        ax.barh(bands, vals, left=left, label=cat.replace("_", " "))
        left += vals
    ax.set_xlabel("share of entries")
    ax.set_ylabel("age at entry (years)")
    ax.set_title("Placement category at entry")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    paths.append(_save(fig, out / "placement_mix.png"))
    return paths


def _table(df: pd.DataFrame, floatfmt: str = ".3g") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(str(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if math.isnan(v) else format(v, floatfmt))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(calibration: Calibration, out_dir: str | Path) -> Path:
    """Write ``calibration-report.md`` and its charts into ``out_dir``.

    Parameters
    ----------
    calibration
        Output of :func:`sim.calibrate.calibrate`.
    out_dir
        Folder (created if needed).

    Returns
    -------
    pathlib.Path
        The Markdown file.

    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rep = calibration.report
    est = rep.estimates
    plots = _exit_plots(calibration, out) + _entry_plots(calibration, out)
    files = rep.files[
        ["file", "kind", "year_ending", "rows_read", "rows_kept", "rows_dropped"]
    ].copy()
    files["year_ending"] = files["year_ending"].map(lambda y: "" if pd.isna(y) else str(int(y)))
    m_t, m_c = rep.model_entries
    lines = [
        "# Calibration report",
        "",
        f"Data from {est.window_start.date()} to {est.data_end.date()}, calibrated as at "
        f"**{est.as_at.date()}**; template `{rep.template}`. Only aggregates appear in this "
        "report and in the config: no child identifier, date of birth, postcode or URN.",
        "",
        "```",
        rep.summary(),
        "```",
        "",
        "## Input files",
        "",
        _table(files),
        "",
        "## Cleaning",
        "",
        est.cleaning.to_markdown(),
        "",
        "## Entries to care",
        "",
        "![entries](entries.png)",
        "",
        _table(est.entry_rates),
        "",
        f"Trend: {est.trend.growth_per_year:+.2%} a year (95% CI {est.trend.lower:+.2%} to "
        f"{est.trend.upper:+.2%}; dispersion {est.trend.dispersion:.2f}; "
        + (
            "significant, written as referrals.trend_per_year)."
            if est.trend.significant
            else "not significant, trend set to 0)."
        ),
        "",
        f"Referral rate: the model was run at the template's referral rate and gave "
        f"{m_t.per_year:.1f} entries a year ({m_t.replications} runs); the data show "
        f"{rep.observed_entries_per_year:.1f}, so the rate was multiplied by "
        f"{rep.referral_factor:.3f} (the yield of entries per referral pooled over "
        f"{m_c.replications} runs, each run's entries divided by its rate factor); "
        f"at the calibrated rate the model gives {m_c.per_year:.1f} a year (SE {m_c.se:.1f})."
        if m_t is not None and m_c is not None
        else "Referral rate: not rescaled (the model was not run).",
        "",
        "## Placement at entry",
        "",
        "![placement mix](placement_mix.png)",
        "",
        _table(est.entry_mix[est.entry_mix["provider"] == "all"].drop(columns=["provider"])),
        "",
        "## Placement moves",
        "",
        _table(est.moves),
        "",
        f"Teenage multiplier: {est.teen_multiplier['value']:.2f} (95% CI "
        f"{est.teen_multiplier['lower']:.2f}-{est.teen_multiplier['upper']:.2f}).",
        "",
        "## In-house share",
        "",
        _table(est.in_house),
        "",
        "## Exits",
        "",
        "Route shares by age at entry and route durations are fitted together by EM as a "
        "mixture competing-risks model (the simulator's exit mechanism); open periods are "
        f"censored on the as-at date; intervals from {est.n_bootstrap} bootstrap resamples of "
        "children. Each route's duration family is chosen by AIC (lower is better).",
        "",
        "![exit routes](exit_routes.png)",
        "",
        "![time in care](time_in_care.png)",
        "",
        _table(est.exit_shares),
        "",
        _table(est.exit_durations, ".5g"),
        "",
        f"Re-entry within a year of returning home: {est.reentry['share']:.1%} "
        f"(95% CI {est.reentry['lower']:.1%}-{est.reentry['upper']:.1%}, n={est.reentry['n']}).",
        "",
        "## Starting population",
        "",
        _table(est.stock.groupby(["category", "provider"]).size().rename("children").reset_index()),
        "",
    ]
    if est.cin is not None:
        c = est.cin
        lines += [
            "## Front door (CIN data)",
            "",
            f"Referrals: {c.referrals_per_year['value']:.0f} a year (95% CI "
            f"{c.referrals_per_year['lower']:.0f}-{c.referrals_per_year['upper']:.0f}); no further "
            f"action {c.nfa_share['value']:.1%}; re-referred within 12 months "
            f"{c.rereferral_share['value']:.1%}.",
            "",
        ]
    lines += [
        "## Summary of estimates",
        "",
        _table(est.summary()),
        "",
        "## Notes",
        "",
        *[f"- {n}" for n in (*rep.mapped.notes, *rep.notes, *est.notes)],
        "",
        "## Keys set from the data",
        "",
        *[f"- `{k}`" for k in rep.mapped.estimated],
        "",
        "Every other key is copied from the template and marked `[input]` in the config.",
        "",
        "Charts: " + ", ".join(p.name for p in plots),
        "",
    ]
    path = out / "calibration-report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
