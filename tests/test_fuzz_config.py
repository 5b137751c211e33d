"""Fuzzing the config: random mutants of the baseline either fail cleanly or run cleanly.

Each mutant of the baseline's raw TOML dict (types, signs, magnitudes, dates,
nesting, numbers given as text, deletions) must either raise a
:class:`ConfigError` that names a key path or the source, or load and run one
short replication to finite, non-negative counts and costs. Anything else (a
traceback, NaN, a hang) is a defect; the ones found are kept below as plain
regression tests.

``CARESIM_FUZZ_EXAMPLES`` raises the number of mutants of the long variant
(marked slow), e.g.::

    CARESIM_FUZZ_EXAMPLES=1000 pytest tests/test_fuzz_config.py -m slow -s \\
        --hypothesis-seed=0 -p no:cacheprovider
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import signal
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config.loader import config_from_dict, load_config, with_overrides
from sim.errors import ConfigError

BASELINE = Path(__file__).resolve().parent.parent / "configs" / "worcestershire-2016.toml"
RAW: dict[str, Any] = tomllib.loads(BASELINE.read_text(encoding="utf-8"))
SOURCE = "<fuzz>"
RUN_YEARS = 0.25
RUN_SECONDS = 60  # one replication of a quarter year takes about a second
#: Measures that may be negative: the net cost (a UASC grant can exceed the cost) and
#: one-off costs (closing_cost_per_place_gbp may be a saving).
SIGNED = {"cost_net_gbp", "cost_in_house_one_off_gbp"}

#: Outcomes of every mutant tried in this process, for the figures printed at the end.
OUTCOMES: Counter[str] = Counter()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of ``node``: tables, lists and leaves."""
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


PATHS: list[tuple[Any, ...]] = list(_paths(RAW))


def _nested(depth: int) -> Any:
    out: Any = 1
    for _ in range(depth):
        out = {"a": out}
    return out


VALUES = st.one_of(
    st.sampled_from(
        [
            1e308,
            -1e308,
            10**25,
            -(10**25),
            10**400,
            0,
            -1,
            1e-300,
            1e-6,
            1e6,
            1e9,
            1e12,
            1e15,
            0.5,
            "0.12",
            "12",
            "",
            "x" * 300,
            True,
            False,
            dt.date(9999, 12, 1),
            dt.date(1, 1, 1),
            dt.date(2016, 4, 1),
            dt.datetime(2016, 4, 1, 12, 0),
            [],
            [1, 2, 3],
            ["a"],
            {},
            {"2016-04-01": 1e12},
            {"distribution": "weibull", "shape": 1e-6, "scale": 100},
            {"distribution": "gamma", "mean": 1e-300, "cv": 1e-6},
            _nested(50),
        ]
    ),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)


KINDS = ("replace", "replace", "scale", "scale", "gentle", "gentle", "negate", "delete", "wrap")


@st.composite
def mutants(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """The baseline with one to three mutations, and what they were."""
    data = copy.deepcopy(RAW)
    what: list[str] = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            old = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced it
        kind = draw(st.sampled_from(KINDS))
        new: Any
        if kind == "delete":
            if isinstance(parent, list):
                del parent[path[-1]]
            else:
                del parent[path[-1]]
            what.append(f"del {path}")
            continue
        if kind == "scale" and isinstance(old, int | float) and not isinstance(old, bool):
            factor = draw(
                st.sampled_from([0, 0.1, 0.5, 0.9, 1.1, 2, 10, 1e3, 1e6, 1e12, 1e-6, 1e-12])
            )
            new = old * factor if draw(st.booleans()) or isinstance(old, float) else old * 10**25
        elif kind == "gentle" and isinstance(old, int | float) and not isinstance(old, bool):
            new = old * draw(st.floats(min_value=0.5, max_value=2.0))
            new = round(new) if isinstance(old, int) else new
        elif kind == "negate" and isinstance(old, int | float) and not isinstance(old, bool):
            new = -old if old else -1
        elif kind == "wrap":
            new = {"x": old} if draw(st.booleans()) else [old]
        else:
            new = draw(VALUES)
        parent[path[-1]] = new
        what.append(f"{path} = {new!r}"[:120])
    return data, what


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _check_summary(cfg: sim.Config) -> None:
    """One short replication: no exception, finite and (mostly) non-negative results."""
    short = with_overrides(cfg, {"run.years": RUN_YEARS})
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(RUN_SECONDS)
    try:
        result = sim.run(short, replications=1, seed=1)
    except _Timeout:
        pytest.fail(f"one replication of {RUN_YEARS} years took over {RUN_SECONDS} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    s = result.summary
    assert len(s), "no summary rows"
    bad = s[~s["value"].map(lambda v: math.isfinite(float(v)))]
    assert bad.empty, f"non-finite results:\n{bad}"
    neg = s[(~s["measure"].isin(SIGNED)) & (s["value"] < 0)]
    signed_total = any(
        (t.get("closing_cost_per_place_gbp") or 0) < 0
        for t in cfg.model_dump()["placement_types"].values()
    ) or (cfg.edge_of_care.closing_cost_per_place_gbp < 0)
    if signed_total:
        neg = neg[~neg["measure"].str.startswith("cost_")]
    assert neg.empty, f"negative results:\n{neg}"


def check_mutant(data: dict[str, Any]) -> str:
    """Return "config_error" or "ran"; fail on anything else."""
    try:
        cfg = config_from_dict(data, source=SOURCE)
    except ConfigError as exc:
        text = str(exc)
        assert text.startswith(SOURCE), text
        assert exc.key or any(f"{k}" in text for k in RAW), text
        return "config_error"
    _check_summary(cfg)
    return "ran"


def _fuzz(case: tuple[dict[str, Any], list[str]]) -> None:
    data, what = case
    try:
        outcome = check_mutant(data)
    except BaseException:
        OUTCOMES["defect"] += 1
        print("mutations:", what)
        raise
    OUTCOMES[outcome] += 1


_SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@settings(max_examples=300, **_SETTINGS)  # type: ignore[arg-type]
@given(mutants())
def test_fuzzed_config_fails_cleanly_or_runs_cleanly(
    case: tuple[dict[str, Any], list[str]],
) -> None:
    _fuzz(case)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("CARESIM_FUZZ_EXAMPLES", "400")), **_SETTINGS)  # type: ignore[arg-type]
@given(mutants())
def test_fuzzed_config_long(case: tuple[dict[str, Any], list[str]]) -> None:
    _fuzz(case)


def test_fuzz_figures() -> None:
    """Print the figures of the fuzzing run of this process (``-s`` shows them)."""
    tried = sum(OUTCOMES.values())
    print(
        f"\nfuzz: {tried} mutants tried, {OUTCOMES['config_error']} clean ConfigErrors, "
        f"{OUTCOMES['ran']} runs passed, {OUTCOMES['defect']} defects"
    )
    assert OUTCOMES["defect"] == 0


# ------------------------------------------------------------ regression cases


def _set(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    cur: Any = data
    parts = path.split(".")
    for p in parts[:-1]:
        cur = cur[int(p)] if isinstance(cur, list) else cur[p]
    last = parts[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value
    return data


REJECTED = [
    ("placement_types.intensive_fostering.capacity", 1e308, "capacity"),
    ("edge_of_care.capacity", 1e12, "capacity"),
    ("placement_types.foster_ifa.weekly_cost_gbp", 1e308, "weekly_cost_gbp"),
    ("placement_types.foster_ifa.breakdown_per_year", 1e12, "breakdown_per_year"),
    ("placement_policy.teen_breakdown_multiplier", 1e15, "teen_breakdown_multiplier"),
    ("initial_population.assessments", 10**12, "initial_population.assessments"),
    ("initial_population.looked_after.0.count", 10**25, "looked_after[0].count"),
    ("run.start_date", dt.date(9999, 4, 1), "run.start_date"),
    ("run.start_date", dt.date(1, 4, 1), "run.start_date"),
    ("run.years", 0.001, "run.years"),
    ("run.warmup_days", 800000, "run.warmup_days"),
    ("referrals.rate_per_year", 1e9, "referrals.rate_per_year"),
    ("referrals.rate_per_year", 10**400, "referrals.rate_per_year"),
    ("workforce.fte", 1e7, "workforce.fte"),
    (
        "exits.routes.adoption.duration_days",
        {"distribution": "weibull", "shape": 1e-6, "scale": 100},
        "shape",
    ),
    ("assessment.duration_days", {"distribution": "gamma", "mean": 33, "cv": 1e-9}, "cv"),
    ("front_door.need_drift_sd", "0.2", "front_door.need_drift_sd"),
    ("referrals.age_bands.0.share", "0.14", "referrals.age_bands[0].share"),
    ("front_door.rereferral_probability", True, "front_door.rereferral_probability"),
    ("referrals.seasonality", ["1.05"] * 12, "referrals.seasonality"),
]


@pytest.mark.parametrize(("path", "value", "names"), REJECTED, ids=[r[0] for r in REJECTED])
def test_implausible_value_is_a_config_error_naming_the_key(
    path: str, value: Any, names: str
) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(_set(path, value), source=SOURCE)
    assert names in str(info.value)


def test_an_integer_for_a_float_key_is_still_accepted() -> None:
    cfg = config_from_dict(_set("front_door.need_drift_sd", 1), source=SOURCE)
    assert cfg.front_door.need_drift_sd == 1.0


# ------------------------------------------------------------ the loader, byte by byte


def _load_bytes(tmp_path: Path, content: bytes, name: str = "c.toml") -> sim.Config:
    path = tmp_path / name
    path.write_bytes(content)
    return load_config(path)


def _extends_baseline() -> bytes:
    return f'extends = "{BASELINE.as_posix()}"\n'.encode()


def test_non_utf8_file_is_a_config_error_naming_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"c\.toml: not UTF-8 text \(byte 17, line 2\)"):
        _load_bytes(tmp_path, b'[run]\nname = "caf\xe9 \xff"\n')


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    cfg = _load_bytes(tmp_path, b"\xef\xbb\xbf" + _extends_baseline())
    assert cfg.run.years == 5


def test_deep_nesting_is_a_config_error(tmp_path: Path) -> None:
    deep = b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    with pytest.raises(ConfigError, match=r"c\.toml: not valid TOML"):
        _load_bytes(tmp_path, deep)


def test_deep_inline_tables_are_a_config_error(tmp_path: Path) -> None:
    deep = b"x = " + b"{a = " * 50_000 + b"1" + b"}" * 50_000 + b"\n"
    with pytest.raises(ConfigError, match=r"c\.toml"):
        _load_bytes(tmp_path, deep)


def test_huge_integer_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    content = _extends_baseline() + b"[referrals]\nrate_per_year = 1" + b"0" * 400 + b"\n"
    with pytest.raises(ConfigError, match=r"referrals\.rate_per_year"):
        _load_bytes(tmp_path, content)
    content = _extends_baseline() + b"[run]\nyears = 1" + b"0" * 400 + b"\n"
    with pytest.raises(ConfigError, match=r"run\.years"):
        _load_bytes(tmp_path, content)


def test_huge_float_literal_is_a_config_error(tmp_path: Path) -> None:
    content = _extends_baseline() + b"[front_door]\nneed_drift_sd = 1e999\n"
    with pytest.raises(ConfigError, match=r"front_door\.need_drift_sd"):
        _load_bytes(tmp_path, content)


@pytest.mark.parametrize("value", ['""', '"   "', "3", "[]", "{}", "true"])
def test_bad_extends_names_the_key_and_the_file(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"c\.toml: extends = .*expected the path") as info:
        _load_bytes(tmp_path, f"extends = {value}\n".encode())
    assert info.value.key == "extends"


def test_long_extends_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"c\.toml: extends = 'aaa.*") as info:
        _load_bytes(tmp_path, b'extends = "' + b"a" * 300 + b'"\n')
    assert info.value.key == "extends"


def test_extends_naming_a_folder_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(ConfigError, match=r"extends = 'dir': is a folder"):
        _load_bytes(tmp_path, b'extends = "dir"\n')


def test_extends_with_a_nul_byte_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"extends"):
        _load_bytes(tmp_path, b'extends = "a\\u0000b"\n')


def test_config_path_that_is_a_folder_or_too_long(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="config file"):
        load_config(tmp_path / ("b" * 300 + ".toml"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")


# ------------------------------------------------------------ the command line


@pytest.mark.parametrize(
    "args",
    [
        ["-n", "1000000000000"],
        ["--only-replication", "1000000000000"],
        ["--max-replications", "1000000000000", "--precision", "0.05"],
    ],
)
def test_huge_replication_counts_are_refused(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.cli.main import main

    rc = main(["run", str(BASELINE), "--out", str(tmp_path / "out"), "--quiet", *args])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "at most 1,000,000" in err or "below 1,000,000" in err
    assert "Traceback" not in err


VALIDATE_CASES = {
    "not utf-8": b'[run]\nname = "\xff"\n',
    "deep nesting": b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "huge integer": _extends_baseline() + b"[run]\nwarmup_days = 1" + b"0" * 400 + b"\n",
    "long extends": b'extends = "' + b"a" * 300 + b'"\n',
    "empty extends": b'extends = ""\n',
    "warmup 800000": _extends_baseline() + b"[run]\nwarmup_days = 800000\n",
    "tiny weibull shape": _extends_baseline()
    + b'[exits.routes.adoption]\nduration_days = { distribution = "weibull", shape = 1e-6, '
    b"scale = 100 }\n",
    "share as text": _extends_baseline() + b'[front_door]\nrereferral_probability = "0.12"\n',
    "year 9999": _extends_baseline() + b"[run]\nstart_date = 9999-04-01\n",
}


@pytest.mark.parametrize("content", VALIDATE_CASES.values(), ids=VALIDATE_CASES.keys())
def test_validate_reports_bad_input_without_a_traceback(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.cli.main import main

    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    rc = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.startswith("caresim: error: ") and "bad.toml" in err
    assert "Traceback" not in err


def test_utf8_bom_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli.main import main

    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + _extends_baseline())
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
