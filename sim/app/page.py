"""The planner's page: Shiny for Python UI and server, in the order a planner works.

1. Baseline: a bundled config or an uploaded TOML file.
2. Levers: capacity, thresholds, edge of care, social workers, unit costs;
   each with its unit and baseline, and the config layer's error beside it.
3. Run: replications and seed; the batch runs in a worker thread (a Shiny
   extended task) so the page stays responsive, with a progress bar.
4. Results: fan chart, spend by year (against the budget and targets the
   config states), paired difference from the baseline.
5. Save: a scenario TOML that ``extends`` the baseline; CSV and Excel downloads.
6. Rank: every saved scenario run with the baseline's seed and replications,
   ranked by total spend and children looked after; a CSV download.

A running batch (Run or Rank) can be cancelled: the worker stops at its next
replication and the page says so.

Every number comes from the functions the command line calls (through
:mod:`sim.app.levers` and :mod:`sim.app.results`); this module only lays out
and wires. :func:`make_app` builds the :class:`shiny.App`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shiny import App, Inputs, Outputs, Session, reactive, render, ui

from sim.app import levers as lv
from sim.app import results as rs
from sim.config import Config, load_config
from sim.defaults import DEFAULT_SEED
from sim.errors import CaresimError

__all__ = ["BUNDLED", "CONFIGS", "make_app"]

log = logging.getLogger("caresim.app")

#: The repository's configs folder (bundled baselines).
CONFIGS = Path(__file__).resolve().parents[2] / "configs"

#: Bundled baselines: file name → label.
BUNDLED: dict[str, str] = {
    "worcestershire-2016.toml": "Worcestershire-like county, April 2016",
    "england.toml": "England, April 2019 (national scale: slow)",
}

_UPLOAD = "upload"

_CSS = """
.lever { border-bottom: 1px solid #eee; padding: 4px 0 6px; }
.lever-head { font-weight: 600; font-size: 0.9rem; }
.lever-base { color: #555; font-size: 0.8rem; }
.lever-row { display: flex; gap: 6px; align-items: end; }
.lever-row .form-group { margin-bottom: 0; }
.lever-row .shiny-input-container { width: auto !important; }
.lever-row input { width: 7.5em; padding: 2px 6px; }
.lever-row input.lever-date { width: 8.5em; }
.lever-error { color: #b00020; font-size: 0.8rem; white-space: pre-wrap; }
.config-error { color: #b00020; white-space: pre-wrap; font-size: 0.85rem; }
.meaning { font-style: italic; margin: 2px 0 14px; }
.small-note { color: #555; font-size: 0.8rem; }
pre.toml { font-size: 0.8rem; background: #f7f7f7; padding: 6px; }
#rank_table { overflow-x: auto; }
#rank_table td { white-space: nowrap; }
"""

_JS = """
Shiny.addCustomMessageHandler("caresim-errors", function (m) {
  document.querySelectorAll(".lever-error").forEach(function (el) {
    el.textContent = m.errors[el.dataset.lever] || "";
  });
});
"""


@dataclass(frozen=True)
class Baseline:
    """The chosen baseline: its config and the file a saved scenario extends."""

    label: str
    config: Config | None = None
    path: Path | None = None
    upload_text: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Plan:
    """What "Run" would run now: configs and overrides, or the form's error."""

    base: Config | None = None
    scenario: Config | None = None
    run_overrides: dict[str, Any] = field(default_factory=dict)
    lever_overrides: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    lever_errors: dict[str, str] = field(default_factory=dict)


def _shown(v: float | None) -> Any:  # an empty field is None, which Shiny takes
    return int(v) if v is not None and float(v).is_integer() else v


def _lever_ui(lever: lv.Lever) -> Any:
    i = lever.input_id
    more = (
        f"; and {lever.more_steps} later change(s), replaced if you edit this"
        if lever.more_steps
        else ""
    )
    return ui.div(
        ui.div(lever.label, ui.span(f" ({lever.unit})", class_="lever-base"), class_="lever-head"),
        ui.div(f"baseline: {lever.baseline_text}{more}", class_="lever-base"),
        ui.div(
            ui.input_numeric(f"{i}_now", "now", _shown(lever.now), step=lever.increment),
            ui.input_text(
                f"{i}_date", "from date", lever.step_date or "", placeholder="YYYY-MM-DD"
            ),
            ui.input_numeric(f"{i}_value", "to", _shown(lever.step_value), step=lever.increment),
            class_="lever-row",
        ),
        ui.div(class_="lever-error", **{"data-lever": i}),
        class_="lever",
    )


def _levers_ui(levers: tuple[lv.Lever, ...]) -> Any:
    panels = []
    for group in lv.GROUPS:
        items = [_lever_ui(x) for x in levers if x.group == group]
        if items:
            panels.append(ui.accordion_panel(group, *items, value=group))
    return ui.accordion(*panels, id="lever_groups", open=[lv.GROUPS[0]], multiple=True)


def _app_ui() -> Any:
    choices = {name: label for name, label in BUNDLED.items() if (CONFIGS / name).exists()}
    sidebar = ui.sidebar(
        ui.h5("1. Baseline"),
        ui.input_select("baseline", None, choices=choices),
        ui.input_file("upload", "or upload a TOML config", accept=[".toml"], multiple=False),
        ui.output_ui("baseline_info"),
        ui.h5("2. Levers"),
        ui.output_ui("form_error"),
        ui.output_ui("levers"),
        width=480,
    )
    run_card = ui.card(
        ui.card_header("3. Run"),
        ui.layout_columns(
            ui.input_numeric("replications", "Replications", 20, min=1, max=1000),
            ui.input_numeric("seed", "Seed", DEFAULT_SEED, min=0),
            ui.output_ui("years_ui"),
            col_widths=(4, 4, 4),
        ),
        ui.output_ui("plan_text"),
        ui.div(
            ui.input_task_button("run", "Run", label_busy="Running…"),
            " ",
            ui.input_action_button("cancel", "Cancel run", class_="btn-outline-secondary"),
        ),
        ui.output_ui("progress"),
    )
    results_card = ui.card(
        ui.card_header("4. Results"),
        ui.output_ui("run_status"),
        ui.h6("Children looked after"),
        ui.output_plot("fan", height="340px"),
        ui.output_ui("fan_meaning"),
        ui.h6("Spend by financial year"),
        ui.output_plot("spend", height="300px"),
        ui.output_ui("spend_meaning"),
        ui.output_ui("key_tables"),
        ui.output_ui("budget_block"),
        ui.h6("Scenario − baseline (paired: same seed, same replications)"),
        ui.output_ui("difference_block"),
    )
    save_card = ui.card(
        ui.card_header("5. Save"),
        ui.layout_columns(
            ui.input_text("scenario_name", "Scenario name", "my scenario"),
            ui.div(ui.input_action_button("save", "Save scenario TOML"), style="margin-top:30px"),
            col_widths=(6, 6),
        ),
        ui.output_ui("saved"),
        ui.output_ui("downloads"),
    )
    rank_card = ui.card(
        ui.card_header("6. Saved scenarios ranked"),
        ui.output_ui("saved_list"),
        ui.div(
            ui.input_task_button("rank", "Rank saved scenarios", label_busy="Ranking…"),
            " ",
            ui.input_action_button("rank_cancel", "Cancel ranking", class_="btn-outline-secondary"),
        ),
        ui.output_ui("rank_progress"),
        ui.output_ui("rank_block"),
    )
    return ui.page_sidebar(
        sidebar,
        ui.tags.head(ui.tags.style(_CSS), ui.tags.script(_JS)),
        run_card,
        results_card,
        save_card,
        rank_card,
        title="caresim: children's social care scenarios",
        window_title="caresim",
    )


def _clean(text: str, tmp: str | None, name: str | None) -> str:
    return text.replace(tmp, name) if tmp and name else text


def _form_part(input: Inputs, session: Session) -> tuple[Any, Any]:  # noqa: C901 - flat reactives
    """Steps 1 and 2: the baseline and the levers; returns the baseline and plan calcs."""
    uploaded: reactive.Value[tuple[str, str] | None] = reactive.value(None)

    @reactive.effect
    @reactive.event(input.upload)
    def _read_upload() -> None:
        files = input.upload()
        if not files:
            return
        f = files[0]
        try:
            text = Path(f["datapath"]).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            text = f"# unreadable upload: {exc}"
        uploaded.set((f["name"], text))
        choices = {n: label for n, label in BUNDLED.items() if (CONFIGS / n).exists()}
        choices[_UPLOAD] = f"Uploaded: {f['name']}"
        ui.update_select("baseline", choices=choices, selected=_UPLOAD)

    @reactive.calc
    def baseline() -> Baseline:
        choice = input.baseline()
        if choice == _UPLOAD and uploaded() is not None:
            name, text = uploaded() or ("", "")
            # Load from a private temporary folder, removed at once.
            tmp = tempfile.mkdtemp(prefix="caresim-upload-")
            try:
                path = Path(tmp) / Path(name).name
                path.write_text(text, "utf-8")
                cfg = load_config(path)
            except CaresimError as exc:
                return Baseline(name, error=_clean(str(exc), str(path), name))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return Baseline(name, config=cfg, upload_text=text)
        path = CONFIGS / choice
        try:
            return Baseline(BUNDLED.get(choice, choice), config=load_config(path), path=path)
        except CaresimError as exc:
            return Baseline(choice, error=str(exc))

    @reactive.calc
    def lever_list() -> tuple[lv.Lever, ...]:
        b = baseline()
        return lv.levers_of(b.config) if b.config is not None else ()

    def read_form(items: tuple[lv.Lever, ...]) -> dict[str, lv.LeverValue]:
        form = lv.baseline_form(items)
        for x in items:
            i = x.input_id
            if f"{i}_now" not in input:
                continue
            form[x.key] = lv.LeverValue(
                input[f"{i}_now"](),
                input[f"{i}_date"]() if f"{i}_date" in input else x.step_date,
                input[f"{i}_value"]() if f"{i}_value" in input else x.step_value,
            )
        return form

    @reactive.calc
    def plan() -> Plan:
        b = baseline()
        if b.config is None:
            return Plan(error=b.error)
        items = lever_list()
        form = read_form(items)
        years = input.years() if "years" in input else None
        changed = lv.changed_keys(items, form)
        try:
            run_ov = lv.run_overrides(b.config, years=years)
            lever_ov = lv.overrides_from_form(b.config, items, form)
            base, scen = lv.scenario_configs(b.config, run_ov, lever_ov)
        except CaresimError as exc:
            return Plan(error=str(exc), lever_errors=lv.lever_errors(items, changed, exc))
        return Plan(base, scen, run_ov, lever_ov)

    @reactive.effect
    async def _send_errors() -> None:
        await session.send_custom_message("caresim-errors", {"errors": plan().lever_errors})

    @render.ui
    def baseline_info() -> Any:
        b = baseline()
        if b.config is None:
            return ui.div(b.error or "", class_="config-error")
        r = b.config.run
        return ui.div(
            f"{r.name}: from {r.start_date.isoformat()}, {r.years:g} years. ",
            r.description,
            class_="small-note",
        )

    @render.ui
    def levers() -> Any:
        items = lever_list()
        if not items:
            return ui.div()
        return _levers_ui(items)

    @render.ui
    def years_ui() -> Any:
        b = baseline()
        years = b.config.run.years if b.config is not None else 1
        return ui.input_numeric("years", "Years to simulate", years, min=0.25, step=1)

    @render.ui
    def form_error() -> Any:
        p = plan()
        if not p.error:
            return ui.div()
        return ui.div(p.error, class_="config-error", id="config_error")

    @render.ui
    def plan_text() -> Any:
        p = plan()
        if p.error:
            return ui.div("Fix the value shown in red before running.", class_="small-note")
        changes = {**p.run_overrides, **p.lever_overrides}
        if not p.lever_overrides:
            head = "No lever changed: Run gives the baseline only."
        else:
            head = "Scenario = baseline with:"
        items = [ui.tags.li(ui.tags.code(f"{k} = {v}")) for k, v in changes.items()]
        return ui.div(head, ui.tags.ul(*items), class_="small-note")

    return baseline, plan


def _progress_bar(tracker: rs.Progress, id: str) -> Any:
    share = tracker.fraction()
    return ui.div(
        ui.div(
            ui.div(
                f"{tracker.done} of {tracker.total} replications",
                class_="progress-bar",
                role="progressbar",
                style=f"width: {max(share, 0.05):.0%}",
            ),
            class_="progress",
            style="height: 1.4rem; margin-top: 8px",
        ),
        id=id,
    )


def _seed_and_n(input: Inputs) -> tuple[int, int] | None:
    n, seed = input.replications(), input.seed()
    if not isinstance(n, int) or n < 1 or not isinstance(seed, int) or seed < 0:
        ui.notification_show(
            "Replications must be a whole number >= 1 and the seed >= 0.", type="error"
        )
        return None
    return seed, n


def _run_part(  # noqa: C901 - one flat list of small reactive functions
    input: Inputs, plan: Any, cache: rs.RunCache, backend: str | None
) -> Any:
    """Steps 3 and 4: run in a worker thread, show progress and results; returns ``ready``."""
    tracker = rs.Progress()

    @ui.bind_task_button(button_id="run")
    @reactive.extended_task
    async def task(base: Config, scen: Config | None, seed: int, n: int) -> rs.Outcome:
        def work() -> rs.Outcome:
            try:
                return rs.compute(
                    base,
                    scen,
                    seed=seed,
                    replications=n,
                    cache=cache,
                    progress=tracker,
                    backend=backend,
                )
            except Exception:  # a bug, not the user's doing: log it, show one line
                log.exception("run failed")
                return rs.Outcome(error="the run failed unexpectedly; see the server log")

        return await asyncio.to_thread(work)

    @reactive.effect
    @reactive.event(input.run)
    def _start() -> None:
        p = plan()
        if p.error or p.base is None:
            ui.notification_show("Fix the configuration error first.", type="error")
            return
        got = _seed_and_n(input)
        if got is None:
            return
        seed, n = got
        tracker.reset(n * (2 if p.scenario is not None else 1))
        task(p.base, p.scenario, seed, n)

    @reactive.effect
    @reactive.event(input.cancel)
    def _cancel() -> None:
        if task.status() == "running":
            tracker.cancel()

    @render.ui
    def progress() -> Any:
        if task.status() != "running":
            return ui.div()
        reactive.invalidate_later(0.3)
        return _progress_bar(tracker, "run_progress")

    @reactive.calc
    def outcome() -> rs.Outcome:
        return task.result()

    def ready() -> rs.Outcome:
        o = outcome()
        if o.error or o.base is None:
            from shiny.types import SilentException

            raise SilentException()
        return o

    @render.ui
    def run_status() -> Any:
        if task.status() == "initial":
            return ui.div("Press Run to see results.", class_="small-note")
        o = outcome()
        if o.cancelled:
            return ui.div(
                f"Run cancelled ({o.replications} replications, seed {o.seed}); nothing from "
                "the unfinished run was kept. Change what you like and press Run again.",
                class_="config-error",
                id="run_cancelled",
            )
        if o.error:
            return ui.div(o.error, class_="config-error")
        what = "baseline and scenario" if o.scenario is not None else "baseline"
        cached = f" ({o.cached} from the cache)" if o.cached else ""
        return ui.div(
            f"{o.replications} replications of the {what}, seed {o.seed}, "
            f"in {o.seconds:.1f} s{cached}.",
            class_="small-note",
            id="run_done",
        )

    @render.plot(alt="Fan chart of children looked after")
    def fan() -> Any:
        return rs.fan_figure(ready())

    @render.ui
    def fan_meaning() -> Any:
        return ui.p(rs.fan_meaning(ready()), class_="meaning")

    @render.plot(alt="Total spend by financial year")
    def spend() -> Any:
        return rs.spend_figure(ready())

    @render.ui
    def spend_meaning() -> Any:
        return ui.p(rs.spend_meaning(ready()), class_="meaning")

    @render.ui
    def key_tables() -> Any:
        tables = rs.key_tables(ready())
        parts: list[Any] = []
        for name, frame in tables.items():
            parts.append(ui.tags.b(f"Key measures, {name}: median (P10–P90)"))
            parts.append(ui.HTML(frame.drop(columns=["key"]).to_html(index=False, classes="table")))
        return ui.div(*parts, id=f"key_{'_'.join(tables)}")

    @render.ui
    def budget_block() -> Any:
        o = ready()
        budgets = rs.budget_table(o)
        lines = rs.target_text(o)
        if budgets.empty and not lines:
            return ui.div(
                "The baseline states no [budgets] or [[targets]] for the years run.",
                class_="small-note",
            )
        parts: list[Any] = []
        if not budgets.empty:
            parts.append(ui.h6("Spend against budget"))
            parts.append(
                ui.div(ui.HTML(budgets.to_html(index=False, classes="table")), id="budget_table")
            )
            parts.append(
                ui.p(
                    "The config's [budgets], in cash, against the spend of each replication; "
                    "“over budget in” is the share of replications spending more.",
                    class_="meaning",
                )
            )
        if lines:
            parts.append(ui.h6("Targets"))
            parts.append(ui.tags.ul(*[ui.tags.li(x) for x in lines], id="target_lines"))
        return ui.div(*parts)

    @render.ui
    def difference_block() -> Any:
        o = ready()
        if o.scenario is None:
            return ui.div(
                "Change a lever and run again to see the scenario's difference.",
                class_="small-note",
            )
        table = rs.difference_table(o)
        return ui.div(
            ui.output_plot("difference", height=f"{2.3 * 4 + 0.6:.1f}in"),
            ui.p(rs.difference_meaning(o), class_="meaning", id="difference_meaning"),
            ui.HTML(table.to_html(index=False, classes="table")),
        )

    @render.plot(alt="Paired difference, scenario − baseline, per year")
    def difference() -> Any:
        return rs.difference_figure(ready())

    return ready


def _save_part(input: Inputs, plan: Any, baseline: Any, ready: Any, scenarios: Path) -> None:
    """Step 5: save the scenario TOML; download CSV and Excel."""
    saved_msg: reactive.Value[Any] = reactive.value(None)

    @reactive.effect
    @reactive.event(input.save)
    def _save() -> None:
        p = plan()
        b = baseline()
        if p.error:
            saved_msg.set(("error", p.error))
            return
        changes = {**p.run_overrides, **p.lever_overrides}
        try:
            target = b.path
            if b.upload_text is not None:
                scenarios.mkdir(parents=True, exist_ok=True)
                target = scenarios / f"{lv.slug(Path(b.label).stem)}-baseline.toml"
                target.write_text(b.upload_text, "utf-8")
            assert target is not None
            path = lv.save_scenario(
                changes, baseline=target, folder=scenarios, name=input.scenario_name()
            )
        except CaresimError as exc:
            saved_msg.set(("error", str(exc)))
            return
        saved_msg.set(("ok", str(path), path.read_text("utf-8")))

    @render.ui
    def saved() -> Any:
        m = saved_msg()
        if m is None:
            return ui.div(
                f"Saves the changed levers into {scenarios}/ as a scenario that "
                "extends the baseline.",
                class_="small-note",
            )
        if m[0] == "error":
            return ui.div(m[1], class_="config-error", id="save_error")
        return ui.div(
            ui.div("Saved ", ui.tags.code(m[1], id="saved_path")),
            ui.tags.pre(m[2], class_="toml"),
            ui.div(f"Run it from the command line: caresim run {m[1]}", class_="small-note"),
        )

    @render.ui
    def downloads() -> Any:
        ready()
        return ui.div(
            ui.download_button("dl_xlsx", "Download results (.xlsx)"),
            " ",
            ui.download_button("dl_csv", "Download replications (.csv)"),
        )

    @render.download(filename="caresim-results.xlsx")
    def dl_xlsx() -> Any:
        yield rs.excel_bytes(ready())

    @render.download(filename="caresim-replications.csv")
    def dl_csv() -> Any:
        yield rs.csv_text(ready())


def _rank_part(  # noqa: C901 - one flat list of small reactive functions
    input: Inputs, plan: Any, cache: rs.RunCache, backend: str | None, scenarios: Path
) -> None:
    """Step 6: rank the saved scenarios against the baseline; download the ranking."""
    tracker = rs.Progress()

    def folder_state() -> tuple[tuple[str, float], ...]:
        out = []
        for path in rs.saved_scenarios(scenarios):
            try:
                out.append((path.name, path.stat().st_mtime))
            except OSError:  # removed between listing and looking
                continue
        return tuple(out)

    @reactive.poll(folder_state, 1.0)
    def saved_files() -> list[Path]:
        return rs.saved_scenarios(scenarios)

    @ui.bind_task_button(button_id="rank")
    @reactive.extended_task
    async def task(base: Config, paths: list[Path], seed: int, n: int) -> rs.Ranking:
        def work() -> rs.Ranking:
            try:
                return rs.rank_scenarios(
                    base,
                    paths,
                    seed=seed,
                    replications=n,
                    cache=cache,
                    progress=tracker,
                    backend=backend,
                )
            except Exception:  # a bug, not the user's doing
                log.exception("ranking failed")
                return rs.Ranking(error="the ranking failed unexpectedly; see the server log")

        return await asyncio.to_thread(work)

    @reactive.effect
    @reactive.event(input.rank)
    def _start() -> None:
        p = plan()
        if p.error or p.base is None:
            ui.notification_show("Fix the configuration error first.", type="error")
            return
        paths = saved_files()
        if not paths:
            ui.notification_show("No saved scenario to rank: save one first.", type="error")
            return
        got = _seed_and_n(input)
        if got is None:
            return
        seed, n = got
        tracker.reset(n * (1 + len(paths)))
        task(p.base, paths, seed, n)

    @reactive.effect
    @reactive.event(input.rank_cancel)
    def _cancel() -> None:
        if task.status() == "running":
            tracker.cancel()

    @render.ui
    def saved_list() -> Any:
        paths = saved_files()
        if not paths:
            return ui.div(
                f"No scenario saved in {scenarios}/ yet: save one in step 5.",
                class_="small-note",
                id="saved_list_empty",
            )
        return ui.div(
            ui.div(
                f"Scenarios saved in {scenarios}/, each run with the baseline above and the "
                "seed and replications of step 3:",
                class_="small-note",
            ),
            ui.tags.ul(*[ui.tags.li(ui.tags.code(p.name)) for p in paths], id="saved_files"),
        )

    @render.ui
    def rank_progress() -> Any:
        if task.status() != "running":
            return ui.div()
        reactive.invalidate_later(0.3)
        return _progress_bar(tracker, "rank_progress_bar")

    def ranking() -> rs.Ranking:
        r = task.result()
        if r.error or r.cancelled or r.frame.empty:
            from shiny.types import SilentException

            raise SilentException()
        return r

    @render.ui
    def rank_block() -> Any:
        if task.status() == "initial":
            return ui.div()
        r = task.result()
        errors = [ui.div(f"{name}: {msg}", class_="config-error") for name, msg in r.errors.items()]
        if r.cancelled:
            return ui.div(
                "Ranking cancelled; nothing from the unfinished runs was kept.",
                class_="config-error",
                id="rank_cancelled",
            )
        if r.error:
            return ui.div(r.error, *errors, class_="config-error")
        if r.frame.empty:
            return ui.div("No saved scenario ran.", *errors)
        return ui.div(
            ui.div(
                f"{r.replications} replications of each, seed {r.seed}, in {r.seconds:.1f} s. "
                "Differences are scenario − baseline in the last financial year both cover "
                "in whole (children looked after on its 31 March), paired replication by "
                "replication; rank 1 is the lowest.",
                class_="small-note",
            ),
            ui.div(
                ui.HTML(rs.rank_table(r).to_html(index=False, classes="table")), id="rank_table"
            ),
            *errors,
            ui.download_button("dl_rank", "Download ranking (.csv)"),
        )

    @render.download(filename="caresim-ranking.csv")
    def dl_rank() -> Any:
        yield ranking().frame.to_csv(index=False)


def make_app(
    *,
    scenarios_dir: Path | str = Path("results") / "scenarios",
    backend: str | None = None,
) -> App:
    """The Shiny app; saved scenarios go to ``scenarios_dir``.

    ``backend`` is passed to :func:`sim.app.results.compute` (``None``: a
    process pool for bigger batches, else serial).
    """
    scenarios = Path(scenarios_dir)
    cache = rs.RunCache()

    def server(input: Inputs, output: Outputs, session: Session) -> None:
        baseline, plan = _form_part(input, session)
        ready = _run_part(input, plan, cache, backend)
        _save_part(input, plan, baseline, ready, scenarios)
        _rank_part(input, plan, cache, backend, scenarios)

    return App(_app_ui(), server)
