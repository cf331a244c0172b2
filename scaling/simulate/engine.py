r"""A small numpy neural-network engine: multilayer perceptrons, manual backprop, SGD/Adam(W).

Enough to train the tiny networks of :mod:`scaling.simulate` on a CPU in seconds, with no
dependency beyond numpy (and tqdm for an optional progress bar):

* :class:`MLP` — fully connected ReLU network ``x -> W_1 x + b_1 -> relu -> ... -> W_L h + b_L``;
  parameters are float32 arrays in :attr:`MLP.params` (``[W_1, b_1, W_2, b_2, ...]``, ``W_i`` of
  shape ``(fan_in, fan_out)``), initialised by He et al. (2015) scaling ``N(0, 2/fan_in)`` (the last
  layer ``N(0, 1/fan_in)``) times ``init_scale``, biases zero. A first layer fed one-hot codes is an
  embedding table: ``onehot(a) @ W`` is row ``a`` of ``W``.
* Losses :func:`cross_entropy` (softmax, mean over the batch) and :func:`mse` (half squared error summed
  over outputs, mean over the batch), each returning the loss and its gradient with respect to the
  network output.
* Optimisers :class:`SGD` (optional momentum) and :class:`Adam` (Kingma & Ba 2015) with *decoupled*
  weight decay (AdamW, Loshchilov & Hutter 2019): ``theta <- theta - lr * (m_hat/(sqrt(v_hat)+eps)
  + weight_decay * theta)``; weight decay applies to weight matrices only, never to biases.
* :func:`train` — minibatch training loop (minibatches drawn without replacement within an epoch
  from the one ``rng``), an evaluation callback every ``eval_every`` steps, a tqdm progress bar on
  stderr that is **off** unless ``progress=True``.

Determinism: every random draw (initialisation, minibatch order) comes from the generator made by
``np.random.default_rng(rng)``; the same seed gives the same parameters and history (on the same BLAS).

The gradients are checked against central finite differences in ``tests/test_simulate.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import DataError, format_message

__all__ = ["MLP", "init_mlp", "cross_entropy", "mse", "SGD", "Adam", "train", "one_hot", "accuracy"]

F32 = NDArray[np.float32]
DTYPE = np.float32


def one_hot(labels: NDArray[Any], n_classes: int) -> F32:
    """``(n,)`` integer labels to an ``(n, n_classes)`` float32 one-hot matrix."""
    out = np.zeros((len(labels), n_classes), dtype=DTYPE)
    out[np.arange(len(labels)), labels] = 1.0
    return out


@dataclass
class MLP:
    """A ReLU multilayer perceptron (mutable during training; experiments return frozen results).

    Attributes
    ----------
    sizes : tuple of int
        Layer widths ``(n_in, hidden_1, ..., n_out)``.
    params : list of ndarray
        ``[W_1, b_1, ..., W_L, b_L]`` (float32).
    """

    sizes: tuple[int, ...]
    params: list[F32] = field(repr=False)

    @property
    def n_params(self) -> int:
        """Number of trainable scalars (weights and biases)."""
        return int(sum(p.size for p in self.params))

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def forward(self, X: NDArray[Any]) -> tuple[F32, list[Any]]:
        """Output (pre-softmax) and the activations cache needed by :meth:`backward`.

        ``X`` is a float matrix ``(n, n_in)``, or an integer matrix ``(n, m)`` holding the positions of the
        ones of a multi-hot input (e.g. ``[a, p + b]`` for the concatenated one-hot codes of ``a`` and
        ``b``): the first layer then sums rows of ``W_1`` — an embedding lookup, without the zeros.
        """
        X = np.asarray(X)
        sparse = np.issubdtype(X.dtype, np.integer)
        h: Any = X if sparse else X.astype(DTYPE, copy=False)
        cache = [h]
        for i in range(self.n_layers):
            W, b = self.params[2 * i], self.params[2 * i + 1]
            if i == 0 and sparse:
                z = W[h[:, 0]].copy()
                for j in range(1, h.shape[1]):
                    z += W[h[:, j]]
            else:
                z = h @ W
            z += b
            if i < self.n_layers - 1:
                np.maximum(z, 0.0, out=z)
                cache.append(z)
            h = z
        return h, cache

    def __call__(self, X: F32) -> F32:
        return self.forward(X)[0]

    def backward(self, cache: list[Any], dout: F32) -> list[F32]:
        """Gradients of a scalar loss with respect to :attr:`params`, given ``dloss/doutput``."""
        grads: list[F32] = [np.empty(0, DTYPE)] * len(self.params)
        g = dout
        for i in reversed(range(self.n_layers)):
            h = cache[i]
            if i == 0 and np.issubdtype(h.dtype, np.integer):
                grads[0] = _scatter_rows(h, g, self.params[0].shape[0])
            else:
                grads[2 * i] = h.T @ g
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = g @ self.params[2 * i].T
                g *= h > 0  # ReLU derivative (h is the post-activation of layer i)
        return grads

    def copy(self) -> MLP:
        return MLP(self.sizes, [p.copy() for p in self.params])

    def flat_grad(self, grads: Sequence[F32]) -> F32:
        """Concatenate per-layer gradients into one vector (for cosine similarities)."""
        return np.concatenate([g.ravel() for g in grads])


def _scatter_rows(idx: NDArray[Any], g: F32, n_rows: int) -> F32:
    """``sum_j onehot(idx[:, j]).T @ g``: the embedding gradient (np.add.at is far slower)."""
    n = idx.shape[0]
    M = np.zeros((n_rows, n), dtype=DTYPE)
    cols = np.arange(n)
    for j in range(idx.shape[1]):
        M[idx[:, j], cols] += 1.0  # (row, col) pairs are distinct within one j: no lost updates
    return M @ g


def init_mlp(sizes: Sequence[int], rng: int | np.random.Generator | None = None, *, init_scale: float = 1.0) -> MLP:
    """A freshly initialised :class:`MLP` (He-normal weights times ``init_scale``, zero biases)."""
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise DataError(format_message("Argument 'sizes'", "of init_mlp", "at least two positive layer widths",
                                       repr(sizes), "Pass (n_in, hidden..., n_out), e.g. (20, 64, 2)."))
    if not (np.isfinite(init_scale) and init_scale > 0):
        raise DataError(format_message("Argument 'init_scale'", "of init_mlp", "finite and > 0", repr(init_scale)))
    gen = np.random.default_rng(rng)
    params: list[F32] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        gain = 2.0 if i < len(sizes) - 2 else 1.0
        params.append((gen.standard_normal((a, b)) * (init_scale * np.sqrt(gain / a))).astype(DTYPE))
        params.append(np.zeros(b, dtype=DTYPE))
    return MLP(sizes, params)


def cross_entropy(logits: F32, y: NDArray[Any]) -> tuple[float, F32]:
    """Mean softmax cross-entropy (nats) of integer labels ``y`` and its gradient w.r.t. ``logits``."""
    z = logits - logits.max(axis=1, keepdims=True)
    ez = np.exp(z)
    s = ez.sum(axis=1, keepdims=True)
    n = len(y)
    rows = np.arange(n)
    loss = float(np.mean(np.log(s[:, 0]) - z[rows, y]))
    grad = ez / s
    grad[rows, y] -= 1.0
    grad /= n
    return loss, grad.astype(logits.dtype, copy=False)


def per_example_cross_entropy(logits: F32, y: NDArray[Any]) -> F32:
    """Cross-entropy of each row (nats), shape ``(n,)``."""
    z = logits - logits.max(axis=1, keepdims=True)
    return np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]


def mse(out: F32, target: F32) -> tuple[float, F32]:
    """``mean_i 0.5 * ||out_i - target_i||^2`` and its gradient w.r.t. ``out``."""
    d = out - target
    n = out.shape[0]
    return float(0.5 * np.sum(d * d) / n), (d / n).astype(out.dtype, copy=False)


def accuracy(out: F32, y: NDArray[Any]) -> float:
    """Fraction of rows whose arg-max output equals the label."""
    return float(np.mean(np.argmax(out, axis=1) == y))


class SGD:
    """Stochastic gradient descent, optional heavy-ball momentum and decoupled weight decay."""

    def __init__(self, params: list[F32], lr: float, *, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        self.params, self.lr, self.momentum, self.weight_decay = params, float(lr), float(momentum), float(weight_decay)
        self.buf = [np.zeros_like(p) for p in params] if momentum else None

    def step(self, grads: Sequence[F32]) -> None:
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if self.buf is not None:
                self.buf[i] *= self.momentum
                self.buf[i] += g
                g = self.buf[i]
            if self.weight_decay and p.ndim == 2:
                p *= 1.0 - self.lr * self.weight_decay
            p -= self.lr * g


class Adam:
    """Adam with decoupled weight decay on the weight matrices (AdamW when ``weight_decay > 0``)."""

    def __init__(self, params: list[F32], lr: float = 1e-3, *, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.params, self.lr, self.eps, self.weight_decay = params, float(lr), float(eps), float(weight_decay)
        self.b1, self.b2 = float(betas[0]), float(betas[1])
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: Sequence[F32]) -> None:
        self.t += 1
        c1 = 1.0 - self.b1 ** self.t
        c2 = 1.0 - self.b2 ** self.t
        step = self.lr / c1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * (g * g)
            if self.weight_decay and p.ndim == 2:
                p *= 1.0 - self.lr * self.weight_decay
            p -= step * m / (np.sqrt(v / c2) + self.eps)


LossFn = Callable[[F32, Any], tuple[float, F32]]


def train(model: MLP, X: NDArray[Any] | None, y: Any, *, loss: LossFn, optimizer: SGD | Adam, steps: int,
          batch_size: int | None = None, rng: int | np.random.Generator | None = None,
          sampler: Callable[[np.random.Generator], tuple[F32, Any]] | None = None,
          eval_fn: Callable[[int], dict[str, float]] | None = None, eval_every: int = 100,
          eval_steps: Sequence[int] | None = None, stop: Callable[[dict[str, float]], bool] | None = None,
          progress: bool = False, desc: str = "training") -> list[dict[str, float]]:
    """Train ``model`` in place; return the evaluation history (one dict per evaluation).

    Parameters
    ----------
    model : MLP
    X, y : arrays
        Training inputs and targets (integer labels for :func:`cross_entropy`, a matrix for :func:`mse`).
        Ignored when ``sampler`` is given.
    loss : callable
        ``loss(output, targets) -> (value, d value / d output)``.
    optimizer : SGD or Adam
        Built on ``model.params``.
    steps : int
        Optimiser steps.
    batch_size : int, optional
        Minibatch size (default: full batch). Minibatches are drawn without replacement within an
        epoch (a fresh permutation each epoch).
    rng : int or Generator
        The one source of randomness (minibatch order; passed to ``sampler``).
    sampler : callable, optional
        ``sampler(generator) -> (X_batch, y_batch)`` for online data (a fresh batch each step).
    eval_fn : callable, optional
        ``eval_fn(step) -> dict`` called at step 0, every ``eval_every`` steps (or at ``eval_steps``) and
        after the last step; its dicts (with ``"step"`` added) make the returned history.
    stop : callable, optional
        ``stop(last_evaluation) -> bool``: end training early (checked after each evaluation).
    progress : bool, default False
        tqdm progress bar on stderr.
    """
    if steps < 1:
        raise DataError(format_message("Argument 'steps'", "of train", "an integer >= 1", repr(steps)))
    gen = np.random.default_rng(rng)
    if sampler is None and X is None:
        raise DataError(format_message("Arguments 'X'", "of train", "an array (or a sampler)", "None",
                                       "Pass the training inputs, or sampler=... for online data."))
    n = 0 if (sampler is not None or X is None) else len(X)
    bs = n if (batch_size is None or sampler is not None or batch_size >= n) else int(batch_size)
    perm = np.arange(n)
    pos = n
    at = set(int(s) for s in eval_steps) if eval_steps is not None else None
    history: list[dict[str, float]] = []

    def evaluate(step: int) -> None:
        if eval_fn is not None:
            history.append({"step": float(step), **eval_fn(step)})

    from tqdm import tqdm

    evaluate(0)
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress, file=sys.stderr, leave=False, mininterval=0.5)
    for step in bar:
        xb: Any
        if sampler is not None:
            xb, yb = sampler(gen)
        elif bs == n:
            xb, yb = X, y
        else:
            if pos + bs > n:
                perm = gen.permutation(n)
                pos = 0
            idx = perm[pos:pos + bs]
            pos += bs
            assert X is not None
            xb, yb = X[idx], y[idx]
        out, cache = model.forward(xb)
        _, dout = loss(out, yb)
        optimizer.step(model.backward(cache, dout))
        due = (step in at) if at is not None else (step % eval_every == 0)
        if due or step == steps:
            if not history or history[-1]["step"] != step:
                evaluate(step)
            if stop is not None and history and stop(history[-1]):
                break
    bar.close()
    return history
