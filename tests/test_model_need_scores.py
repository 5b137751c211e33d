"""New families' need scores (computed in bulk) and others' (one at a time) agree exactly.

A new family's three percentiles come from :func:`pathway.scores_many` when
its uniforms are drawn; a re-referred family's or a starting family's from
:func:`pathway.scores`. Both must give the same bits for the same inputs, so
that a family's path does not depend on which of the two computed its scores.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from model_configs import BASELINE

from sim.config import load_config
from sim.model import pathway
from sim.model.entities import U as S
from sim.model.params import Params, build_params, scale


@functools.cache
def _params() -> Params:
    return build_params(load_config(BASELINE))


def _with_noise(obs_sd: float, assess_sd: float) -> Params:
    return dataclasses.replace(
        _params(),
        obs_sd=obs_sd,
        obs_scale=scale(obs_sd),
        assess_sd=assess_sd,
        assess_scale=scale(assess_sd),
    )


def _agree(p: Params, need: np.ndarray, blocks: np.ndarray) -> None:
    bulk = np.column_stack(
        pathway.scores_many(p, need, blocks[:, S.TRIAGE_NOISE], blocks[:, S.ASSESSMENT_NOISE])
    ).tolist()
    for z, u, row in zip(need.tolist(), blocks, bulk, strict=True):
        one = pathway.scores(p, z, u.tolist())
        assert one == tuple(row), (z, u[S.TRIAGE_NOISE], u[S.ASSESSMENT_NOISE])
        assert all(type(x) is float for x in one)


_unit = st.floats(0.0, 1.0)
_sd = st.floats(0.0, 3.0)


@settings(max_examples=300, deadline=None)
@given(
    need=st.floats(-9.0, 9.0),
    u_triage=_unit,
    u_assess=_unit,
    obs_sd=_sd,
    assess_sd=_sd,
)
def test_scalar_and_bulk_scores_agree_exactly(
    need: float, u_triage: float, u_assess: float, obs_sd: float, assess_sd: float
) -> None:
    block = np.full((1, S.WIDTH), 0.5)
    block[0, S.TRIAGE_NOISE] = u_triage
    block[0, S.ASSESSMENT_NOISE] = u_assess
    _agree(_with_noise(obs_sd, assess_sd), np.array([need]), block)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), obs_sd=_sd, assess_sd=_sd)
def test_scores_agree_over_many_families(seed: int, obs_sd: float, assess_sd: float) -> None:
    rng = np.random.default_rng(seed)
    blocks = rng.random((500, S.WIDTH))
    blocks[:5, S.TRIAGE_NOISE] = [0.0, 1.0, 1e-13, 1 - 1e-13, 0.5]  # clipped and central
    need = rng.normal(0.0, 1.5, 500)
    _agree(_with_noise(obs_sd, assess_sd), need, blocks)


def test_the_baseline_noise_gives_the_same_scores() -> None:
    rng = np.random.default_rng(11)
    blocks = rng.random((5000, S.WIDTH))
    need = rng.normal(size=5000)
    _agree(_params(), need, blocks)
