"""The starting population: children already in care on day 0 are planned consistently.

A child in care at the start has been there for some time; its route and exit
time are drawn given that. For a route with a pre-exit placement (adoption: a
placement for adoption before the order), a child not yet in that placement
still has all of it ahead, and a child already in it has only the rest of it.
"""

from __future__ import annotations

from types import SimpleNamespace

from model_configs import BASELINE

from sim.config import load_config
from sim.model.simulation import Simulation


def _started() -> Simulation:
    s = Simulation(load_config(BASELINE), seed=3)
    s._initial_population()
    return s


def _children(s: Simulation) -> list:
    return [c for occupants in s.alloc.occupants for c in occupants]


def test_a_child_not_yet_placed_for_adoption_has_the_whole_placement_ahead() -> None:
    s = _started()
    pre_type, pre_days = s.p.pre_exit["adoption"]
    ahead = [c for c in _children(s) if c.route == "adoption" and c.type != pre_type]
    assert len(ahead) >= 10
    shortest, longest = pre_days.ppf(1e-9), pre_days.ppf(1 - 1e-9)
    for c in ahead:
        # The move is a whole pre-exit time before the order: none is overdue on day 0.
        assert c.pre_exit_at >= 0.0
        assert shortest <= c.exit_at - c.pre_exit_at <= longest


def test_the_lead_of_a_child_still_in_care_is_tilted_by_its_survival() -> None:
    # Exact by brute force: stays T and leads L drawn independently, kept when T > d + L
    # (in care at day d, move still ahead). The model draws L tilted by S_T(d + L), then
    # T given T > d + L; the means must agree.
    import numpy as np

    from sim.config.distributions import Gamma
    from sim.model import care

    stay = Gamma(distribution="gamma", mean=700, cv=0.35)
    lead = Gamma(distribution="gamma", mean=300, cv=0.4)
    fake = SimpleNamespace(pre_exit={"adoption": (0, lead)}, pre_exit_points={})
    rng = np.random.default_rng(5)
    t = rng.gamma(1 / 0.35**2, 700 * 0.35**2, 1_000_000)
    g = rng.gamma(1 / 0.4**2, 300 * 0.4**2, 1_000_000)
    for d in (100.0, 700.0):
        kept = t > d + g
        exact_lead, exact_left = g[kept].mean(), (t[kept] - d).mean()
        leads = [care._lead_given_in_care(fake, "adoption", stay, d, u) for u in rng.random(4000)]
        left = [
            stay.conditional_ppf(u, d + x) - d for u, x in zip(rng.random(4000), leads, strict=True)
        ]
        assert abs(np.mean(leads) / exact_lead - 1) < 0.03, (d, np.mean(leads), exact_lead)
        assert abs(np.mean(left) / exact_left - 1) < 0.03, (d, np.mean(left), exact_left)
        # Untilted, the leads average the marginal 300 days, well above the exact mean.
        assert exact_lead < 0.97 * 300


def test_a_child_placed_for_adoption_has_only_the_rest_of_that_placement_left() -> None:
    s = _started()
    pre_type, pre_days = s.p.pre_exit["adoption"]
    placed = [c for c in _children(s) if c.type == pre_type]
    assert len(placed) >= 10
    longest = pre_days.ppf(0.9999)
    assert all(c.route == "adoption" for c in placed)
    assert all(0.0 <= c.exit_at <= longest for c in placed)
    # The rest of a placement open at a random moment averages more than half its mean
    # length (renewal: E[L^2] / 2E[L]), and never more than its longest.
    mean_left = sum(c.exit_at for c in placed) / len(placed)
    assert 0.4 * pre_days.expected() < mean_left < 1.2 * pre_days.expected()


def test_the_renewal_sampler_interpolates_exactly_as_numpy() -> None:
    import numpy as np

    from sim.model.renewal import equilibrium_age_sampler

    cfg = load_config(BASELINE)
    sampler = equilibrium_age_sampler(cfg.child_in_need.duration_days)
    xs, ys = np.array(sampler._xs), np.array(sampler._ys)
    us = [*np.random.default_rng(0).random(20_000).tolist(), *xs[:20].tolist(), 0.0, 1.0]
    assert all(sampler(u) == float(np.interp(u, xs, ys)) for u in us)
    # Elapsed times at equilibrium: from 0 up to the top of the grid, increasing in u.
    draws = [sampler(u) for u in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert draws == sorted(draws) and draws[0] == 0.0
