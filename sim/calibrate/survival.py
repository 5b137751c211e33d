"""Time-to-exit estimation with censoring and competing routes.

Two things live here:

* :func:`fit_censored`: maximum-likelihood fit of one parametric family
  (exponential, Weibull, log-normal, gamma) to weighted, right-censored
  durations, in the parametrisation the config schema uses. The likelihood is
  written with numpy/scipy so the EM below can call it hundreds of times; the
  test suite checks it against lifelines' fitters.
* :func:`fit_exit_mixture`: the simulator's exit model fitted to periods of
  care. On entry a child gets a route ``r`` with probability ``pi[band, r]``
  and a time from the route's distribution ``F_r``; a child still in care on
  the 18th birthday leaves then (``leaving_care``). With right censoring (open
  periods) the route of a censored child is unknown, so the model is fitted by
  expectation-maximisation: the E-step shares each censored child (and each
  child who left at 18) among the routes that could explain it; the M-step
  refits the shares and each route's distribution on the weighted data. This
  is a mixture ("cure-type") competing-risks model; it estimates exactly the
  quantities the config needs (route shares and route-conditional durations),
  which cause-specific hazards do not give directly.

The family of each route is chosen by AIC of the route's weighted censored
likelihood at the EM solution. Uncertainty comes from a bootstrap over
children (periods of the same child stay together).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from sim.config.distributions import Distribution, Exponential, Gamma, LogNormal, Weibull

__all__ = [
    "FAMILIES",
    "ExitData",
    "ExitMixtureFit",
    "ParametricFit",
    "fit_best",
    "fit_censored",
    "fit_exit_mixture",
]

FAMILIES: tuple[str, ...] = ("exponential", "weibull", "lognormal", "gamma")
_N_PARAMS = {"exponential": 1, "weibull": 2, "lognormal": 2, "gamma": 2}
_MIN_DAYS = 0.5  # an exit on the day of entry counts as half a day
_LOG_2PI = math.log(2 * math.pi)


# ----------------------------------------------------------- single families


def _logpdf_logsf(family: str, theta: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log density and log survival at ``t`` for log-scale parameters ``theta``."""
    if family == "exponential":
        mean = math.exp(theta[0])
        return -theta[0] - t / mean, -t / mean
    a, b = float(theta[0]), float(theta[1])
    logt = np.log(t)
    if family == "weibull":
        k = math.exp(a)
        z = np.exp(k * (logt - b))
        return a - b + (k - 1) * (logt - b) - z, -z
    if family == "lognormal":
        sigma = math.exp(b)
        z = (logt - a) / sigma
        return -logt - b - 0.5 * _LOG_2PI - 0.5 * z * z, special.log_ndtr(-z)
    if family == "gamma":
        k, s = math.exp(a), math.exp(b)
        x = t / s
        logpdf = (k - 1) * np.log(x) - x - special.gammaln(k) - b
        sf = special.gammaincc(k, x)
        with np.errstate(divide="ignore"):
            logsf = np.where(
                sf > 1e-300,
                np.log(np.maximum(sf, 1e-300)),
                -x + (k - 1) * np.log(x) - special.gammaln(k),
            )
        return logpdf, logsf
    raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")


@dataclass(frozen=True)
class ParametricFit:
    """A fitted duration distribution (days).

    Attributes
    ----------
    family
        exponential, weibull, lognormal or gamma.
    theta
        Log-scale parameters: exponential (log mean); weibull (log shape, log
        scale); lognormal (log median, log sigma); gamma (log shape, log scale).
    loglik
        Maximised (weighted) log-likelihood.
    n_events
        Weighted number of observed exits.
    n
        Weighted number of observations.

    """

    family: str
    theta: tuple[float, ...]
    loglik: float
    n_events: float
    n: float

    @property
    def n_params(self) -> int:
        """Number of free parameters."""
        return _N_PARAMS[self.family]

    @property
    def aic(self) -> float:
        """Akaike information criterion, -2 loglik + 2 k."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    def distribution(self) -> Distribution:
        """The fit as a config :mod:`sim.config.distributions` object (days)."""
        th = self.theta
        if self.family == "exponential":
            return Exponential(distribution="exponential", mean=_r(math.exp(th[0])))
        if self.family == "weibull":
            return Weibull(
                distribution="weibull", shape=_r(math.exp(th[0])), scale=_r(math.exp(th[1]))
            )
        if self.family == "lognormal":
            return LogNormal(
                distribution="lognormal",
                median=_r(math.exp(th[0])),
                sigma=min(_r(math.exp(th[1])), 5.0),
            )
        k, s = math.exp(th[0]), math.exp(th[1])
        return Gamma(distribution="gamma", mean=_r(k * s), cv=min(_r(1 / math.sqrt(k)), 10.0))

    def sf(self, t: np.ndarray) -> np.ndarray:
        """Survival function at ``t`` days."""
        t = np.maximum(np.asarray(t, dtype=float), _MIN_DAYS)
        return np.exp(_logpdf_logsf(self.family, np.asarray(self.theta), t)[1])

    def median_days(self) -> float:
        """Median duration in days."""
        d = self.distribution()
        return float(d.ppf(0.5))

    def mean_days(self) -> float:
        """Mean duration in days."""
        return float(self.distribution().expected())


def _r(x: float) -> float:
    """Round to 4 significant figures (configs do not need more)."""
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.4g}")


def _start(family: str, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    lt = np.log(t)
    m = float(np.average(lt, weights=w))
    v = float(np.average((lt - m) ** 2, weights=w)) if len(t) > 1 else 1.0
    sd = math.sqrt(max(v, 1e-4))
    if family == "exponential":
        return np.array([math.log(float(np.average(t, weights=w)))])
    if family == "weibull":
        k = min(max(1.28 / sd, 0.05), 20.0)
        return np.array([math.log(k), m + 0.5772 / k])
    if family == "lognormal":
        return np.array([m, math.log(sd)])
    mean = float(np.average(t, weights=w))
    var = float(np.average((t - mean) ** 2, weights=w)) if len(t) > 1 else mean**2
    k = min(max(mean * mean / max(var, 1e-9), 0.02), 1e4)
    return np.array([math.log(k), math.log(mean / k)])


def _grad_parts(
    family: str, theta: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Log density, log survival and their gradients (2 x n each); None if not analytic."""
    a, b = float(theta[0]), float(theta[1])
    logt = np.log(t)
    if family == "lognormal":
        sigma = math.exp(b)
        z = (logt - a) / sigma
        logpdf = -logt - b - 0.5 * _LOG_2PI - 0.5 * z * z
        logsf = special.log_ndtr(-z)
        h = np.exp(-0.5 * z * z - 0.5 * _LOG_2PI - logsf)  # hazard ratio phi(z) / Phi(-z)
        gpdf = np.vstack([z / sigma, z * z - 1.0])
        gsf = np.vstack([h / sigma, h * z])
        return logpdf, logsf, gpdf, gsf
    if family == "weibull":
        k = math.exp(a)
        u = k * (logt - b)
        z = np.exp(u)
        logpdf = a - b + (k - 1) * (logt - b) - z
        gpdf = np.vstack([1.0 + u - z * u, -k + k * z])
        gsf = np.vstack([-z * u, k * z])
        return logpdf, -z, gpdf, gsf
    return None


def fit_censored(
    event_days: Sequence[float] | np.ndarray,
    censored_days: Sequence[float] | np.ndarray = (),
    *,
    family: str,
    event_weights: Sequence[float] | np.ndarray | None = None,
    censored_weights: Sequence[float] | np.ndarray | None = None,
    start: Sequence[float] | np.ndarray | None = None,
    max_steps: int | None = None,
    before_days: Sequence[float] | np.ndarray = (),
    before_weights: Sequence[float] | np.ndarray | None = None,
) -> ParametricFit:
    """Maximum-likelihood fit of one family to right-censored, weighted durations.

    Parameters
    ----------
    event_days
        Observed durations (days); values below half a day count as half a day.
    censored_days
        Durations of observations still running when last seen (days).
    family
        exponential, weibull, lognormal or gamma.
    event_weights, censored_weights
        Optional weights (default 1).
    start
        Optional starting log-parameters (e.g. the previous EM iteration's).
    max_steps
        Stop after this many quasi-Newton steps from ``start`` (the EM only
        needs to improve the likelihood at each step, not maximise it).
    before_days, before_weights
        Left-censored observations: durations known only to have ended before
        these days (each contributes log F(t)). The exit model's EM uses them
        for the unseen periods implied by left truncation.

    Returns
    -------
    ParametricFit

    Examples
    --------
    >>> fit = fit_censored([10, 20, 30, 40], [50], family="exponential")
    >>> round(fit.distribution().expected(), 1)
    37.5

    """
    te = np.maximum(np.asarray(event_days, dtype=float), _MIN_DAYS)
    tc = np.maximum(np.asarray(censored_days, dtype=float), _MIN_DAYS)
    we = np.ones_like(te) if event_weights is None else np.asarray(event_weights, dtype=float)
    wc = np.ones_like(tc) if censored_weights is None else np.asarray(censored_weights, dtype=float)
    keep = wc > 1e-9
    tc, wc = tc[keep], wc[keep]
    tb = np.maximum(np.asarray(before_days, dtype=float), _MIN_DAYS)
    wb = np.ones_like(tb) if before_weights is None else np.asarray(before_weights, dtype=float)
    keep = wb > 1e-9
    tb, wb = tb[keep], wb[keep]
    n_events = float(we.sum())
    if n_events <= 0:
        raise ValueError("no observed events to fit")
    if family == "exponential" and not len(tb):
        mean = (float(we @ te) + float(wc @ tc)) / n_events
        theta = np.array([math.log(mean)])
        ll = -n_events * math.log(mean) - (float(we @ te) + float(wc @ tc)) / mean
        return ParametricFit(family, (float(theta[0]),), ll, n_events, n_events + float(wc.sum()))

    def nll(theta: np.ndarray) -> float:
        lp, _ = _logpdf_logsf(family, theta, te)
        value = -float(we @ lp)
        if len(tc):
            _, ls = _logpdf_logsf(family, theta, tc)
            value -= float(wc @ ls)
        if len(tb):
            _, ls = _logpdf_logsf(family, theta, tb)
            value -= float(wb @ np.log(np.maximum(-np.expm1(ls), 1e-300)))
        return value if math.isfinite(value) else 1e300

    def nll_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        parts = _grad_parts(family, theta, te)
        assert parts is not None
        lp, _, gp, _ = parts
        value = -float(we @ lp)
        grad = -(gp @ we)
        if len(tc):
            cparts = _grad_parts(family, theta, tc)
            assert cparts is not None
            _, ls, _, gs = cparts
            value -= float(wc @ ls)
            grad = grad - gs @ wc
        if len(tb):
            bparts = _grad_parts(family, theta, tb)
            assert bparts is not None
            _, ls, _, gs = bparts
            cdf = np.maximum(-np.expm1(ls), 1e-300)
            value -= float(wb @ np.log(cdf))
            # d log F = -(S / F) d log S
            grad = grad + gs @ (wb * np.exp(ls) / cdf)
        if not math.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return value, grad

    analytic = family in {"lognormal", "weibull"}
    if start is not None:
        options: dict[str, float] = {"gtol": 1e-5}
        if max_steps is not None:
            options["maxiter"] = max_steps
        if analytic:
            best = optimize.minimize(
                nll_grad, np.asarray(start, dtype=float), jac=True, method="BFGS", options=options
            )
        else:
            best = optimize.minimize(
                nll, np.asarray(start, dtype=float), method="BFGS", options=options
            )
    else:
        res = optimize.minimize(
            nll,
            _start(family, te, we),
            method="Nelder-Mead",
            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 2000},
        )
        res2 = optimize.minimize(nll, res.x, method="BFGS", options={"gtol": 1e-6})
        best = res2 if res2.fun <= res.fun else res
    return ParametricFit(
        family,
        tuple(float(v) for v in best.x),
        -float(best.fun),
        n_events,
        n_events + float(wc.sum()) + float(wb.sum()),
    )


def fit_best(
    event_days: Sequence[float] | np.ndarray,
    censored_days: Sequence[float] | np.ndarray = (),
    *,
    families: Sequence[str] = FAMILIES,
    event_weights: Sequence[float] | np.ndarray | None = None,
    censored_weights: Sequence[float] | np.ndarray | None = None,
    before_days: Sequence[float] | np.ndarray = (),
    before_weights: Sequence[float] | np.ndarray | None = None,
) -> tuple[ParametricFit, dict[str, ParametricFit]]:
    """Fit every family and return the one with the lowest AIC, and all fits."""
    fits = {
        f: fit_censored(
            event_days,
            censored_days,
            family=f,
            event_weights=event_weights,
            censored_weights=censored_weights,
            before_days=before_days,
            before_weights=before_weights,
        )
        for f in families
    }
    best = min(fits.values(), key=lambda f: f.aic)
    return best, fits


# --------------------------------------------------------------- the mixture


@dataclass(frozen=True)
class ExitData:
    """Periods of care prepared for the exit model.

    Attributes
    ----------
    time_days
        Days from entry to exit, or to the censoring date while open.
    status
        Route index (into ``routes``) of the exit; ``-1`` while open. Exits at 18
        carry the index of ``leaving_care``.
    tau_days
        Days from entry to the 18th birthday.
    band
        Age band index at entry.
    group
        Cluster for the bootstrap (the child).
    routes
        Route names; the last must be ``leaving_care``.
    entry_days
        Days in care when the period came under observation (0 for periods
        that began inside the data window; > 0 for periods already under way
        at the window start whose start date is known: left truncation).
        None means all 0.

    """

    time_days: np.ndarray
    status: np.ndarray
    tau_days: np.ndarray
    band: np.ndarray
    group: np.ndarray
    routes: tuple[str, ...]
    n_bands: int
    entry_days: np.ndarray | None = None

    @property
    def entry(self) -> np.ndarray:
        """``entry_days`` with None read as zeros."""
        if self.entry_days is None:
            return np.zeros(len(self.time_days))
        return self.entry_days

    def take(self, index: np.ndarray) -> ExitData:
        """Rows ``index`` (used by the bootstrap)."""
        return ExitData(
            self.time_days[index],
            self.status[index],
            self.tau_days[index],
            self.band[index],
            self.group[index],
            self.routes,
            self.n_bands,
            None if self.entry_days is None else self.entry_days[index],
        )


@dataclass(frozen=True)
class ExitMixtureFit:
    """The fitted exit model.

    Attributes
    ----------
    routes
        Route names; the last is ``leaving_care`` (no duration).
    shares
        Array (bands x routes) of route shares by age band at entry.
    fits
        Duration fit of each timed route (absent if the route had too few exits).
    aic_table
        Per timed route and family, the AIC of the route's weighted likelihood.
    loglik
        Observed-data log-likelihood of the whole model.
    n_by_band
        Periods per band.
    events_by_band
        Observed exits per band and route (bands x routes).
    pooled_bands
        Bands with too few periods, given the shares of all bands together.
    iterations
        EM iterations used.

    """

    routes: tuple[str, ...]
    shares: np.ndarray
    fits: dict[str, ParametricFit]
    aic_table: dict[str, dict[str, float]]
    loglik: float
    n_by_band: np.ndarray
    events_by_band: np.ndarray
    pooled_bands: tuple[int, ...] = ()
    iterations: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_params(self) -> int:
        """Free parameters: shares (bands x (routes-1)) plus each route's."""
        k = self.shares.shape[0] * (self.shares.shape[1] - 1)
        return k + sum(f.n_params for f in self.fits.values())

    @property
    def aic(self) -> float:
        """AIC of the whole model."""
        return -2 * self.loglik + 2 * self.n_params

    def cif(
        self, band_tau_days: np.ndarray, band: int, t_days: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Model cumulative incidence of each route by ``t_days``, averaged over children.

        Parameters
        ----------
        band_tau_days
            Days to the 18th birthday at entry of the band's children.
        band
            Band index.
        t_days
            Times since entry.

        """
        t = np.asarray(t_days, dtype=float)[:, None]
        tau = np.asarray(band_tau_days, dtype=float)[None, :]
        pi = self.shares[band]
        out: dict[str, np.ndarray] = {}
        lc_mass = np.full(tau.shape, pi[-1])
        for j, route in enumerate(self.routes[:-1]):
            fit = self.fits.get(route)
            if fit is None or pi[j] == 0:
                out[route] = np.zeros(len(t))
                continue
            f = 1 - fit.sf(np.minimum(t, tau).ravel()).reshape(
                np.broadcast_shapes(t.shape, tau.shape)
            )
            out[route] = pi[j] * f.mean(axis=1)
            lc_mass = lc_mass + pi[j] * fit.sf(tau.ravel()).reshape(tau.shape)
        out[self.routes[-1]] = ((t >= tau) * lc_mass).mean(axis=1)
        return out


def _route_loglik_parts(
    data: ExitData, fits: dict[str, ParametricFit]
) -> tuple[np.ndarray, np.ndarray]:
    """Per observation and timed route: log f(t) and log S(t)."""
    n, k = len(data.time_days), len(data.routes) - 1
    logf = np.full((n, k), -np.inf)
    logs = np.zeros((n, k))
    t = np.maximum(data.time_days, _MIN_DAYS)
    for j, route in enumerate(data.routes[:-1]):
        fit = fits.get(route)
        if fit is None:
            logs[:, j] = -np.inf
            continue
        lf, ls = _logpdf_logsf(fit.family, np.asarray(fit.theta), t)
        logf[:, j], logs[:, j] = lf, ls
    return logf, logs


def _e_step(
    data: ExitData, shares: np.ndarray, fits: dict[str, ParametricFit]
) -> tuple[np.ndarray, float, np.ndarray]:
    """Responsibilities (n x routes), the observed-data log-likelihood, and ghosts.

    A period observed from ``entry_days`` = a > 0 on (left truncation) is one
    survivor of a population that also held periods which ended before a and
    were never seen. The likelihood is conditional on surviving to a (each
    term divided by P(T > a) = pi_lc + sum_r pi_r S_r(a)); the EM treats the
    unseen periods as missing data ("ghosts", Dempster, Laird & Rubin 1977):
    per observed period, pi_r F_r(a) / P(T > a) expected ghosts of route r,
    each known only to have ended before a. ``ghosts`` is n x timed routes.
    """
    logf, logs = _route_loglik_parts(data, fits)
    k = len(data.routes)
    lc = k - 1
    pi = shares[data.band]  # n x routes
    with np.errstate(divide="ignore"):
        logpi = np.log(pi)
    w = np.zeros((len(data.status), k))
    ll = 0.0
    timed = (data.status >= 0) & (data.status < lc)
    idx = np.nonzero(timed)[0]
    w[idx, data.status[idx]] = 1.0
    ll += float(np.sum(logpi[idx, data.status[idx]] + logf[idx, data.status[idx]]))
    rest = ~timed  # censored or left at 18: leaving_care or a route not yet due
    if rest.any():
        terms = np.concatenate([logpi[rest, :lc] + logs[rest], logpi[rest, lc:]], axis=1)
        m = np.max(terms, axis=1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        e = np.exp(terms - m)
        tot = e.sum(axis=1, keepdims=True)
        w[rest] = e / np.where(tot > 0, tot, 1.0)
        ll += float(np.sum(np.log(np.maximum(tot.ravel(), 1e-300)) + m.ravel()))
    ghosts = np.zeros((len(data.status), lc))
    a = data.entry
    late = np.nonzero(a > 0)[0]
    if len(late):
        sub = data.take(late)
        _, logs_a = _route_loglik_parts(
            ExitData(
                a[late], sub.status, sub.tau_days, sub.band, sub.group, sub.routes, sub.n_bands
            ),
            fits,
        )
        pil = pi[late]
        surv_r = pil[:, :lc] * np.exp(logs_a)  # pi_r S_r(a)
        p_a = pil[:, lc] + surv_r.sum(axis=1)
        ll -= float(np.sum(np.log(np.maximum(p_a, 1e-300))))
        dead_r = pil[:, :lc] - surv_r  # pi_r F_r(a)
        ghosts[late] = np.maximum(dead_r, 0.0) / np.maximum(p_a, 1e-300)[:, None]
    return w, ll, ghosts


def _m_step(
    data: ExitData,
    w: np.ndarray,
    families: dict[str, str],
    previous: dict[str, ParametricFit],
    pooled: Sequence[int],
    ghosts: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, ParametricFit]]:
    k = len(data.routes)
    if ghosts is None:
        ghosts = np.zeros((len(data.status), k - 1))
    shares = np.zeros((data.n_bands, k))
    np.add.at(shares, data.band, w)
    np.add.at(shares[:, : k - 1], data.band, ghosts)
    overall = shares.sum(axis=0) / max(shares.sum(), 1e-12)
    counts = shares.sum(axis=1, keepdims=True)
    shares = np.divide(shares, counts, out=np.tile(overall, (data.n_bands, 1)), where=counts > 0)
    for b in pooled:
        shares[b] = overall
    fits: dict[str, ParametricFit] = {}
    timed = (data.status >= 0) & (data.status < k - 1)
    for j, route in enumerate(data.routes[:-1]):
        if route not in families:
            continue
        ev = data.status == j
        cens = ~timed & (w[:, j] > 1e-9)
        prev = previous.get(route)
        start = prev.theta if prev is not None and prev.family == families[route] else None
        gh = ghosts[:, j] > 1e-9
        fits[route] = fit_censored(
            data.time_days[ev],
            data.time_days[cens],
            family=families[route],
            censored_weights=w[cens, j],
            start=start,
            max_steps=5,
            before_days=data.entry[gh],
            before_weights=ghosts[gh, j],
        )
    return shares, fits


def fit_exit_mixture(
    data: ExitData,
    *,
    families: Sequence[str] = FAMILIES,
    min_events: int = 5,
    min_band_periods: int = 30,
    max_iter: int = 300,
    tol: float = 1e-7,
    start: ExitMixtureFit | None = None,
    select: bool = True,
) -> ExitMixtureFit:
    """Fit route shares by band and route durations by EM (see module docstring).

    Parameters
    ----------
    data
        The periods (see :class:`ExitData`).
    families
        Candidate families for each route's duration.
    min_events
        Routes with fewer observed exits are left out (share 0, no fit).
    min_band_periods
        Bands with fewer periods get the shares of all bands together.
    max_iter, tol
        EM stopping rule (relative change in log-likelihood).
    start
        Warm start (the bootstrap uses the point estimate); its families are kept.
    select
        Choose each route's family by AIC (ignored with ``start``).

    """
    k = len(data.routes)
    if data.routes[-1] != "leaving_care":
        raise ValueError("the last route must be leaving_care")
    counts = np.bincount(data.status[data.status >= 0], minlength=k)
    rare = [j for j in range(k - 1) if 0 < counts[j] < min_events]
    if rare:
        # Too few exits to fit a duration: leave those periods out altogether.
        data = data.take(np.nonzero(~np.isin(data.status, rare))[0])
    events_by_band = np.zeros((data.n_bands, k))
    obs = data.status >= 0
    np.add.at(events_by_band, (data.band[obs], data.status[obs]), 1.0)
    n_by_band = np.bincount(data.band, minlength=data.n_bands).astype(float)
    pooled = tuple(int(b) for b in np.nonzero(n_by_band < min_band_periods)[0])
    timed_events = events_by_band[:, :-1].sum(axis=0)
    active = [r for j, r in enumerate(data.routes[:-1]) if timed_events[j] >= min_events]
    notes = [
        f"route {r} has {int(timed_events[j])} exits (< {min_events}): not estimated"
        for j, r in enumerate(data.routes[:-1])
        if r not in active
    ]
    if start is not None:
        fams = {r: f.family for r, f in start.fits.items() if r in active}
        shares, fits = start.shares.copy(), {r: f for r, f in start.fits.items() if r in fams}
        select = False
    else:
        fams = dict.fromkeys(active, "lognormal")
        # Initial values: observed exits, censored children spread evenly over routes.
        w0 = np.zeros((len(data.status), k))
        timed = obs & (data.status < k - 1)
        w0[timed, data.status[timed]] = 1.0
        allowed = np.array([j for j, r in enumerate(data.routes) if r in active or j == k - 1])
        w0[np.ix_(~timed, allowed)] = 1.0 / len(allowed)
        shares, fits = _m_step(data, w0, fams, {}, pooled)
    rounds = 2 if select else 1
    ll_old = -np.inf
    it = 0
    aic_table: dict[str, dict[str, float]] = {}
    for rnd in range(rounds):
        ll_old = -np.inf
        for _ in range(max_iter):
            it += 1
            w, ll, ghosts = _e_step(data, shares, fits)
            shares, fits = _m_step(data, w, fams, fits, pooled, ghosts)
            if abs(ll - ll_old) <= tol * abs(ll):
                break
            ll_old = ll
        w, ll_old, ghosts = _e_step(data, shares, fits)
        if not select or rnd == rounds - 1:
            break
        # Choose each route's family by the AIC of its weighted likelihood at this solution.
        timed = obs & (data.status < k - 1)
        changed = False
        for j, route in enumerate(data.routes[:-1]):
            if route not in fams:
                continue
            ev = data.status == j
            cens = ~timed & (w[:, j] > 1e-9)
            gh = ghosts[:, j] > 1e-9
            best, all_fits = fit_best(
                data.time_days[ev],
                data.time_days[cens],
                families=families,
                censored_weights=w[cens, j],
                before_days=data.entry[gh],
                before_weights=ghosts[gh, j],
            )
            aic_table[route] = {f: v.aic for f, v in all_fits.items()}
            if best.family != fams[route]:
                fams[route] = best.family
                fits[route] = best
                changed = True
        if not changed:
            break
    _, ll, _ = _e_step(data, shares, fits)
    return ExitMixtureFit(
        routes=data.routes,
        shares=shares,
        fits=fits,
        aic_table=aic_table,
        loglik=ll,
        n_by_band=n_by_band,
        events_by_band=events_by_band,
        pooled_bands=pooled,
        iterations=it,
        notes=tuple(notes),
    )
