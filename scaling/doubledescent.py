r"""Double descent: closed-form risk of min-norm least squares, a Monte-Carlo simulator, peak finding.

Setting (Hastie, Montanari, Rosset & Tibshirani 2019, "Surprises in High-Dimensional Ridgeless Least
Squares Interpolation", arXiv 1903.08560, Sec. 2–3): isotropic Gaussian features
:math:`x \sim N(0, I_p)`, responses :math:`y = x^\top\beta + \varepsilon` with
:math:`\|\beta\|^2 = r^2` (``r2``) and :math:`\operatorname{Var}\varepsilon = \sigma^2` (``sigma2``),
``n`` training samples and aspect ratio :math:`\gamma = p/n`. The "ridgeless" estimator is the
minimum-norm least-squares solution :math:`\hat\beta = X^+ y` (the limit of ridge as the penalty
goes to zero; the ordinary least-squares solution when :math:`p < n`).

Two risks are in play, and every name in this module says which one it means:

* **excess risk** :math:`R = E_x[(x^\top\hat\beta - x^\top\beta)^2] = \|\hat\beta-\beta\|^2`
  (isotropic features), the risk *above* the irreducible noise. All ``excess_risk_*`` functions and the
  ``excess_risk_*`` columns return this quantity, and so do the numbers of REFERENCE.md acceptance
  check 15 (e.g. 1.010 at :math:`\gamma = 0.5`, ``n = 200``, ``r2 = sigma2 = 1``).
* **test MSE** :math:`E[(y - x^\top\hat\beta)^2] = \sigma^2 + R` for a fresh noisy label; the
  simulator reports it as the column ``test_mse_mean``. Nothing else in this module returns test MSE.

Contents

* Theory: :func:`excess_risk_asymptotic` (:math:`n, p \to \infty`, :math:`p/n \to \gamma`),
  :func:`excess_risk_finite` (exact expectation at finite ``n, p`` for Gaussian ``X``),
  :func:`stationary_gamma` (minimiser of the over-parameterised branch), and the misspecified
  ("weak features") variant :func:`misspecified_excess_risk_asymptotic` /
  :func:`misspecified_excess_risk_finite`, which shows a second descent *below* the best
  under-parameterised risk.
* Simulation: :func:`simulate_min_norm` (linear model, exact excess risk
  :math:`\|\hat\beta-\beta\|^2`, no test sample needed) and :func:`simulate_random_features` (ReLU
  random features, min-norm on the features, test set of stated size). Both sweep any broadcast
  pairs ``(n, p)``: fixed ``n`` and a range of ``p`` is *model-wise* double descent, fixed ``p`` and a
  range of ``n`` is *sample-wise* double descent (Nakkiran et al. 2019, arXiv 1912.02292). Both return
  a frozen :class:`DoubleDescentSimulation` with :meth:`~DoubleDescentSimulation.to_frame`.
* :func:`find_peak`: locate the interpolation peak of a noisy, non-monotone curve (height, location
  with an interval) and the second-descent minimum after it; returns a frozen :class:`PeakResult`.

References
----------
Hastie, Montanari, Rosset, Tibshirani (2019), arXiv 1903.08560, Theorem 1 (isotropic features,
    :math:`\sigma^2\gamma/(1-\gamma)` and :math:`r^2(1-1/\gamma) + \sigma^2/(\gamma-1)`).
Belkin, Hsu, Xu (2019), "Two models of double descent for weak features", arXiv 1903.07571 (the
    misspecified Gaussian model in which only ``p`` of ``d`` features are observed).
Belkin, Hsu, Ma, Mandal (2019), "Reconciling modern machine learning practice and the bias–variance
    trade-off", PNAS, arXiv 1812.11118 (random-features double descent, peak at ``p = n``).
Mei, Montanari (2019), "The generalization error of random features regression", arXiv 1908.05355.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from . import _arrays as A
from .diagnostics import PeakResult, find_peak
from .errors import DataError, format_message, format_rows

__all__ = [
    "excess_risk_asymptotic",
    "excess_risk_finite",
    "stationary_gamma",
    "misspecified_excess_risk_asymptotic",
    "misspecified_excess_risk_finite",
    "simulate_min_norm",
    "simulate_random_features",
    "DoubleDescentSimulation",
    "find_peak",
    "PeakResult",
]

logger = logging.getLogger("scaling")

FloatArray = NDArray[np.float64]

# Memory budget (bytes) for one batch of stacked design matrices in the simulators.
_BATCH_BYTES = 48_000_000


# --------------------------------------------------------------------------------------------------
# theory
# --------------------------------------------------------------------------------------------------

def excess_risk_asymptotic(gamma: ArrayLike, *, r2: float = 1.0, sigma2: float = 1.0) -> FloatArray | float:
    r"""Asymptotic **excess** risk of min-norm least squares with isotropic Gaussian features.

    Hastie, Montanari, Rosset, Tibshirani (2019), arXiv 1903.08560, Theorem 1 (proportional limit
    :math:`n, p \to \infty`, :math:`p/n \to \gamma`):

    .. math::

        R(\gamma) = \begin{cases}
            \sigma^2 \dfrac{\gamma}{1-\gamma}, & \gamma < 1,\\[4pt]
            +\infty, & \gamma = 1,\\[4pt]
            r^2\left(1 - \dfrac{1}{\gamma}\right) + \dfrac{\sigma^2}{\gamma - 1}, & \gamma > 1.
        \end{cases}

    The first term of the :math:`\gamma > 1` branch is the bias (the part of :math:`\beta` outside the
    row space of :math:`X`), the second the variance. The test MSE for a fresh noisy label is
    :math:`\sigma^2 + R`; this function returns :math:`R` only.

    Parameters
    ----------
    gamma : array_like
        Aspect ratio :math:`p/n`, > 0.
    r2 : float, default 1
        Signal strength :math:`\|\beta\|^2` (>= 0).
    sigma2 : float, default 1
        Noise variance :math:`\operatorname{Var}\varepsilon` (>= 0).

    Returns
    -------
    float or ndarray
        Excess risk :math:`R(\gamma)`, in the units of :math:`y^2`; ``inf`` at :math:`\gamma = 1`
        (when ``sigma2 > 0``; with ``sigma2 = 0`` the under-parameterised branch is 0 and the value at
        :math:`\gamma = 1` is 0 as well).

    Raises
    ------
    DataError
        If ``gamma`` is not finite and > 0, or ``r2``/``sigma2`` is negative or not finite.

    Examples
    --------
    >>> round(excess_risk_asymptotic(0.5), 3), round(excess_risk_asymptotic(2.0), 3)
    (1.0, 1.5)
    """
    g = A.finite_array("gamma", gamma, positive=True)
    r2 = A.scalar("r2", r2, nonneg=True)
    sigma2 = A.scalar("sigma2", sigma2, nonneg=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = sigma2 * g / (1.0 - g)
        over = r2 * (1.0 - 1.0 / g) + sigma2 / (g - 1.0)
        out = np.where(g < 1.0, under, np.where(g > 1.0, over, np.inf if sigma2 > 0 else 0.0))
    return A.out(np.asarray(out, dtype=float))


def excess_risk_finite(p: ArrayLike, n: ArrayLike, *, r2: float = 1.0, sigma2: float = 1.0) -> FloatArray | float:
    r"""Exact expected **excess** risk of min-norm least squares at finite ``n, p`` (Gaussian ``X``).

    With the rows of :math:`X \in \mathbb{R}^{n\times p}` i.i.d. :math:`N(0, I_p)` and
    :math:`\hat\beta = X^+ y`,

    .. math::

        E\,\|\hat\beta - \beta\|^2 = \begin{cases}
            \sigma^2 \dfrac{p}{n - p - 1}, & p < n - 1,\\[4pt]
            +\infty, & n - 1 \le p \le n + 1,\\[4pt]
            r^2\left(1 - \dfrac{n}{p}\right) + \sigma^2 \dfrac{n}{p - n - 1}, & p > n + 1.
        \end{cases}

    Derivation: for :math:`p < n`, :math:`E\|\hat\beta-\beta\|^2 = \sigma^2 E\operatorname{tr}(X^\top X)^{-1}`
    and :math:`X^\top X \sim W_p(n, I)` has :math:`E(X^\top X)^{-1} = I/(n-p-1)` (inverse-Wishart
    mean). For :math:`p > n`, the bias :math:`\beta^\top(I - P_X)\beta` has mean :math:`r^2(1-n/p)` by
    rotation invariance and the variance is :math:`\sigma^2 E\operatorname{tr}(XX^\top)^{-1} =
    \sigma^2 n/(p-n-1)`. The inverse-Wishart mean is infinite when its degrees of freedom minus
    dimension is <= 1, which gives the ``inf`` band :math:`n-1 \le p \le n+1` (the expectation truly
    diverges there; it is not a numerical artefact). As :math:`n\to\infty` at fixed :math:`p/n` this
    tends to :func:`excess_risk_asymptotic` (Hastie et al. 2019, arXiv 1903.08560, Theorem 1). The
    test MSE is :math:`\sigma^2` plus the returned value.

    Parameters
    ----------
    p, n : array_like of int
        Number of features (parameters) and of training samples; broadcast against each other.
    r2, sigma2 : float, default 1
        :math:`\|\beta\|^2` and the noise variance.

    Returns
    -------
    float or ndarray
        Expected excess risk (``inf`` where it diverges; with ``sigma2 = 0`` the variance term is 0 and
        the under-parameterised risk is exactly 0 for ``p <= n``).

    Raises
    ------
    DataError
        If ``p`` or ``n`` is not a positive integer, or ``r2``/``sigma2`` is negative.

    Examples
    --------
    >>> round(excess_risk_finite(100, 200), 4), round(excess_risk_finite(400, 200), 4)
    (1.0101, 1.505)
    """
    pa = A.int_array("p", p).astype(float)
    na = A.int_array("n", n).astype(float)
    r2 = A.scalar("r2", r2, nonneg=True)
    sigma2 = A.scalar("sigma2", sigma2, nonneg=True)
    pa, na = A.broadcast("'p' and 'n'", pa, na)
    with np.errstate(divide="ignore", invalid="ignore"):
        if sigma2 > 0:
            over = r2 * (1.0 - na / pa) + sigma2 * na / (pa - na - 1.0)
            out = np.where(pa < na - 1, sigma2 * pa / (na - pa - 1.0), np.where(pa > na + 1, over, np.inf))
        else:
            # noise-free: the under-parameterised fit is exact; the over-parameterised risk is pure bias.
            out = np.where(pa <= na, 0.0, r2 * (1.0 - na / pa))
    return A.out(np.asarray(out, dtype=float))


def stationary_gamma(snr: float) -> float:
    r"""Stationary point :math:`\gamma^*` of the over-parameterised branch of the asymptotic risk.

    Setting :math:`dR/d\gamma = r^2/\gamma^2 - \sigma^2/(\gamma-1)^2 = 0` on :math:`\gamma > 1` gives

    .. math::

        \gamma^* = \frac{\sqrt{\mathrm{SNR}}}{\sqrt{\mathrm{SNR}} - 1},\qquad
        \mathrm{SNR} = r^2/\sigma^2 > 1,

    the global minimiser of :func:`excess_risk_asymptotic` over :math:`\gamma > 1`, with minimum value
    :math:`R(\gamma^*) = 2\sigma r - \sigma^2` (Hastie et al. 2019, arXiv 1903.08560, Sec. 3; the
    minimum is below the null risk :math:`r^2` whenever :math:`r \ne \sigma`). For
    :math:`\mathrm{SNR} \to \infty` (no noise) :math:`\gamma^* \to 1`.

    Parameters
    ----------
    snr : float
        Signal-to-noise ratio :math:`r^2/\sigma^2`; must be > 1 (``inf`` allowed, giving 1.0).

    Returns
    -------
    float
        :math:`\gamma^*`.

    Raises
    ------
    DataError
        If ``snr <= 1``: the over-parameterised risk then decreases monotonically towards
        :math:`r^2` and has no stationary point.

    Examples
    --------
    >>> stationary_gamma(4.0)
    2.0
    """
    try:
        s = float(snr)
    except (TypeError, ValueError) as exc:
        raise DataError(format_message("Argument 'snr'", "", "a number > 1", repr(snr))) from exc
    if not s > 1.0:
        raise DataError(format_message("Argument 'snr'", "of stationary_gamma", "> 1", repr(snr),
                                       "For SNR <= 1 the over-parameterised risk decreases monotonically "
                                       "towards r2 as gamma -> inf, so there is no stationary point."))
    if math.isinf(s):
        return 1.0
    root = math.sqrt(s)
    return root / (root - 1.0)


def _misspecified_split(p: FloatArray, d: FloatArray, r2: float) -> tuple[FloatArray, FloatArray]:
    """Observed and omitted signal ``(|beta_1|^2, |beta_2|^2)`` for ``p`` of ``d`` equal weights."""
    frac = p / d
    return r2 * frac, r2 * (1.0 - frac)


def misspecified_excess_risk_asymptotic(gamma: ArrayLike, psi: ArrayLike, *, r2: float = 1.0,
                                        sigma2: float = 1.0) -> FloatArray | float:
    r"""Asymptotic excess risk when the learner observes only ``p`` of ``d`` equally weighted features.

    Model (Belkin, Hsu, Xu 2019, arXiv 1903.07571, "weak features"): :math:`x \sim N(0, I_d)`,
    :math:`y = x^\top\beta + \varepsilon`, :math:`\beta_j^2 = r^2/d` for every ``j``; the learner
    regresses on the first ``p`` coordinates only. The omitted part :math:`x_2^\top\beta_2` is Gaussian,
    independent of the observed features, and acts as extra noise, so (REFERENCE.md §10)

    .. math::

        R = \|\beta_2\|^2 + R_{\mathrm{iso}}\!\left(\gamma;\ r^2 = \|\beta_1\|^2,\
            \sigma^2 + \|\beta_2\|^2\right),\qquad
        \|\beta_1\|^2 = r^2\frac{\gamma}{\psi},\ \|\beta_2\|^2 = r^2\left(1 - \frac{\gamma}{\psi}\right),

    with :math:`\gamma = p/n`, :math:`\psi = d/n` and :math:`R_{\mathrm{iso}}` =
    :func:`excess_risk_asymptotic`. :math:`R` is the excess over the Bayes risk :math:`\sigma^2`
    (test MSE :math:`= \sigma^2 + R`). The curve peaks at :math:`\gamma = 1` and, for
    :math:`\sigma^2 < r^2` and :math:`\psi` well above 1, descends a second time to
    :math:`r^2(1 - 1/\psi) + \sigma^2/(\psi - 1)` at :math:`p = d`, below the best
    under-parameterised risk (:math:`\approx r^2`).

    Parameters
    ----------
    gamma : array_like
        :math:`p/n`, in :math:`(0, \psi]`.
    psi : array_like
        :math:`d/n` (total features per sample), > 0; broadcast with ``gamma``.
    r2, sigma2 : float, default 1
        Total signal :math:`\|\beta\|^2` over all ``d`` features, and noise variance.

    Returns
    -------
    float or ndarray
        Excess risk (``inf`` at :math:`\gamma = 1`).

    Raises
    ------
    DataError
        If ``gamma > psi`` (more observed than existing features) or inputs are out of range.
    """
    g = A.finite_array("gamma", gamma, positive=True)
    ps = A.finite_array("psi", psi, positive=True)
    r2 = A.scalar("r2", r2, nonneg=True)
    sigma2 = A.scalar("sigma2", sigma2, nonneg=True)
    g, ps = A.broadcast("'gamma' and 'psi'", g, ps)
    _check_observed_le_total(g, ps, "gamma", "psi")
    b1, b2 = _misspecified_split(g, ps, r2)
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = sigma2 + b2
        under = noise * g / (1.0 - g)
        over = b1 * (1.0 - 1.0 / g) + noise / (g - 1.0)
        iso = np.where(g < 1.0, under, np.where(g > 1.0, over, np.where(noise > 0, np.inf, 0.0)))
    return A.out(np.asarray(b2 + iso, dtype=float))


def _check_observed_le_total(obs: FloatArray, tot: FloatArray, obs_name: str, tot_name: str) -> None:
    bad = np.atleast_1d(obs > tot).ravel()
    if np.any(bad):
        idx = np.flatnonzero(bad)
        o = float(np.atleast_1d(obs).ravel()[idx[0]])
        t = float(np.atleast_1d(tot).ravel()[idx[0]])
        where = f"at {format_rows(idx.tolist())}" if np.ndim(obs) else ""
        raise DataError(format_message(f"Argument '{obs_name}'", where, f"<= '{tot_name}'",
                                       f"{o!r} > {t!r}",
                                       "The learner cannot observe more features than exist; raise "
                                       f"'{tot_name}' or drop those grid points."))


def misspecified_excess_risk_finite(p: ArrayLike, n: ArrayLike, n_features_total: ArrayLike, *,
                                    r2: float = 1.0, sigma2: float = 1.0) -> FloatArray | float:
    r"""Exact expected excess risk at finite ``n`` when only ``p`` of ``d`` equal-weight features are seen.

    Because the omitted contribution :math:`x_2^\top\beta_2 \sim N(0, \|\beta_2\|^2)` is independent of
    the observed features, the finite-``n`` result of :func:`excess_risk_finite` applies exactly with
    the substitutions of :func:`misspecified_excess_risk_asymptotic`:

    .. math::

        E R = r^2\left(1-\frac{p}{d}\right) + R_{\mathrm{finite}}\!\left(p, n;\
              r^2\frac{p}{d},\ \sigma^2 + r^2\left(1-\frac{p}{d}\right)\right)

    (Belkin, Hsu, Xu 2019, arXiv 1903.07571). Excess over the Bayes risk :math:`\sigma^2`; ``inf`` for
    :math:`n-1 \le p \le n+1` unless the effective noise is zero.

    Parameters
    ----------
    p, n, n_features_total : array_like of int
        Observed features, samples and total features ``d`` (``p <= d``); broadcast together.
    r2, sigma2 : float, default 1
        Total signal over all ``d`` features, and noise variance.

    Returns
    -------
    float or ndarray

    Raises
    ------
    DataError
        If ``p > n_features_total`` or the counts are not positive integers.
    """
    pa = A.int_array("p", p).astype(float)
    na = A.int_array("n", n).astype(float)
    da = A.int_array("n_features_total", n_features_total).astype(float)
    r2 = A.scalar("r2", r2, nonneg=True)
    sigma2 = A.scalar("sigma2", sigma2, nonneg=True)
    pa, na, da = A.broadcast("'p', 'n' and 'n_features_total'", pa, na, da)
    _check_observed_le_total(pa, da, "p", "n_features_total")
    b1, b2 = _misspecified_split(pa, da, r2)
    noise = sigma2 + b2
    with np.errstate(divide="ignore", invalid="ignore"):
        var_under = np.where(noise > 0, noise * pa / (na - pa - 1.0), 0.0)
        var_over = np.where(noise > 0, noise * na / (pa - na - 1.0), 0.0)
        over = b1 * (1.0 - na / pa) + var_over
        singular = np.where(noise > 0, np.inf, np.where(pa <= na, 0.0, b1 * (1.0 - na / pa)))
        iso = np.where(pa < na - 1, var_under, np.where(pa > na + 1, over, singular))
    return A.out(np.asarray(b2 + iso, dtype=float))


# --------------------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class DoubleDescentSimulation:
    """Result of :func:`simulate_min_norm` or :func:`simulate_random_features` (immutable).

    Attributes
    ----------
    model : {"min_norm_linear", "random_features"}
        Which learner was simulated.
    r2, sigma2 : float
        Signal :math:`\\|\\beta\\|^2` and label-noise variance used.
    n_reps : int
        Monte-Carlo repetitions per grid point.
    n_features_total : int or None
        ``d`` of the misspecified linear model (None: well-specified, isotropic).
    input_dim : int or None
        Input dimension of the random-features model (None for the linear model).
    n_test : int or None
        Test-set size per repetition for random features (None: the linear model's excess risk is
        computed exactly, without a test set).
    seed_entropy : int or None
        Entropy of the seed sequence the generator was created from, when known, so the run can be
        replayed with ``rng=seed_entropy``.

    Methods
    -------
    to_frame()
        One row per grid point (a copy): ``p, n, gamma, excess_risk_mean, excess_risk_se, n_reps,
        test_mse_mean, excess_risk_exact, excess_risk_asymptotic`` (theory columns NaN where no
        closed form is implemented, i.e. for random features).
    risks
        Per-repetition excess risks, array ``(n_points, n_reps)`` (a copy).
    """

    model: str
    r2: float
    sigma2: float
    n_reps: int
    n_features_total: int | None = None
    input_dim: int | None = None
    n_test: int | None = None
    seed_entropy: int | None = None
    _table: pd.DataFrame = field(repr=False)
    _risks: FloatArray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-grid-point summary table (a copy; see the class docstring for the columns)."""
        return self._table.copy(deep=True)

    @property
    def risks(self) -> FloatArray:
        """Per-repetition excess risks, shape ``(n_points, n_reps)`` (a writable copy)."""
        return np.array(self._risks, copy=True)

    def __repr__(self) -> str:
        t = self._table
        extra = ""
        if self.n_features_total is not None:
            extra += f", n_features_total={self.n_features_total}"
        if self.input_dim is not None:
            extra += f", input_dim={self.input_dim}, n_test={self.n_test}"
        return (f"<DoubleDescentSimulation {self.model}: {len(t)} grid points, p in "
                f"[{t['p'].min()}, {t['p'].max()}], n in [{t['n'].min()}, {t['n'].max()}], "
                f"{self.n_reps} reps, r2={self.r2:g}, sigma2={self.sigma2:g}{extra}>")


def _resolve_rng(rng: int | np.random.Generator | None) -> tuple[np.random.Generator, int | None]:
    gen = np.random.default_rng(rng)
    entropy = None
    seed_seq = getattr(gen.bit_generator, "seed_seq", None)
    ent = getattr(seed_seq, "entropy", None)
    if isinstance(ent, (int, np.integer)):
        entropy = int(ent)
    return gen, entropy


def _grid(n: ArrayLike, p: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    na = A.int_array("n", n)
    pa = A.int_array("p", p)
    try:
        na, pa = np.broadcast_arrays(na, pa)
    except ValueError as exc:
        raise DataError(format_message("Arguments 'n' and 'p'", "", "broadcastable to one shape",
                                       f"shapes {np.shape(na)} and {np.shape(pa)}",
                                       "Pass a scalar n with an array of p (model-wise) or a scalar p "
                                       "with an array of n (sample-wise).")) from exc
    na = np.atleast_1d(na).ravel().astype(np.int64)
    pa = np.atleast_1d(pa).ravel().astype(np.int64)
    return na, pa


def _min_norm_solve(A: FloatArray, y: FloatArray) -> FloatArray:
    """Batched minimum-norm least-squares solution of ``A w = y``.

    ``A`` has shape ``(b, m, k)``, ``y`` shape ``(b, m)``. Solves the normal equations on the smaller
    side: ``(A^T A)^{-1} A^T y`` when ``k < m`` and ``A^T (A A^T)^{-1} y`` otherwise (both equal
    ``A^+ y`` when ``A`` has full rank, which Gaussian designs have almost surely). If a Gram matrix is
    numerically singular the batch falls back to :func:`numpy.linalg.lstsq` (SVD) per repetition.
    """
    m, k = A.shape[-2], A.shape[-1]
    try:
        if k < m:
            G = A.mT @ A
            w = np.linalg.solve(G, (A.mT @ y[..., None]))[..., 0]
        else:
            G = A @ A.mT
            w = (A.mT @ np.linalg.solve(G, y[..., None]))[..., 0]
        if np.all(np.isfinite(w)):
            return w
    except np.linalg.LinAlgError:
        pass
    logger.debug("min-norm solve: singular Gram matrix in a batch of shape %s; using lstsq", A.shape)
    return np.stack([np.linalg.lstsq(A[i], y[i], rcond=None)[0] for i in range(A.shape[0])])


def _batches(n_reps: int, per_rep_floats: int) -> list[int]:
    size = max(1, min(n_reps, _BATCH_BYTES // max(1, 8 * per_rep_floats)))
    return [min(size, n_reps - start) for start in range(0, n_reps, size)]


def _summarise(na: NDArray[np.int64], pa: NDArray[np.int64], risks: FloatArray, sigma2: float,
               exact: FloatArray, asym: FloatArray) -> pd.DataFrame:
    n_reps = risks.shape[1]
    mean = risks.mean(axis=1)
    se = risks.std(axis=1, ddof=1) / math.sqrt(n_reps)
    return pd.DataFrame({
        "p": pa.astype(np.int64),
        "n": na.astype(np.int64),
        "gamma": pa / na,
        "excess_risk_mean": mean,
        "excess_risk_se": se,
        "n_reps": np.full(len(na), n_reps, dtype=np.int64),
        "test_mse_mean": sigma2 + mean,
        "excess_risk_exact": np.asarray(exact, dtype=float),
        "excess_risk_asymptotic": np.asarray(asym, dtype=float),
    })


def simulate_min_norm(n: ArrayLike, p: ArrayLike, *, r2: float = 1.0, sigma2: float = 1.0,
                      n_features_total: int | None = None, n_reps: int = 200,
                      rng: int | np.random.Generator | None = None) -> DoubleDescentSimulation:
    r"""Monte-Carlo excess risk of min-norm ("ridgeless") least squares on isotropic Gaussian data.

    For each grid point ``(n_i, p_i)`` and each of ``n_reps`` repetitions: draw
    :math:`X \in \mathbb{R}^{n\times p}` with i.i.d. :math:`N(0,1)` entries,
    :math:`y = X\beta + \varepsilon` with :math:`\beta = \sqrt{r^2/p}\,\mathbf 1` (the direction is
    irrelevant by rotation invariance) and :math:`\varepsilon \sim N(0, \sigma^2 I)`, fit
    :math:`\hat\beta = X^+ y` and record the **exact** excess risk
    :math:`E_x[(x^\top\hat\beta - x^\top\beta)^2] = \|\hat\beta - \beta\|^2` (isotropic test
    distribution, so no test sample is needed). The table carries the theory alongside:
    :func:`excess_risk_finite` (exact expectation) and :func:`excess_risk_asymptotic`.

    Misspecified variant (``n_features_total = d``): the truth has ``d`` features with equal weights
    :math:`\beta_j^2 = r^2/d`; the learner sees the first ``p``. The omitted contribution
    :math:`x_2^\top\beta_2 \sim N(0, r^2(1 - p/d))` is drawn directly (exact in distribution, since it
    is independent of the observed features) and the excess risk over the Bayes risk :math:`\sigma^2`
    is :math:`\|\hat\beta - \beta_1\|^2 + \|\beta_2\|^2`; the theory columns come from
    :func:`misspecified_excess_risk_finite` and :func:`misspecified_excess_risk_asymptotic`
    (:math:`\psi = d/n`). Belkin, Hsu, Xu 2019, arXiv 1903.07571.

    The min-norm solution is computed by solving the normal equations on the smaller side of
    :math:`X` for a whole batch of repetitions at once (see ``_min_norm_solve``); this equals
    ``np.linalg.pinv(X) @ y`` for full-rank designs.

    Parameters
    ----------
    n, p : array_like of int
        Samples and parameters, broadcast together. Scalar ``n`` with an array ``p`` is a *model-wise*
        sweep; scalar ``p`` with an array ``n`` a *sample-wise* sweep. Use
        ``p = np.round(gamma * n)`` to sweep :math:`\gamma`.
    r2 : float, default 1
        :math:`\|\beta\|^2` (total over all ``d`` features in the misspecified variant).
    sigma2 : float, default 1
        Label-noise variance.
    n_features_total : int, optional
        ``d`` of the misspecified model; every ``p`` must be <= ``d``.
    n_reps : int, default 200
        Repetitions per grid point (>= 2, for the standard error).
    rng : int, Generator or None
        Seed or generator (``np.random.default_rng(rng)``). Grid point ``i`` uses the ``i``-th child
        of ``rng.spawn``, so its draws do not depend on the other grid points' sizes.

    Returns
    -------
    DoubleDescentSimulation
        ``.to_frame()`` columns: ``p, n, gamma`` (= p/n), ``excess_risk_mean``, ``excess_risk_se``
        (standard error of the mean over repetitions), ``n_reps``, ``test_mse_mean``
        (= sigma2 + excess_risk_mean), ``excess_risk_exact`` (finite-n expectation; ``inf`` for
        :math:`n-1 \le p \le n+1`), ``excess_risk_asymptotic`` (at :math:`\gamma = p/n`).

    Raises
    ------
    DataError
        Non-integer or non-positive counts, ``p > n_features_total``, ``n_reps < 2``, negative
        ``r2``/``sigma2``.

    Notes
    -----
    Near :math:`p \approx n` the excess risk is heavy-tailed (its variance is infinite for
    :math:`|p - n| \le 3`), so the Monte-Carlo mean converges slowly there and its standard error is
    unreliable. Cost is dominated by drawing ``n·p`` normals per repetition: 200 repetitions at
    ``n = 200`` for ``gamma`` in (0.5, 0.9, 1.1, 2, 4) take 1–2 s on two cores.

    Examples
    --------
    >>> sim = simulate_min_norm(200, [100, 400], n_reps=50, rng=0)
    >>> sim.to_frame()[["gamma", "excess_risk_exact"]].round(3).values.tolist()
    [[0.5, 1.01], [2.0, 1.505]]
    """
    na, pa = _grid(n, p)
    r2 = A.scalar("r2", r2, nonneg=True)
    sigma2 = A.scalar("sigma2", sigma2, nonneg=True)
    n_reps = A.int_scalar("n_reps", n_reps, minimum=2)
    d: int | None = None
    if n_features_total is not None:
        d = A.int_scalar("n_features_total", n_features_total)
        _check_observed_le_total(pa.astype(float), np.full(len(pa), float(d)), "p", "n_features_total")
    gen, entropy = _resolve_rng(rng)
    children = gen.spawn(len(na))
    risks = np.empty((len(na), n_reps))
    for i, (ni, pi) in enumerate(zip(na.tolist(), pa.tolist())):
        g = children[i]
        if d is None:
            beta_sq_obs, beta_sq_omit = r2, 0.0
        else:
            beta_sq_obs, beta_sq_omit = r2 * pi / d, r2 * (1.0 - pi / d)
        beta = np.full(pi, math.sqrt(beta_sq_obs / pi))
        noise_sd = math.sqrt(sigma2 + beta_sq_omit)
        start = 0
        for b in _batches(n_reps, ni * pi):
            X = g.standard_normal((b, ni, pi))
            y = X @ beta + noise_sd * g.standard_normal((b, ni))
            bhat = _min_norm_solve(X, y)
            risks[i, start:start + b] = np.sum((bhat - beta) ** 2, axis=1) + beta_sq_omit
            start += b
        logger.debug("simulate_min_norm: n=%d p=%d done", ni, pi)
    if d is None:
        exact = np.atleast_1d(excess_risk_finite(pa, na, r2=r2, sigma2=sigma2))
        asym = np.atleast_1d(excess_risk_asymptotic(pa / na, r2=r2, sigma2=sigma2))
    else:
        exact = np.atleast_1d(misspecified_excess_risk_finite(pa, na, d, r2=r2, sigma2=sigma2))
        asym = np.atleast_1d(misspecified_excess_risk_asymptotic(pa / na, d / na, r2=r2, sigma2=sigma2))
    table = _summarise(na, pa, risks, sigma2, exact, asym)
    risks.flags.writeable = False
    return DoubleDescentSimulation(model="min_norm_linear", r2=r2, sigma2=sigma2, n_reps=n_reps,
                                   n_features_total=d, seed_entropy=entropy, _table=table, _risks=risks)


def simulate_random_features(n: ArrayLike, p: ArrayLike, *, input_dim: int = 50, r2: float = 1.0,
                             sigma2: float = 1.0, n_test: int = 1000, n_reps: int = 50,
                             rng: int | np.random.Generator | None = None) -> DoubleDescentSimulation:
    r"""Monte-Carlo excess risk of min-norm random-features (ReLU) regression.

    Per repetition: inputs :math:`x \sim N(0, I_{d})` (``d = input_dim``), linear teacher
    :math:`f^*(x) = x^\top\beta` with :math:`\beta = \sqrt{r^2/d}\,\mathbf 1`, labels
    :math:`y = f^*(x) + \varepsilon`, :math:`\varepsilon\sim N(0,\sigma^2)`; ``p`` random features
    :math:`\phi(x) = \max(0, Wx/\sqrt d)` with :math:`W \in \mathbb{R}^{p\times d}` i.i.d.
    :math:`N(0,1)` (fresh per repetition); second-layer weights :math:`\hat a = \Phi^+ y`, the
    minimum-norm least-squares solution on the features (Belkin et al. 2019, arXiv 1812.11118;
    Mei & Montanari 2019, arXiv 1908.05355). The excess risk
    :math:`E_x[(\phi(x)^\top\hat a - f^*(x))^2]` is estimated on ``n_test`` fresh, **noise-free**
    test points per repetition, so the column ``excess_risk_mean`` is directly comparable with the
    linear model's (test MSE on noisy labels is ``sigma2`` more). The test risk peaks at the
    interpolation threshold ``p = n``.

    Parameters
    ----------
    n, p : array_like of int
        Training samples and number of random features (parameters), broadcast together.
    input_dim : int, default 50
        Input dimension ``d``.
    r2, sigma2 : float, default 1
        Teacher signal :math:`\|\beta\|^2` and label-noise variance.
    n_test : int, default 1000
        Test points per repetition.
    n_reps : int, default 50
        Repetitions per grid point (>= 2).
    rng : int, Generator or None
        Seed or generator; grid point ``i`` uses the ``i``-th child of ``rng.spawn``.

    Returns
    -------
    DoubleDescentSimulation
        Same columns as :func:`simulate_min_norm`; ``excess_risk_exact`` and
        ``excess_risk_asymptotic`` are NaN (no closed form implemented here; Mei & Montanari give the
        asymptotic one).

    Raises
    ------
    DataError
        Non-integer or non-positive counts, ``n_reps < 2``, negative ``r2``/``sigma2``.

    Examples
    --------
    >>> sim = simulate_random_features(40, [10, 40, 160], input_dim=10, n_test=200, n_reps=5, rng=0)
    >>> sim.to_frame()["excess_risk_mean"].idxmax()
    1
    """
    na, pa = _grid(n, p)
    d = A.int_scalar("input_dim", input_dim)
    r2 = A.scalar("r2", r2, nonneg=True)
    sigma2 = A.scalar("sigma2", sigma2, nonneg=True)
    n_test = A.int_scalar("n_test", n_test)
    n_reps = A.int_scalar("n_reps", n_reps, minimum=2)
    gen, entropy = _resolve_rng(rng)
    children = gen.spawn(len(na))
    risks = np.empty((len(na), n_reps))
    beta = np.full(d, math.sqrt(r2 / d))
    sd = math.sqrt(sigma2)
    scale = 1.0 / math.sqrt(d)
    for i, (ni, pi) in enumerate(zip(na.tolist(), pa.tolist())):
        g = children[i]
        start = 0
        for b in _batches(n_reps, (ni + n_test) * pi + pi * d):
            W = g.standard_normal((b, pi, d)) * scale
            X = g.standard_normal((b, ni, d))
            y = X @ beta + sd * g.standard_normal((b, ni))
            Phi = np.maximum(X @ W.mT, 0.0)
            a = _min_norm_solve(Phi, y)
            Xt = g.standard_normal((b, n_test, d))
            pred = (np.maximum(Xt @ W.mT, 0.0) @ a[..., None])[..., 0]
            risks[i, start:start + b] = np.mean((pred - Xt @ beta) ** 2, axis=1)
            start += b
        logger.debug("simulate_random_features: n=%d p=%d done", ni, pi)
    nan = np.full(len(na), np.nan)
    table = _summarise(na, pa, risks, sigma2, nan, nan)
    risks.flags.writeable = False
    return DoubleDescentSimulation(model="random_features", r2=r2, sigma2=sigma2, n_reps=n_reps,
                                   input_dim=d, n_test=n_test, seed_entropy=entropy, _table=table,
                                   _risks=risks)


