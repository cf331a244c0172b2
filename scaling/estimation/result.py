"""``FitResult``: the immutable outcome of a fit, with JSON round-trip.

A result has a fixed schema; anything not computed is ``None`` (never a missing attribute).
Arrays and frames are stored privately and handed out as copies, so a result cannot be changed
after the fact (the lmfit #56 lesson: a second fit must never alter the first one's numbers).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from ..errors import DataError, format_message
from .._serialize import frame_from_json as _frame_from_json
from .._serialize import frame_to_json as _frame_to_json
from .._serialize import jsonable as _jsonable
from ..conventions import Conventions
from ..extrapolation import check_extrapolation
from ..laws.base import Law
from .spec import FitSpec

__all__ = ["FitResult", "Summary"]

#: 2: adds ``spec`` (what was fitted) and the conventions of the data; files of schema 1 still load
SCHEMA_VERSION = 2


class Summary:
    """A printable summary of a fit: ``str(summary)``, ``summary.to_frame()``, ``_repr_html_``."""

    def __init__(self, header: list[tuple[str, str]], table: pd.DataFrame, notes: list[str]) -> None:
        self.header = header
        self.table = table
        self.notes = notes

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __str__(self) -> str:
        w = max(len(k) for k, _ in self.header)
        lines = [f"{k:<{w}} : {v}" for k, v in self.header]
        fmt = self.table.copy()
        for c in fmt.columns:
            if pd.api.types.is_float_dtype(fmt[c]):
                fmt[c] = fmt[c].map(lambda v: "" if pd.isna(v) else f"{v:.6g}")
        lines += ["", fmt.to_string()]
        if self.notes:
            lines += [""] + [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in self.header)
        notes = "".join(f"<li>{n}</li>" for n in self.notes)
        return f"<table>{head}</table>{self.table.to_html(float_format=lambda v: f'{v:.6g}')}<ul>{notes}</ul>"

    def to_latex(self) -> str:
        return self.table.to_latex(float_format=lambda v: f"{v:.6g}")


#: the function behind FitResult.with_uncertainty (scaling.estimation.posthoc registers it: the result
#: module must not import the fitter, which imports it)
_POSTHOC: Callable[..., Any] | None = None


def register_posthoc(fn: Callable[..., Any]) -> None:
    """Register the implementation of :meth:`FitResult.with_uncertainty` (see :mod:`.posthoc`)."""
    global _POSTHOC
    _POSTHOC = fn


class FitResult:
    """The outcome of :func:`scaling.fit`. Immutable; every attribute always exists (``None`` if not computed).

    Attributes
    ----------
    law : Law
        The fitted law (with its options: fixed/tied parameters).
    params : pandas.Series
        Fitted coefficients in the paper's symbols (a copy).
    objective : float
        The objective value reached (summed, never averaged).
    loss, delta : str, float
        The objective's name and Huber delta.
    nuisance : dict
        Fitted nuisance parameters (``sigma`` for ``loss="huber_likelihood"``).
    n_points : int
        Number of data points fitted.
    data : pandas.DataFrame
        The fitted data: the law's variables, ``loss`` and ``weight`` (small; used for residuals,
        plots and uncertainty).
    excluded : pandas.DataFrame
        Rows of the input table that were not fitted, with the reason.
    starts : pandas.DataFrame
        Every optimiser start: start point, end point (natural parameters), objective (re-evaluated in
        float64), iterations, ``status``, ``stage``, ``grad_rel``. ``status`` is "converged" only where a
        float64 run ended and the float64 convergence test held (relative projected gradient <= 1e-4, or
        a Newton decrement <= 1e-12 |f|); starts stopped by the float32 screen are "screened" (their end
        point is not a verified minimum); see :func:`scaling.estimation.engine.multistart`. The reported
        optimum is always a float64 polish at gtol 1e-12 / ftol 1e-15 (plus Newton steps where the
        Hessian is analytic).
    flags : tuple of str
        Diagnostics (optimum on a bound or the grid's edge, non-identifiability, ...); each was also warned.
    provenance : dict
        Package version, law, objective, options, rng seed, data hash, optimiser settings.
    cov : pandas.DataFrame or None
        Parameter covariance (natural units), when estimated.
    samples : pandas.DataFrame or None
        Parameter samples (bootstrap / MCMC), shape (n_samples, n_params), when estimated.
    uncertainty : typed record or None
        How ``cov``/``samples`` were obtained: a frozen record per method
        (:mod:`scaling.estimation.uncertainty_info`: ``BootstrapUncertainty`` with its verification,
        ``SandwichUncertainty``, ``ProfileUncertainty``, ``MCMCUncertainty``); also readable as a mapping.
    spec : FitSpec
        What was fitted (law with options, objective, delta, starts, weights, data hash, conventions), so
        that uncertainty can be added after the fact (:func:`scaling.estimation.fitting.problem_from_result`).
    conventions : Conventions
        ``spec.conventions``: the FLOPs rule and counting conventions of the fitted table.
    """

    __slots__ = ("_law", "_params", "_objective", "_loss", "_delta", "_nuisance", "_data", "_excluded", "_starts",
                 "_flags", "_provenance", "_cov", "_samples", "_uncertainty", "_spec")
    _law: Law
    _params: pd.Series
    _objective: float
    _loss: str
    _delta: float
    _nuisance: dict[str, float]
    _data: pd.DataFrame
    _excluded: pd.DataFrame
    _starts: pd.DataFrame | None
    _flags: tuple[str, ...]
    _provenance: dict[str, Any]
    _cov: pd.DataFrame | None
    _samples: pd.DataFrame | None
    _uncertainty: Any
    _spec: FitSpec

    def __init__(self, *, law: Law, params: pd.Series, objective: float, loss: str, delta: float,
                 nuisance: Mapping[str, float] | None, data: pd.DataFrame, excluded: pd.DataFrame | None,
                 starts: pd.DataFrame | None, flags: tuple[str, ...], provenance: Mapping[str, Any],
                 cov: pd.DataFrame | None = None, samples: pd.DataFrame | None = None,
                 uncertainty: Any = None, spec: FitSpec | None = None) -> None:
        from .uncertainty_info import as_record

        set_ = object.__setattr__
        set_(self, "_law", law)
        set_(self, "_params", pd.Series(params, dtype=float).copy())
        set_(self, "_objective", float(objective))
        set_(self, "_loss", str(loss))
        set_(self, "_delta", float(delta))
        set_(self, "_nuisance", dict(nuisance or {}))
        set_(self, "_data", data.copy())
        set_(self, "_excluded", pd.DataFrame() if excluded is None else excluded.copy())
        set_(self, "_starts", None if starts is None else starts.copy())
        set_(self, "_flags", tuple(flags))
        set_(self, "_provenance", json.loads(json.dumps(_jsonable(dict(provenance)))))
        set_(self, "_cov", None if cov is None else cov.copy())
        set_(self, "_samples", None if samples is None else samples.copy())
        set_(self, "_uncertainty", as_record(uncertainty))  # a frozen record (dicts are converted)
        set_(self, "_spec", spec if spec is not None else _spec_from_provenance(law, loss, delta, self._provenance))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FitResult is immutable; use result.replace(...) to derive a new one.")

    def __getstate__(self) -> dict[str, Any]:  # pickling (e.g. joblib workers); files use JSON
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)

    # ------------------------------------------------------------------ accessors (copies)
    law = property(lambda self: self._law)
    params = property(lambda self: self._params.copy())
    objective = property(lambda self: self._objective)
    loss = property(lambda self: self._loss)
    delta = property(lambda self: self._delta)
    nuisance = property(lambda self: dict(self._nuisance))
    data = property(lambda self: self._data.copy())
    excluded = property(lambda self: self._excluded.copy())
    starts = property(lambda self: None if self._starts is None else self._starts.copy())
    flags = property(lambda self: self._flags)
    provenance = property(lambda self: json.loads(json.dumps(self._provenance)))
    cov = property(lambda self: None if self._cov is None else self._cov.copy())
    samples = property(lambda self: None if self._samples is None else self._samples.copy())
    uncertainty = property(lambda self: self._uncertainty)  # frozen: no copy needed

    spec = property(lambda self: self._spec)

    @property
    def conventions(self) -> Conventions:
        """How N, D, C and L were counted in the fitted table (``spec.conventions``)."""
        return self._spec.conventions

    @property
    def n_points(self) -> int:
        return len(self._data)

    @property
    def bootstrap_counts(self) -> np.ndarray | None:
        """(resamples, rows of ``data``) int64 array: how often each fitted row was drawn in each
        bootstrap resample (a cluster's count on each of its rows), so any resample can be refitted with
        ``weights=counts[b] * data["weight"]``; ``None`` without a bootstrap."""
        u = self._uncertainty
        if u is None or u.get("method") != "bootstrap" or u.get("counts") is None:
            return None
        return np.array(u["counts"], dtype=np.int64).reshape(-1, len(self._data))

    def with_uncertainty(self, method: Any, table: Any = None, *, rng: Any = None, n_jobs: int | None = None,
                         progress: bool = False) -> FitResult:
        """This fit with uncertainty added after the fact (also on a saved-and-reloaded fit).

        ``method``: ``Bootstrap(...)``, ``MCMC(...)``, ``Profile(level)`` or ``"bootstrap"``,
        ``"sandwich"``, ``"profile"``; ``table``: the fitted table (needed for a cluster bootstrap;
        otherwise the fitted data kept on the result are used). The problem is rebuilt from
        :attr:`spec`; the computation runs in :mod:`scaling.estimation.uncertainty`."""
        if _POSTHOC is None:  # registered by scaling.estimation.posthoc (imported with scaling.estimation)
            from importlib import import_module

            import_module("scaling.estimation.posthoc")
        assert _POSTHOC is not None
        return _POSTHOC(self, method, table, rng=rng, n_jobs=n_jobs, progress=progress)

    def replace(self, **changes: Any) -> FitResult:
        """A new result with some fields replaced (used to attach uncertainty)."""
        fields = {k[1:]: getattr(self, k) for k in self.__slots__}
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"FitResult has no fields {sorted(unknown)}")
        fields.update(changes)
        return FitResult(**fields)

    # ------------------------------------------------------------------ use
    def predict(self, *args: ArrayLike, level: float | None = None, **variables: ArrayLike) -> Any:
        """Predicted loss at the law's variables (``predict(n_params, n_tokens)`` for Chinchilla).

        Without ``level``: an array of the broadcast shape. With ``level`` (e.g. 0.95) and parameter
        samples or a covariance: a DataFrame with columns ``loss, lower, upper`` (percentile interval
        over the samples; over draws from the covariance otherwise).
        """
        names = list(self._law.variables)
        if len(args) > len(names):
            raise TypeError(f"predict takes at most {len(names)} positional arguments ({', '.join(names)})")
        for n, a in zip(names, args):
            if n in variables:
                raise TypeError(f"predict got {n} twice")
            variables[n] = a
        point = self._law.predict(self._params, **variables)
        if "n_params" in variables and "n_tokens" in variables:
            check_extrapolation(self, n_params=variables["n_params"], n_tokens=variables["n_tokens"],
                                where="FitResult.predict()")
        if level is None:
            return point
        draws = self._param_draws()
        if draws is None:
            raise DataError(format_message("Option level", "of predict()", "used on a fit with uncertainty",
                                           repr(level), "Fit with uncertainty=Bootstrap(...) or 'covariance'."))
        vals = self._law.predict(draws, **variables)
        q = (1 - level) / 2
        lo = np.nanquantile(vals, q, axis=0)
        hi = np.nanquantile(vals, 1 - q, axis=0)
        return pd.DataFrame({"loss": np.ravel(point), "lower": np.ravel(lo), "upper": np.ravel(hi)})

    def _param_draws(self, n: int = 4000, rng: int = 0) -> np.ndarray | None:
        if self._samples is not None:
            return self._samples[list(self._law.param_names)].to_numpy(dtype=float)
        if self._cov is not None:
            g = np.random.default_rng(rng)
            return g.multivariate_normal(self._params.to_numpy(), self._cov.to_numpy(), size=n, method="svd")
        return None

    def residuals(self) -> pd.Series:
        """Residuals of the fitted points: log(predicted) − log(observed) (loss space for ``squared``)."""
        X = {v: self._data[v].to_numpy(dtype=float) for v in self._law.variables}
        pred = self._law.predict(self._params, **X)
        y = self._data["loss"].to_numpy(dtype=float)
        r = pred - y if self._loss == "squared" else np.log(pred) - np.log(y)
        return pd.Series(r, index=self._data.index, name="residual")

    def se(self) -> pd.Series | None:
        """Standard errors (from samples when present, else from the covariance)."""
        if self._samples is not None:
            return self._samples[list(self._law.param_names)].std(ddof=1).rename("se")
        if self._cov is not None:
            return pd.Series(np.sqrt(np.clip(np.diag(self._cov.to_numpy()), 0, None)), index=self._cov.index, name="se")
        return None

    def ci(self, level: float = 0.95, method: str | None = None) -> pd.DataFrame:
        """Confidence intervals per parameter, a DataFrame with columns ``lower, upper``.

        ``method``: ``"percentile"`` (default with samples), ``"bca"`` (bias-corrected and accelerated,
        with samples; see :mod:`scaling.estimation.uncertainty`), ``"wald"`` (estimate ± z·se from the
        covariance), or ``"profile"`` (profile likelihood). ``"bca"`` and ``"profile"`` return what was
        computed with the fit or by :meth:`with_uncertainty` (the BCa jackknife, the profile intervals at
        their level); a result never re-runs optimisations itself: the error names the call that does.
        """
        if not 0 < level < 1:
            raise DataError(format_message("Option level", "of ci()", "between 0 and 1", repr(level)))
        names = list(self._law.param_names)
        if method is None:
            method = "percentile" if self._samples is not None else "wald"
        if method in ("percentile", "bca"):
            if self._samples is None:
                raise DataError(format_message("Option method", "of ci()", "'wald' for a fit without samples",
                                               repr(method), "Fit with uncertainty=Bootstrap(...) to get samples."))
            if method == "bca":
                from .uncertainty import bca_interval

                return bca_interval(self, level, compute=False)
            q = (1 - level) / 2
            s = self._samples[names]
            return pd.DataFrame({"lower": s.quantile(q), "upper": s.quantile(1 - q)})
        if method == "profile":
            from .uncertainty import profile_ci

            return profile_ci(self, level=level, compute=False)
        if method == "wald":
            se = self.se()
            if se is None:
                raise DataError(format_message("ci()", "", "called on a fit with uncertainty", "a fit without any",
                                               "Fit with uncertainty=Bootstrap(...) or 'covariance'."))
            z = stats.norm.ppf(0.5 + level / 2)
            p = self._params[names]
            return pd.DataFrame({"lower": p - z * se[names], "upper": p + z * se[names]})
        raise DataError(format_message("Option method", "of ci()", "one of 'percentile', 'bca', 'wald', 'profile'",
                                       repr(method)))

    def summary(self, level: float = 0.95) -> Summary:
        """Estimates with standard errors and intervals, and the settings that matter (objective,
        delta, starts, FLOPs rule, seed)."""
        p = self._params
        table = pd.DataFrame({"estimate": p})
        se = self.se()
        if se is not None:
            table["se"] = se
            try:
                ci = self.ci(level)
                table[f"{level:.0%} lower"] = ci["lower"]
                table[f"{level:.0%} upper"] = ci["upper"]
            except DataError:
                pass
        prov = self._provenance
        fixed = prov.get("law", {}).get("options", {})
        header = [
            ("law", f"{self._law.name}: {self._law.formula}" + (f"  {fixed}" if fixed else "")),
            ("objective", f"{self._loss}" + (f" (delta={self._delta:g})" if "huber" in self._loss else "")
             + f", summed over {self.n_points} points = {self._objective:.7g}"),
        ]
        if self._nuisance:
            header.append(("nuisance", ", ".join(f"{k} = {v:.4g}" for k, v in self._nuisance.items())))
        st = prov.get("starts", {})
        if st:
            eng = self.provenance.get("engine")
            screen = f", {eng} screen" if eng else ""
            header.append(("starts", f"{st.get('n')} ({st.get('kind')}{screen}); {st.get('n_agree')} reached the "
                           "optimum"))
        header.append(("FLOPs rule", self.conventions.flops_label
                       + (f", N {self.conventions.n_params}" if self.conventions.n_params else "")))
        if self._uncertainty:
            u = self._uncertainty
            keys = ("method", "n", "by", "level", "rng", "steps", "walkers")
            text = ", ".join(f"{k}={u[k]}" for k in keys if u.get(k) is not None)
            if u.get("method") == "bootstrap":
                from .uncertainty import describe_verification

                text += "; " + describe_verification(u)
            header.append(("uncertainty", text))
        if len(self._excluded):
            header.append(("excluded rows", str(len(self._excluded))))
        header.append(("data", f"{prov.get('data_name') or 'table'} (sha256 {str(prov.get('data_hash', ''))[:12]})"))
        return Summary(header, table, list(self._flags))

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.4g}" for k, v in self._params.items())
        unc = f", uncertainty={self._uncertainty.get('method')}" if self._uncertainty else ""
        return (f"<FitResult {self._law.name}: {ps}; {self._loss} objective {self._objective:.6g} "
                f"on {self.n_points} points{unc}>")

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; ``FitResult.from_dict(r.to_dict())`` round-trips exactly."""
        return {
            "schema": SCHEMA_VERSION,
            "kind": "scaling.FitResult",
            "law": self._law.spec(),
            "params": {k: float(v) for k, v in self._params.items()},
            "objective": self._objective,
            "loss": self._loss,
            "delta": self._delta,
            "nuisance": dict(self._nuisance),
            "data": _frame_to_json(self._data),
            "excluded": _frame_to_json(self._excluded),
            "starts": _frame_to_json(self._starts),
            "flags": list(self._flags),
            "provenance": self.provenance,
            "cov": _frame_to_json(self._cov),
            "samples": _frame_to_json(self._samples),
            "uncertainty": None if self._uncertainty is None else self._uncertainty.to_dict(),
            "spec": self._spec.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], law: Law | None = None) -> FitResult:
        """Rebuild a result from :meth:`to_dict` output. Custom laws must be passed as ``law``."""
        if d.get("kind") != "scaling.FitResult":
            raise DataError(format_message("The JSON", "", "a saved scaling.FitResult", repr(d.get("kind")),
                                           "Save fits with FitResult.save()."))
        if law is None:
            from ..laws import get_law

            spec = d["law"]
            if spec.get("custom"):
                raise DataError(format_message("The saved fit", f"of custom law '{spec.get('name')}'",
                                               "loaded with its law", "no law",
                                               f"Rebuild the law (function {spec.get('function')}) and pass "
                                               "FitResult.load(path, law=CustomLaw(...))."))
            law = get_law(spec["name"], **spec.get("options", {}))
        return cls(law=law, params=pd.Series(d["params"], dtype=float), objective=d["objective"], loss=d["loss"],
                   delta=d["delta"], nuisance=d.get("nuisance"), data=_frame_from_json(d["data"]),
                   excluded=_frame_from_json(d.get("excluded")), starts=_frame_from_json(d.get("starts")),
                   flags=tuple(d.get("flags", ())), provenance=d.get("provenance", {}),
                   cov=_frame_from_json(d.get("cov")), samples=_frame_from_json(d.get("samples")),
                   uncertainty=d.get("uncertainty"),
                   spec=FitSpec.from_dict(d["spec"]) if d.get("spec") is not None else None)

    def save(self, path: str | Path) -> Path:
        """Write the result as JSON (never a pickle)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False))
        return path

    @classmethod
    def load(cls, path: str | Path, law: Law | None = None) -> FitResult:
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(format_message("File", str(path), "a saved fit (JSON)", type(e).__name__ + f": {e}")) from e
        return cls.from_dict(d, law=law)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FitResult):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _spec_from_provenance(law: Law, loss: str, delta: float, prov: Mapping[str, Any]) -> FitSpec:
    """The spec of a result saved before specs existed (schema 1), from what its provenance recorded."""
    k = prov.get("flops_per_token")
    conv = Conventions(flops_per_token=6.0 if k is None else float(k), n_params=prov.get("n_params_convention"))
    kind = (prov.get("starts") or {}).get("kind", "grid")
    return FitSpec(law=law.spec(), loss=loss, delta=delta, starts=kind if kind in ("grid", "data grid") else "given",
                   weights=prov.get("weights"), data_hash=str(prov.get("data_hash", "")), conventions=conv)
