r"""FLOP models: training compute ``C`` as a function of parameters ``N`` and tokens ``D``.

Every model here has the form ``C = f(N) * D``: a number of training FLOPs per token that depends
on the model only. :class:`FlopsModel` is that abstraction (``per_token(N)``, ``flops(N, D)``,
``n_tokens(C, N)``, ``n_params(C, D)``); :func:`scaling.predict.compute_optimal` works with any of
them (a closed form exists only for the linear ``C = k N D``).

* :class:`LinearFlops` — ``f(N) = k N`` (``k = 6`` by default: 2 forward + 4 backward FLOPs per
  parameter and token; Kaplan et al. 2020 §2.1);
* :class:`NonEmbeddingFlops` — ``f(N) = 6 N_nonemb(N)`` for a law of total ``N`` with compute counted
  on non-embedding parameters (Kaplan §1.3; Pearce & Song 2024);
* :class:`ArchitectureFlops` — Hoffmann App. F's count, or DeepSeek's ``M``, for a family of shapes;
* :class:`CustomFlops` — a user function ``flops_per_token(n_params)``.

Architecture counts for one given model: :func:`hoffmann_forward_flops` (per sequence),
:func:`hoffmann_flops_per_token` (training, per token), :func:`deepseek_flops_per_token` (``M``),
:func:`kaplan_nonembedding_params` (eq. 2.1), and the total <-> non-embedding conversions
:func:`nonembedding_params`, :func:`total_params`, :func:`pearce_song_total`,
:func:`pearce_song_nonembedding`.

**Hoffmann et al. 2022, Table A4 is not reproduced by the App. F formula.** With a sequence length of
2048 and a 32k vocabulary, the formula gives ratios to 6ND of 1.60 (73M) ... 1.03 (6.8B) for the
Table A4 architectures, against the printed 1.03 ... 0.99 (REFERENCE §2, [U]); the sequence length,
vocabulary and parameter count behind Table A4 are not stated. The formula is implemented as printed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DataError, format_message

__all__ = [
    "FlopsModel", "LinearFlops", "NonEmbeddingFlops", "ArchitectureFlops", "CustomFlops", "SIX_ND",
    "as_flops_model", "hoffmann_forward_flops", "hoffmann_flops_per_token", "hoffmann_params",
    "deepseek_flops_per_token", "deepseek_6n1", "deepseek_6n2", "kaplan_nonembedding_params",
    "kaplan_forward_flops_per_token", "nonembedding_params", "total_params", "pearce_song_total",
    "pearce_song_nonembedding", "PEARCE_SONG_EMBEDDING_COEFFICIENT",
]

FloatArray = NDArray[np.float64]

#: Pearce & Song 2024 (arXiv 2406.12907): ``N_T = N_\E + 47491 N_\E^(1/3)`` for Chinchilla's
#: configurations (vocabulary 32k, d_model/n_layer about 39.2).
PEARCE_SONG_EMBEDDING_COEFFICIENT: float = 47491.0


def _positive(x: ArrayLike, name: str, where: str) -> FloatArray:
    arr = np.asarray(x, dtype=float)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        vals = np.atleast_1d(arr)[np.atleast_1d(bad)][:5]
        raise DataError(format_message(f"Argument {name}", f"of {where}", "finite and > 0",
                                       np.array2string(vals, precision=4), "Pass positive counts."))
    return arr


# --------------------------------------------------------------------------- architecture counts
def kaplan_nonembedding_params(n_layer: ArrayLike, d_model: ArrayLike, d_attn: ArrayLike | None = None,
                               d_ff: ArrayLike | None = None) -> FloatArray:
    r"""Non-embedding parameters, Kaplan et al. 2020 eq. 2.1: ``N = 2 d_model n_layer (2 d_attn + d_ff)``.

    With ``d_attn = d_model`` and ``d_ff = 4 d_model`` (the defaults) this is ``12 n_layer d_model^2``.
    """
    L = np.asarray(n_layer, dtype=float)
    d = np.asarray(d_model, dtype=float)
    da = d if d_attn is None else np.asarray(d_attn, dtype=float)
    df = 4.0 * d if d_ff is None else np.asarray(d_ff, dtype=float)
    return 2.0 * d * L * (2.0 * da + df)


def kaplan_forward_flops_per_token(n_params_nonembedding: ArrayLike, n_layer: ArrayLike, n_ctx: ArrayLike,
                                   d_attn: ArrayLike) -> FloatArray:
    """Forward FLOPs per token, Kaplan et al. 2020 eq. 2.2: ``C_forward = 2N + 2 n_layer n_ctx d_attn``."""
    return (2.0 * np.asarray(n_params_nonembedding, dtype=float)
            + 2.0 * np.asarray(n_layer, dtype=float) * np.asarray(n_ctx, dtype=float) * np.asarray(d_attn, dtype=float))


def hoffmann_forward_flops(n_layer: ArrayLike, d_model: ArrayLike, n_heads: ArrayLike, seq_len: ArrayLike,
                           vocab_size: ArrayLike, ffw_size: ArrayLike | None = None,
                           kv_size: ArrayLike | None = None) -> FloatArray:
    r"""Forward-pass FLOPs **per sequence**, Hoffmann et al. 2022 (arXiv 2203.15556), App. F.

    A multiply-accumulate counts 2 FLOPs. With ``s = seq_len``, ``V = vocab_size``, ``d = d_model``,
    ``h = n_heads``, ``k = kv_size`` (default ``d/h``), ``f = ffw_size`` (default ``4d``):

    * embeddings: ``2 s V d``
    * attention (per layer): key/query/value projections ``2·3·s·d·(k h)``; key@query logits
      ``2 s^2 (k h)``; softmax ``3 h s^2``; softmax@query reductions ``2 s^2 (k h)``; final linear
      ``2 s (k h) d``
    * dense block (per layer): ``2 s (d f + d f)``
    * final logits: ``2 s d V``

    Total forward = embeddings + n_layer (attention + dense) + logits. The backward pass is counted
    as twice the forward pass (:func:`hoffmann_flops_per_token`).

    Note: REFERENCE §2 — Table A4's ratios to 6ND (1.03 ... 0.99) could not be reproduced with this
    formula (seq 2048, vocab 32k gives 1.60 ... 1.03).
    """
    L = np.asarray(n_layer, dtype=float)
    d = np.asarray(d_model, dtype=float)
    h = np.asarray(n_heads, dtype=float)
    s = np.asarray(seq_len, dtype=float)
    V = np.asarray(vocab_size, dtype=float)
    k = d / h if kv_size is None else np.asarray(kv_size, dtype=float)
    f = 4.0 * d if ffw_size is None else np.asarray(ffw_size, dtype=float)
    kh = k * h
    embeddings = 2.0 * s * V * d
    attention = (2.0 * 3.0 * s * d * kh + 2.0 * s * s * kh + 3.0 * h * s * s + 2.0 * s * s * kh
                 + 2.0 * s * kh * d)
    dense = 2.0 * s * (d * f + d * f)
    logits = 2.0 * s * d * V
    return embeddings + L * (attention + dense) + logits


def hoffmann_flops_per_token(n_layer: ArrayLike, d_model: ArrayLike, n_heads: ArrayLike, seq_len: ArrayLike,
                             vocab_size: ArrayLike, ffw_size: ArrayLike | None = None,
                             kv_size: ArrayLike | None = None) -> FloatArray:
    """Training FLOPs per token from Hoffmann App. F: ``3 x forward / seq_len`` (backward = 2 x forward)."""
    fwd = hoffmann_forward_flops(n_layer, d_model, n_heads, seq_len, vocab_size, ffw_size, kv_size)
    return 3.0 * fwd / np.asarray(seq_len, dtype=float)


def hoffmann_params(n_layer: ArrayLike, d_model: ArrayLike, n_heads: ArrayLike, vocab_size: ArrayLike,
                    ffw_size: ArrayLike | None = None, kv_size: ArrayLike | None = None) -> FloatArray:
    """Parameter count of the App. F architecture (weight matrices only: ``n_layer (4 d k h + 2 d f) + V d``).

    Embeddings are counted once (Hoffmann counts them in N); biases and norms are ignored.
    """
    L = np.asarray(n_layer, dtype=float)
    d = np.asarray(d_model, dtype=float)
    h = np.asarray(n_heads, dtype=float)
    V = np.asarray(vocab_size, dtype=float)
    k = d / h if kv_size is None else np.asarray(kv_size, dtype=float)
    f = 4.0 * d if ffw_size is None else np.asarray(ffw_size, dtype=float)
    return L * (4.0 * d * k * h + 2.0 * d * f) + V * d


def deepseek_flops_per_token(n_layer: ArrayLike, d_model: ArrayLike, seq_len: ArrayLike) -> FloatArray:
    r"""DeepSeek LLM (arXiv 2401.02954) model scale ``M`` = non-embedding training FLOPs per token:

    .. math:: M = 72\,n_{layer}\,d_{model}^2 + 12\,n_{layer}\,d_{model}\,l_{seq}

    Training compute is ``C = M D``.
    """
    L = np.asarray(n_layer, dtype=float)
    d = np.asarray(d_model, dtype=float)
    return 72.0 * L * d * d + 12.0 * L * d * np.asarray(seq_len, dtype=float)


def deepseek_6n1(n_layer: ArrayLike, d_model: ArrayLike) -> FloatArray:
    """DeepSeek's ``6 N_1 = 72 n_layer d_model^2`` (non-embedding parameters, no attention FLOPs)."""
    return 72.0 * np.asarray(n_layer, dtype=float) * np.asarray(d_model, dtype=float) ** 2


def deepseek_6n2(n_layer: ArrayLike, d_model: ArrayLike, vocab_size: ArrayLike) -> FloatArray:
    """DeepSeek's ``6 N_2 = 6 N_1 + 6 n_vocab d_model`` (parameters including the vocabulary)."""
    return deepseek_6n1(n_layer, d_model) + 6.0 * np.asarray(vocab_size, dtype=float) * np.asarray(d_model, dtype=float)


# --------------------------------------------------------------------------- total <-> non-embedding
def nonembedding_params(n_params: ArrayLike, *, vocab_size: ArrayLike, d_model: ArrayLike,
                        n_ctx: ArrayLike = 0) -> FloatArray:
    """Non-embedding parameters from a total count: ``N - (vocab_size + n_ctx) d_model``.

    Kaplan et al. 2020 (§1.3) exclude the token embedding (``vocab_size x d_model``) and the learned
    positional embedding (``n_ctx x d_model``; pass ``n_ctx=0`` for rotary/relative positions).
    """
    N = np.asarray(n_params, dtype=float)
    emb = (np.asarray(vocab_size, dtype=float) + np.asarray(n_ctx, dtype=float)) * np.asarray(d_model, dtype=float)
    out = N - emb
    if np.any(out <= 0):
        raise DataError(format_message("The embedding count (vocab_size + n_ctx) * d_model", "of nonembedding_params()",
                                       "smaller than n_params", f"{np.max(emb):.4g} >= {np.min(N):.4g}",
                                       "Check the units of n_params (a total count) and d_model."))
    return out


def total_params(n_params_nonembedding: ArrayLike, *, vocab_size: ArrayLike, d_model: ArrayLike,
                 n_ctx: ArrayLike = 0) -> FloatArray:
    """Total parameters from a non-embedding count: ``N_nonemb + (vocab_size + n_ctx) d_model``."""
    return (np.asarray(n_params_nonembedding, dtype=float)
            + (np.asarray(vocab_size, dtype=float) + np.asarray(n_ctx, dtype=float)) * np.asarray(d_model, dtype=float))


def pearce_song_total(n_params_nonembedding: ArrayLike, coefficient: float = PEARCE_SONG_EMBEDDING_COEFFICIENT
                      ) -> FloatArray:
    r"""Total from non-embedding parameters, Pearce & Song 2024 (arXiv 2406.12907):
    ``N_T = N_\E + 47491 N_\E^(1/3)`` (Chinchilla's configurations: vocabulary 32k, d/L about 39.2)."""
    n = np.asarray(n_params_nonembedding, dtype=float)
    return n + coefficient * np.cbrt(n)


def pearce_song_nonembedding(n_params: ArrayLike, coefficient: float = PEARCE_SONG_EMBEDDING_COEFFICIENT
                             ) -> FloatArray:
    r"""Inverse of :func:`pearce_song_total`: the real root ``N_\E = x^3`` of ``x^3 + c x - N_T = 0``
    (Cardano; unique because the cubic is increasing). Vectorised and exact to rounding."""
    N = np.asarray(n_params, dtype=float)
    c = float(coefficient)
    # x = cbrt(q + sqrt(q^2 + p^3)) + cbrt(q - sqrt(q^2 + p^3)) with q = N/2, p = c/3; the second
    # term cancels badly, so use x = u - p/u with u = cbrt(q + sqrt(q^2 + p^3)).
    q = 0.5 * N
    p = c / 3.0
    u = np.cbrt(q + np.sqrt(q * q + p ** 3))
    x = u - p / u
    # one Newton polish on x^3 + c x - N
    x = x - (x ** 3 + c * x - N) / (3.0 * x * x + c)
    return x ** 3


# --------------------------------------------------------------------------- the abstraction
class FlopsModel:
    r"""Training compute ``C = f(N) D``: ``f(N)`` training FLOPs per token for a model of ``N`` parameters.

    Subclasses implement :meth:`per_token` (vectorised). ``coefficient`` is ``k`` when ``f(N) = k N``
    (the closed-form allocation of Hoffmann eq. 4 then applies), else ``None``.
    """

    name: str = "flops"

    @property
    def coefficient(self) -> float | None:
        return None

    def per_token(self, n_params: ArrayLike) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def flops(self, n_params: ArrayLike, n_tokens: ArrayLike) -> FloatArray:
        """Training FLOPs ``C = f(N) D``."""
        return self.per_token(n_params) * np.asarray(n_tokens, dtype=float)

    def n_tokens(self, flops: ArrayLike, n_params: ArrayLike) -> FloatArray:
        """Tokens affordable with ``C`` FLOPs at size ``N``: ``D = C / f(N)``."""
        return np.asarray(flops, dtype=float) / self.per_token(n_params)

    def elasticity(self, n_params: ArrayLike) -> FloatArray:
        """``d log f / d log N`` (1 for the linear model); a central difference for the others."""
        lN = np.log(np.asarray(n_params, dtype=float))
        h = 1e-5
        with np.errstate(all="ignore"):
            return (np.log(self.per_token(np.exp(lN + h))) - np.log(self.per_token(np.exp(lN - h)))) / (2 * h)

    def n_params(self, flops: ArrayLike, n_tokens: ArrayLike) -> FloatArray:
        """Size ``N`` with ``f(N) D = C`` (``f`` increasing): bisection in ``log N``, exact to ~1e-13."""
        target = np.asarray(flops, dtype=float) / np.asarray(n_tokens, dtype=float)
        lo = np.log(np.maximum(target, 1.0)) - np.log(6.0) - 12.0
        hi = lo + 24.0
        with np.errstate(all="ignore"):
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                above = self.per_token(np.exp(mid)) > target
                hi = np.where(above, mid, hi)
                lo = np.where(above, lo, mid)
                if np.all(hi - lo < 1e-13 * np.maximum(1.0, np.abs(hi))):
                    break
        return np.exp(0.5 * (lo + hi))

    def n_params_for_ratio(self, flops: ArrayLike, tokens_per_param: ArrayLike) -> FloatArray:
        """Size ``N`` with ``f(N) r N = C`` (a given tokens-per-parameter ratio ``r = D/N``)."""
        C = np.asarray(flops, dtype=float)
        r = np.asarray(tokens_per_param, dtype=float)
        k = self.coefficient
        if k is not None:
            return np.sqrt(C / (k * r))
        lo = 0.5 * np.log(C / (6.0 * r)) - 8.0
        hi = lo + 16.0
        with np.errstate(all="ignore"):
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                N = np.exp(mid)
                above = self.per_token(N) * r * N > C
                hi = np.where(above, mid, hi)
                lo = np.where(above, lo, mid)
                if np.all(hi - lo < 1e-13 * np.maximum(1.0, np.abs(hi))):
                    break
        return np.exp(0.5 * (lo + hi))

    def describe(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return {"model": type(self).__name__, "name": self.name}

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class LinearFlops(FlopsModel):
    """``C = k N D`` (default ``k = 6``: 2 forward + 4 backward FLOPs per parameter and token;
    Kaplan et al. 2020 §2.1). Hoffmann et al. 2022 use it for their eq. 4 (App. F: within a few %)."""

    k: float = 6.0

    def __post_init__(self) -> None:
        if not (isinstance(self.k, (int, float)) and math.isfinite(self.k) and self.k > 0):
            raise DataError(format_message("FLOPs per parameter-token k", "of LinearFlops", "finite and > 0",
                                           repr(self.k), "Use 6 for C = 6ND."))

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"C = {self.k:g}*N*D"

    @property
    def coefficient(self) -> float | None:
        return float(self.k)

    def per_token(self, n_params: ArrayLike) -> FloatArray:
        return self.k * np.asarray(n_params, dtype=float)

    def n_tokens(self, flops: ArrayLike, n_params: ArrayLike) -> FloatArray:
        return np.asarray(flops, dtype=float) / (self.k * np.asarray(n_params, dtype=float))

    def n_params(self, flops: ArrayLike, n_tokens: ArrayLike) -> FloatArray:
        return np.asarray(flops, dtype=float) / (self.k * np.asarray(n_tokens, dtype=float))

    def elasticity(self, n_params: ArrayLike) -> FloatArray:
        return np.ones_like(np.asarray(n_params, dtype=float))

    def to_dict(self) -> dict[str, Any]:
        return {"model": "LinearFlops", "name": self.name, "k": float(self.k)}


SIX_ND = LinearFlops(6.0)
"""The default FLOP model, ``C = 6 N D``."""


@dataclass(frozen=True)
class NonEmbeddingFlops(FlopsModel):
    r"""Kaplan's compute rule applied to a law of *total* parameters: ``C = k N_nonemb(N) D``.

    ``N`` (the law's variable) counts all parameters; compute counts only non-embedding ones
    (Kaplan et al. 2020 §1.3, §2.1: ``C = 6 N D`` with non-embedding ``N``).

    Parameters
    ----------
    n_embedding : float, optional
        A fixed number of embedding parameters (``(vocab + n_ctx) d_model``); ``N_nonemb = N - n_embedding``.
        When omitted, Pearce & Song's relation for Chinchilla's configurations is used:
        ``N_T = N_\E + 47491 N_\E^(1/3)`` (:func:`pearce_song_nonembedding`).
    k : float
        FLOPs per non-embedding parameter and token (6).
    """

    n_embedding: float | None = None
    k: float = 6.0

    @property
    def name(self) -> str:  # type: ignore[override]
        emb = ("N_nonemb from Pearce & Song 2024 (N = N_nonemb + 47491 N_nonemb^(1/3))"
               if self.n_embedding is None else f"N_nonemb = N - {self.n_embedding:.4g}")
        return f"C = {self.k:g}*N_nonemb*D, {emb}"

    def nonembedding(self, n_params: ArrayLike) -> FloatArray:
        N = np.asarray(n_params, dtype=float)
        if self.n_embedding is None:
            return pearce_song_nonembedding(N)
        with np.errstate(invalid="ignore"):
            out = N - float(self.n_embedding)
        return np.where(out > 0, out, np.nan)

    def per_token(self, n_params: ArrayLike) -> FloatArray:
        return self.k * self.nonembedding(n_params)

    def to_dict(self) -> dict[str, Any]:
        return {"model": "NonEmbeddingFlops", "name": self.name, "n_embedding": self.n_embedding, "k": float(self.k)}


@dataclass(frozen=True)
class ArchitectureFlops(FlopsModel):
    r"""FLOPs per token from an architecture formula, for a family of shapes indexed by ``N``.

    A size ``N`` is mapped to a (continuous) shape with ``d_model / n_layer = aspect_ratio``,
    ``d_ff = 4 d_model`` and ``n_heads = d_model / kv_size``, then counted:

    * ``formula="hoffmann"`` — ``N`` is the total parameter count of App. F's architecture
      (``12 n_layer d^2 + V d``, :func:`hoffmann_params`), and ``f(N)`` is App. F's training count per
      token (:func:`hoffmann_flops_per_token`, embeddings and logits included);
    * ``formula="deepseek"`` — ``N`` is the non-embedding count ``12 n_layer d^2`` (``6 N_1``/6), and
      ``f(N) = M = 72 n_layer d^2 + 12 n_layer d l_seq`` (DeepSeek LLM §3.1).

    The continuous relaxation (fractional layers and heads) is an approximation for planning.
    """

    formula: Literal["hoffmann", "deepseek"] = "hoffmann"
    aspect_ratio: float = 128.0
    seq_len: float = 2048.0
    vocab_size: float = 32000.0
    kv_size: float = 128.0

    def __post_init__(self) -> None:
        if self.formula not in ("hoffmann", "deepseek"):
            raise DataError(format_message("Option formula", "of ArchitectureFlops", "'hoffmann' or 'deepseek'",
                                           repr(self.formula)))
        for nm in ("aspect_ratio", "seq_len", "vocab_size", "kv_size"):
            v = getattr(self, nm)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise DataError(format_message(f"Option {nm}", "of ArchitectureFlops", "finite and > 0", repr(v)))

    @property
    def name(self) -> str:  # type: ignore[override]
        if self.formula == "hoffmann":
            return (f"Hoffmann App. F count (d_model/n_layer = {self.aspect_ratio:g}, seq {self.seq_len:g}, "
                    f"vocab {self.vocab_size:g}, kv {self.kv_size:g})")
        return f"DeepSeek M = 72 L d^2 + 12 L d l_seq (d_model/n_layer = {self.aspect_ratio:g}, l_seq {self.seq_len:g})"

    def shape(self, n_params: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Continuous ``(n_layer, d_model)`` of the family member with ``N`` parameters."""
        N = np.asarray(n_params, dtype=float)
        r = float(self.aspect_ratio)
        if self.formula == "deepseek":
            d = np.cbrt(N * r / 12.0)
            return d / r, d
        # 12 d^3 / r + V d = N: increasing cubic in d; Newton from the no-embedding root
        V = float(self.vocab_size)
        d = np.cbrt(N * r / 12.0)
        with np.errstate(all="ignore"):
            for _ in range(60):
                g = 12.0 * d ** 3 / r + V * d - N
                step = g / (36.0 * d * d / r + V)
                d = np.maximum(d - step, d * 1e-3)
                if np.all(np.abs(step) <= 1e-14 * d):
                    break
        return d / r, d

    def per_token(self, n_params: ArrayLike) -> FloatArray:
        L, d = self.shape(n_params)
        if self.formula == "deepseek":
            return deepseek_flops_per_token(L, d, self.seq_len)
        return hoffmann_flops_per_token(L, d, d / self.kv_size, self.seq_len, self.vocab_size,
                                        ffw_size=4.0 * d, kv_size=self.kv_size)

    def to_dict(self) -> dict[str, Any]:
        return {"model": "ArchitectureFlops", "name": self.name, "formula": self.formula,
                "aspect_ratio": float(self.aspect_ratio), "seq_len": float(self.seq_len),
                "vocab_size": float(self.vocab_size), "kv_size": float(self.kv_size)}


@dataclass(frozen=True)
class CustomFlops(FlopsModel):
    """A user rule: ``C = flops_per_token(N) * D``.

    ``flops_per_token`` should accept a numpy array (it is called vectorised; a scalar-only function
    is wrapped with :func:`numpy.vectorize`, which is slower) and be increasing in ``N``.
    """

    function: Callable[[Any], Any]
    label: str = "custom flops_per_token(N)"

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"C = f(N)*D with {self.label}"

    def per_token(self, n_params: ArrayLike) -> FloatArray:
        N = np.asarray(n_params, dtype=float)
        out: FloatArray | None
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(self.function(N), dtype=float)
            if out.shape != N.shape:
                out = None
        except Exception:  # noqa: BLE001 - a scalar-only function: vectorise it below
            out = None
        if out is None:
            try:
                out = np.vectorize(lambda n: float(self.function(float(n))), otypes=[float])(N)
            except Exception as exc:  # noqa: BLE001
                raise DataError(format_message("flops_per_token", f"'{self.label}'",
                                               "a function of n_params returning FLOPs per token",
                                               f"an error: {exc}")) from exc
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"model": "CustomFlops", "name": self.name, "label": self.label}


def as_flops_model(model: FlopsModel | float | str | Callable[[Any], Any] | None) -> FlopsModel:
    """Normalise a ``flops_model=`` argument.

    ``None`` -> ``C = 6ND``; a number ``k`` -> ``C = kND``; a :class:`FlopsModel` as is; a callable
    ``flops_per_token(n_params)`` -> :class:`CustomFlops`; the strings ``"6ND"``, ``"kaplan"``
    (non-embedding, Pearce & Song), ``"hoffmann"`` and ``"deepseek"`` (:class:`ArchitectureFlops`
    with default shapes).
    """
    if model is None:
        return SIX_ND
    if isinstance(model, FlopsModel):
        return model
    if isinstance(model, bool):
        pass
    elif isinstance(model, (int, float, np.integer, np.floating)):
        return LinearFlops(float(model))
    elif isinstance(model, str):
        key = model.strip().lower().replace(" ", "")
        if key in ("6nd", "c=6nd", "linear"):
            return SIX_ND
        if key in ("kaplan", "nonembedding", "6n_nonembd"):
            return NonEmbeddingFlops()
        if key in ("hoffmann", "appf", "chinchilla"):
            return ArchitectureFlops("hoffmann")
        if key in ("deepseek", "m"):
            return ArchitectureFlops("deepseek")
    elif callable(model):
        return CustomFlops(model, getattr(model, "__name__", "custom flops_per_token(N)"))
    raise DataError(format_message("Argument flops_model", "", "a FlopsModel, a number k (C = kND), a function "
                                   "flops_per_token(n_params), or one of '6ND', 'kaplan', 'hoffmann', 'deepseek'",
                                   repr(model), "See scaling.predict.flops."))
