"""Parsers: raw upstream files -> a pandas DataFrame with canonical column names.

Every parser takes ``fetch`` (a callable ``path_in_repo -> pathlib.Path`` that returns a local,
sha256-verified copy of the file) and its dataset's options, and returns a :class:`Parsed`:

* ``frame`` — one row per observation, canonical columns ``n_params``, ``n_tokens`` and/or
  ``flops``, ``loss`` (nats/token) and, where the data has them, ``run``, ``step``, ``group``,
  ``seed``, ``lr``, ``n_params_nonembedding``, ``n_unique_tokens``; other columns are kept as is.
* ``excluded`` — rows of the upstream data that were *not* put in ``frame``, with a ``reason``
  column (``None`` when nothing was dropped).
* ``meta`` — provenance notes specific to the parse (which loss, which columns were ignored, ...).

Parsers never execute upstream code: notebooks are read as JSON and their dict literals with
:func:`ast.literal_eval`; pickles are read with :mod:`scaling.datasets.safe_pickle`.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import re
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DatasetError, format_message
from ..units import parse_count
from .safe_pickle import safe_load

logger = logging.getLogger("scaling")

Fetch = Callable[[str], Path]

__all__ = [
    "Parsed",
    "GADRE_SPLITS",
    "GPT3_N_PARAMS",
    "DATABLATIONS_N_PARAMS",
    "parse_epoch_chinchilla",
    "parse_gadre_overtraining",
    "parse_porian_resolving",
    "parse_muennighoff_datablations",
    "parse_colpret_gpt3",
    "parse_colpret_datablations",
    "parse_olmo_ladder",
    "parse_obsscaling",
    "OLMO_LADDER_N_PARAMS",
    "OLMO_MMLU_WEIGHTS",
    "datablations_parse_name",
]


@dataclass(frozen=True)
class Parsed:
    """Output of a parser.

    Attributes
    ----------
    frame
        Rows for ``read_table`` (canonical column names + extra columns).
    excluded
        Upstream entries that are not rows of ``frame`` (they have no usable N/D, e.g. dedup or
        unfinished runs), with a ``reason`` column; attached to ``table.excluded`` with ``row = -1``.
    meta
        Parse notes, stored in ``table.meta['notes']``.
    filters
        ``(keep_mask, reason)`` pairs applied with ``RunTable.filter`` after reading (so the removed
        rows appear in ``table.excluded`` with their input row numbers).
    on_invalid
        Passed to ``read_table`` (``"exclude"`` where the source has rows without values by design).
    """

    frame: pd.DataFrame
    excluded: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    filters: tuple[tuple[np.ndarray, str], ...] = ()
    on_invalid: str = "raise"


def _bad_file(path: str, what: str, got: object) -> DatasetError:
    return DatasetError(format_message(f"File '{path}'", "", what, got,
                                       "The registry pins this exact file (by checksum), so this is a bug in "
                                       "scaling's parser: please report it."))


# --------------------------------------------------------------------------------------------
# epoch_chinchilla
# --------------------------------------------------------------------------------------------

EPOCH_FILE = "data/svg_extracted_data.csv"


def parse_epoch_chinchilla(fetch: Fetch, *, drop_highest_loss: int = 0) -> Parsed:
    """Besiroglu et al. 2024's 245 points digitised from Hoffmann et al. 2022, Fig. 4 (left).

    ``n_params`` = ``Model Size``, ``flops`` = ``Training FLOP``; ``n_tokens`` is left for
    ``read_table`` to derive as D = C/(6N). ``drop_highest_loss=k`` moves the k highest-loss
    points to ``excluded`` (Epoch drop 5 before fitting).
    """
    if isinstance(drop_highest_loss, bool) or not isinstance(drop_highest_loss, (int, np.integer)) \
            or not 0 <= int(drop_highest_loss) < 245:
        raise DatasetError(format_message("Option drop_highest_loss", "of dataset 'epoch_chinchilla'",
                                          "an integer in [0, 244]", repr(drop_highest_loss),
                                          "Epoch Research drop 5 (drop_highest_loss=5)."))
    raw = pd.read_csv(fetch(EPOCH_FILE))
    expected = {"x", "y", "color", "Model Size", "Training FLOP", "hex_color", "loss"}
    if set(raw.columns) != expected:
        raise _bad_file(EPOCH_FILE, f"columns {sorted(expected)}", sorted(raw.columns))
    frame = raw.rename(columns={"Model Size": "n_params", "Training FLOP": "flops"})
    frame["n_params"] = frame["n_params"].astype(float)
    frame["flops"] = frame["flops"].astype(float)
    frame.insert(0, "point", np.arange(len(frame)))
    frame = frame[["point", "n_params", "flops", "loss", "x", "y", "color", "hex_color"]]
    k = int(drop_highest_loss)
    filters: tuple[tuple[np.ndarray, str], ...] = ()
    if k:
        order = np.argsort(-frame["loss"].to_numpy(), kind="stable")[:k]
        keep = np.ones(len(frame), dtype=bool)
        keep[order] = False
        filters = ((keep, f"one of the {k} highest losses (drop_highest_loss={k}, as Epoch Research do)"),)
    return Parsed(frame, None, filters=filters, meta={
        "n_tokens": "derived as D = C / (6 N); the source has no token column",
        "loss": "final training loss decoded from the colour bar of Hoffmann et al. 2022 Fig. 4 (quantised)",
        "drop_highest_loss": k,
    })


# --------------------------------------------------------------------------------------------
# gadre_overtraining
# --------------------------------------------------------------------------------------------

#: Readable evaluation-split names -> the ``val_data`` path in each model's ``results`` list.
GADRE_SPLITS: dict[str, str] = {
    "openlm": "training/eval_data/val_tok_mult/openlm/shard_00000000.tar",
    "c4_val": "training/eval_data/c4_val/shard-{0000000..0000010}.tar",
    "paloma_c4_en": "training/eval_data/val_tok_mult/paloma_c4_en/00000001.tar",
    "paloma_dolma_100_programing_languages":
        "training/eval_data/val_tok_mult/paloma_dolma_100_programing_languages/00000001.tar",
    "paloma_falcon-refinedweb": "training/eval_data/val_tok_mult/paloma_falcon-refinedweb/00000001.tar",
    "paloma_ptb": "training/eval_data/val_tok_mult/paloma_ptb/00000001.tar",
    "paloma_redpajama": "training/eval_data/val_tok_mult/paloma_redpajama/00000001.tar",
    "val_de-en_100": "training/eval_data/val_tok_mult/de-en/val_de-en_100.tar",
}
_GADRE_SPLIT_BY_PATH = {v: k for k, v in GADRE_SPLITS.items()}


def parse_gadre_overtraining(fetch: Fetch, files: Sequence[str], *, split: str = "c4_val") -> Parsed:
    """Gadre et al. 2024: one row per model JSON (104 open_lm models).

    ``n_params`` = ``hyperparameters.params`` (with embeddings), ``n_params_nonembedding`` =
    ``params_no_embed``, ``n_tokens`` = ``tokens``, ``token_multiplier`` M = 20 x
    ``chinchilla_multiplier`` (= D/N), ``loss`` = the evaluation loss on ``split``; every split's
    loss is also kept as ``loss_<split>``. ``group`` = training set.
    """
    if split not in GADRE_SPLITS:
        raise DatasetError(format_message("Option split", "of dataset 'gadre_overtraining'",
                                          f"one of {list(GADRE_SPLITS)}", repr(split),
                                          "c4_val (C4 validation) is the paper's default."))
    rows = []
    evals = {f for f in files if f.startswith("exp_data/evals/")}
    for path in files:
        if not path.startswith("exp_data/models/"):
            continue
        local = fetch(path)
        try:
            j = json.loads(local.read_text(encoding="utf-8"))
            h = j["hyperparameters"]
            row: dict[str, Any] = {
                "run": j["name"],
                "dataset": j["dataset_name"],
                "group": j["dataset_name"],
                "model_config": Path(h["model"]).name.removesuffix(".json"),
                "n_params": float(h["params"]),
                "n_params_nonembedding": float(h["params_no_embed"]),
                "n_tokens": float(h["tokens"]),
                "chinchilla_multiplier": float(h["chinchilla_multiplier"]),
                "token_multiplier": 20.0 * float(h["chinchilla_multiplier"]),
                "lr": float(h["lr"]),
                "wd": float(h["wd"]),
                "warmup": int(h["warmup"]),
                "global_bs": int(h["global_bs"]),
            }
            by_split = {}
            for res in j["results"]:
                (vd,) = res["val_data"]
                by_split[_GADRE_SPLIT_BY_PATH[vd]] = res
        except (KeyError, ValueError, TypeError) as exc:
            raise _bad_file(path, "an open_lm model JSON with hyperparameters and 8 results",
                            f"{type(exc).__name__}: {exc}") from exc
        if set(by_split) != set(GADRE_SPLITS):
            raise _bad_file(path, f"results for the splits {list(GADRE_SPLITS)}", sorted(by_split))
        res = by_split[split]
        row["loss"] = float(res["loss"])
        row["loss_lower95"] = float(res["loss_sequences_lower_95"])
        row["loss_upper95"] = float(res["loss_sequences_upper_95"])
        row["eval_tokens"] = int(res["tokens"])
        for name in GADRE_SPLITS:
            row[f"loss_{name}"] = float(by_split[name]["loss"])
        ev = f"exp_data/evals/evaluation_{Path(path).stem}_heavy.json"
        if ev in evals:
            row.update(_gadre_downstream(fetch, ev))
        rows.append(row)
    frame = pd.DataFrame(rows)
    return Parsed(frame, None, {
        "loss": f"evaluation loss on split '{split}' ({GADRE_SPLITS[split]}), nats/token, "
                "final checkpoint; loss_lower95/upper95 are the sequence-bootstrap 95% bounds",
        "split": split,
        "token_multiplier": "M = D/N = 20 x chinchilla_multiplier",
        "downstream": "acc_<task>: in-context accuracy of exp_data/evals/evaluation_<model>_heavy.json; "
                      "err_avg = mean top-1 error (1 - accuracy) over the paper's 46 tasks, err_avg_subset over "
                      "its 17-task split (scaling/constants.py FRIENDLY_CITATIONS and SUBSET of the repo)",
    })


#: The 46 downstream tasks of Gadre et al. 2024 (``FRIENDLY_CITATIONS`` of the repo's scaling/constants.py).
GADRE_TASKS: tuple[str, ...] = (
    "agi_eval_lsat_ar", "agi_eval_lsat_rc", "agi_eval_lsat_lr", "agi_eval_sat_en", "arc_easy", "arc_challenge",
    "bbq", "bigbench_conceptual_combinations", "bigbench_conlang_translation", "bigbench_cs_algorithms",
    "bigbench_dyck_languages", "bigbench_elementary_math_qa", "bigbench_misconceptions",
    "bigbench_language_identification", "bigbench_logical_deduction", "bigbench_novel_concepts",
    "bigbench_operators", "bigbench_repeat_copy_logic", "bigbench_qa_wikidata", "bigbench_strange_stories",
    "bigbench_strategy_qa", "bigbench_understanding_fables", "boolq", "commonsense_qa", "copa", "coqa",
    "enterprise_pii_classification", "hellaswag", "hellaswag_zeroshot", "jeopardy", "lambada_openai", "logi_qa",
    "math_qa", "mmlu", "mmlu_zeroshot", "openbook_qa", "piqa", "pubmed_qa_labeled", "simple_arithmetic_nospaces",
    "simple_arithmetic_withspaces", "siqa", "squad", "winogender_mc_female", "winogender_mc_male", "winograd",
    "winogrande")
#: Their 17-task split (``SUBSET``): tasks above chance early in training, used for Figure 1.
GADRE_SUBSET: tuple[str, ...] = (
    "bigbench_operators", "pubmed_qa_labeled", "hellaswag_zeroshot", "boolq", "arc_easy", "coqa",
    "bigbench_dyck_languages", "lambada_openai", "bigbench_novel_concepts", "winograd", "bigbench_cs_algorithms",
    "commonsense_qa", "bigbench_qa_wikidata", "hellaswag", "copa", "squad", "piqa")


def _gadre_downstream(fetch: Fetch, path: str) -> dict[str, float]:
    try:
        icl = json.loads(fetch(path).read_text(encoding="utf-8"))["eval_metrics"]["icl"]
        acc = {k: float(icl[k]) for k in GADRE_TASKS}
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_file(path, f"an evaluation JSON with eval_metrics.icl accuracies of the {len(GADRE_TASKS)} tasks",
                        f"{type(exc).__name__}: {exc}") from exc
    out = {f"acc_{k}": v for k, v in acc.items()}
    out["err_avg"] = float(np.mean([1.0 - acc[k] for k in GADRE_TASKS]))
    out["err_avg_subset"] = float(np.mean([1.0 - acc[k] for k in GADRE_SUBSET]))
    return out


# --------------------------------------------------------------------------------------------
# porian_resolving
# --------------------------------------------------------------------------------------------

PORIAN_FILES = ("data/summary_df.pickle.xz", "data/summary_df_att.pickle.xz",
                "data/summary_df_kaplan_tuned_hparams.pickle.xz", "data/summary_df_owt2.pickle.xz")
PORIAN_CONFIG_COLUMNS = ["source_file", "dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]
_PORIAN_OPTIMAL_COLUMNS = ["flops", "n", "t", "multiplier", "loss", "n_star_std", "t_star_std", "loss_star_std"]
_PORIAN_FIT_COLUMNS = ["n_exponent", "n_coef", "n_r2", "t_exponent", "t_coef", "t_r2", "multiplier_exponent",
                       "multiplier_coef", "multiplier_r2", "A", "E", "alpha"]
_porian_cache: dict[tuple[str, int, int], tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}


def porian_group(dataset: str, hparams: str, warmup: str, decay: str, param_count: str, loss_split: str) -> str:
    """Readable configuration id, e.g. ``"rw/base/long/kaplan/kaplan/train"`` (unique over the 15)."""
    return "/".join([dataset, hparams, warmup, decay, param_count, loss_split])


def _porian_flatten(path: Path, source_file: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _porian_cache:
        return _porian_cache[key]
    summary = safe_load(path, compression="xz")
    needed = {"dataset", "hparams", "warmup", "decay", "param_count", "val", "optimal_pairs", "fit_results", "data"}
    if not isinstance(summary, pd.DataFrame) or not needed <= set(summary.columns):
        raise _bad_file(source_file, f"a DataFrame with columns {sorted(needed)}", type(summary).__name__)
    iso_rows: list[dict[str, Any]] = []
    opt_parts: list[pd.DataFrame] = []
    fit_rows: list[dict[str, Any]] = []
    for _, cfg_row in summary.iterrows():
        cfg = {"source_file": Path(source_file).name, "dataset": str(cfg_row["dataset"]),
               "hparams": str(cfg_row["hparams"]), "warmup": str(cfg_row["warmup"]),
               "decay": str(cfg_row["decay"]), "param_count": str(cfg_row["param_count"]),
               "loss_split": str(cfg_row["val"])}
        group = porian_group(*(cfg[c] for c in PORIAN_CONFIG_COLUMNS[1:]))
        for _, budget in cfg_row["data"].iterrows():
            n, loss = budget["orig_n"], budget["orig_loss"]
            if not isinstance(n, pd.Series):  # budgets without runs hold a scalar NaN
                if not (isinstance(n, float) and np.isnan(n)):
                    raise _bad_file(source_file, "orig_n a Series or NaN", type(n).__name__)
                continue
            c = float(budget["flops"])
            n_arr = n.to_numpy(dtype=float)
            l_arr = loss.to_numpy(dtype=float)
            for point, (nn, ll) in enumerate(zip(n_arr, l_arr, strict=True)):
                iso_rows.append({**cfg, "group": group, "flops": c, "n_params": nn, "n_tokens": c / (6.0 * nn),
                                 "loss": ll, "point": point})
        op = cfg_row["optimal_pairs"][_PORIAN_OPTIMAL_COLUMNS].copy()
        for col, val in reversed(list(cfg.items())):
            op.insert(0, col, val)
        op.insert(len(cfg), "group", group)
        opt_parts.append(op)
        basic = cfg_row["fit_results"]["basic"]
        fit_rows.append({**cfg, "group": group, **{k: float(basic[k]) for k in _PORIAN_FIT_COLUMNS}})
    iso = pd.DataFrame(iso_rows)
    opt = pd.concat(opt_parts, ignore_index=True)
    for col in _PORIAN_OPTIMAL_COLUMNS:
        opt[col] = opt[col].astype(float)
    fit = pd.DataFrame(fit_rows)
    result = (iso, opt, fit)
    _porian_cache[key] = result
    return result


def parse_porian_resolving(fetch: Fetch, *, table: str = "isoflop") -> Parsed | pd.DataFrame:
    """Porian et al. 2024: isoFLOP points, compute-optimal pairs or per-configuration fits.

    ``table="isoflop"``: the 1,745 raw isoFLOP points (``flops`` C, ``n_params`` N, ``n_tokens``
    D = C/(6N), ``loss``) of the 15 configurations. ``table="optimal_pairs"``: the 177 interpolated
    compute-optimal points (``n_params`` = n*, ``n_tokens`` = t*, with bootstrap spreads); 4 budgets
    have no optimum (NaN) and end up in ``table.excluded`` (read with ``on_invalid="exclude"``).
    ``table="fit_results"``: a plain DataFrame, one
    row per configuration, with the authors' ``basic`` fits (``n_exponent`` = a in N* ∝ C^a, ...).
    """
    choices = ("isoflop", "optimal_pairs", "fit_results")
    if table not in choices:
        raise DatasetError(format_message("Option table", "of dataset 'porian_resolving'", f"one of {list(choices)}",
                                          repr(table), "Use 'isoflop' for the raw points (default)."))
    parts = [_porian_flatten(fetch(p), p) for p in PORIAN_FILES]
    if table == "fit_results":
        return pd.concat([p[2] for p in parts], ignore_index=True)
    if table == "isoflop":
        frame = pd.concat([p[0] for p in parts], ignore_index=True)
        return Parsed(frame, None, {
            "table": "isoflop",
            "n_tokens": "D = C / (6 N) as in the source (orig_t)",
            "loss": "final loss per run on the configuration's loss_split (train or val), nats/token",
        })
    opt = pd.concat([p[1] for p in parts], ignore_index=True).rename(columns={"n": "n_params", "t": "n_tokens"})
    n_missing = int((~np.isfinite(opt["n_params"].to_numpy())).sum())
    return Parsed(opt, None, on_invalid="exclude", meta={
        "table": "optimal_pairs",
        "loss": "interpolated loss at the compute-optimal N* (Akima interpolation along the isoFLOP curve)",
        "n_params": "N*, the interpolated compute-optimal size; n_star_std is the bootstrap std of log N*",
        "excluded": f"{n_missing} budgets have no compute-optimal point (NaN n, t, loss in the source) and are "
                    "in table.excluded",
    })


# --------------------------------------------------------------------------------------------
# muennighoff_datablations
# --------------------------------------------------------------------------------------------

DATABLATIONS_NOTEBOOK = "utils/parametric_fit.ipynb"


def _literal_dicts(source: str) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """``NAME = {...}`` dict literals of ``source`` (via ``ast.literal_eval``) and inline comments."""
    tree = ast.parse(source)
    values: dict[str, Any] = {}
    key_lines: dict[str, dict[int, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Dict):
            name = node.targets[0].id
            values[name] = ast.literal_eval(node.value)
            key_lines[name] = {k.lineno: ast.literal_eval(k) for k in node.value.keys if k is not None}
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string
    inline: dict[str, dict[str, str]] = {}
    for name, lines in key_lines.items():
        inline[name] = {key: comments[line] for line, key in lines.items() if line in comments}
    return values, inline


def datablations_parse_name(name: str, params_map: dict[str, float], tokens_map: dict[str, float]
                            ) -> tuple[str, float, float, float]:
    """Parse a run name exactly as the notebook's second cell does (re-implemented, not executed).

    Returns ``(stripped_name, N, D, U)``. The suffixes ``op2, seed1-4, opt1, opt, c4, v2`` are
    removed; N is looked up by the shortest prefix found in ``PARAMS_MAP``; U is read from the end
    of the name and D from between them (``TOKENS_MAP`` or ``"91b"`` -> 91e9, ``"1b5"`` -> 1.5e9).
    Reproduces the authors' quirks, e.g. ``4b284b12bc4opt2`` -> D = 84.1e9, U = 2.2e9.
    """
    for suffix in ("op2", "seed1", "seed2", "seed3", "seed4", "opt1", "opt", "c4", "v2"):
        name = name.replace(suffix, "")
    idx = 2
    while name[:idx] not in params_map:
        idx += 1
        if idx > len(name):
            raise DatasetError(format_message(f"Run name {name!r}", "in NAMES_TO_VAL_LOSSES",
                                              "prefixed by a key of PARAMS_MAP", name))
    n_params = float(params_map[name[:idx]])
    tok_start = idx

    def to_billions(s: str) -> float:
        return float(tokens_map[s]) if s in tokens_map else float(s.replace("b", ".").strip("."))

    end = -4 if (name[-1] in ("b", "m")) or (name[-1] not in ("b", "m") and name[-2] not in ("b", "m")) else -3
    ut = name[end:]
    while ut.count("b") > 1 or ut.count("m") > 1:
        end += 1
        ut = name[end:]
    unique = to_billions(ut) * 1e9
    tokens = to_billions(name[tok_start:end]) * 1e9
    return name, n_params, tokens, unique


def parse_muennighoff_datablations(fetch: Fetch) -> Parsed:
    """Muennighoff et al. 2023: final C4 validation losses of the data-constrained runs.

    Reads ``NAMES_TO_VAL_LOSSES``, ``TOKENS_MAP`` and ``PARAMS_MAP`` from the first code cell of
    ``utils/parametric_fit.ipynb`` with :func:`ast.literal_eval` (never executing the notebook),
    parses each run name as the notebook does (:func:`datablations_parse_name`) and drops, as the
    notebook does, the ``*dedup`` runs and the losses of 0 (unfinished) -> ``excluded``.
    """
    path = fetch(DATABLATIONS_NOTEBOOK)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c.get("cell_type") == "code"]
        source = "".join(code[0]["source"])
        values, inline = _literal_dicts(source)
        losses = values["NAMES_TO_VAL_LOSSES"]
        tokens_map = values["TOKENS_MAP"]
        params_map = values["PARAMS_MAP"]
    except (KeyError, IndexError, ValueError, SyntaxError, TypeError) as exc:
        raise _bad_file(DATABLATIONS_NOTEBOOK, "a notebook whose first code cell assigns NAMES_TO_VAL_LOSSES, "
                        "TOKENS_MAP and PARAMS_MAP dict literals", f"{type(exc).__name__}: {exc}") from exc
    comments = inline["NAMES_TO_VAL_LOSSES"]
    rows, dropped_dedup, dropped_zero = [], [], []
    for key, loss in losses.items():
        if key.endswith("dedup"):
            dropped_dedup.append({"run_key": key, "L": float(loss), "reason": "dedup run"})
            continue
        if loss == 0:
            dropped_zero.append({"run_key": key, "L": float(loss), "reason": "loss==0 (unfinished)"})
            continue
        name, n, d, u = datablations_parse_name(key, params_map, tokens_map)
        seed = re.search(r"seed(\d+)", key)
        comment = comments.get(key)
        comment = comment[1:].strip() if comment is not None else None
        rows.append({
            "run": key, "name": name, "n_params": n, "n_tokens": d, "n_unique_tokens": u, "loss": float(loss),
            "seed": float(seed.group(1)) if seed else np.nan, "epochs": d / u,
            "source_comment": comment, "flag_double_descent": bool(comment and "DOUBLE DESCENT" in comment),
        })
    frame = pd.DataFrame(rows)
    excluded = pd.DataFrame(dropped_dedup + dropped_zero).rename(columns={"run_key": "run", "L": "loss"})
    return Parsed(frame, excluded, {
        "loss": "final validation loss on C4 (nats/token) from the runs' TensorBoard logs, as typed by the authors",
        "parse": "run names parsed exactly like the notebook's second cell (quirks included, e.g. "
                 "4b284b12bc4opt2 -> D=84.1e9, U=2.2e9 although its comment gives 3.09e9 params)",
        "excluded": "dedup runs and loss==0 (unfinished) entries, as the notebook drops them",
        "seed": "seed k of the '...seedk' repeats; NaN for runs without a seed suffix",
    })


# --------------------------------------------------------------------------------------------
# colpret_curves
# --------------------------------------------------------------------------------------------

GPT3_FILE = "raw_data/gpt3/extracted.csv"
GPT3_META_FILE = "raw_data/gpt3/gpt3_metadata.xlsx"
DATABLATIONS_CURVES_FILE = "aggregated_eval/datablations_losses.csv"

#: Parameter counts of the GPT-3 models, Brown et al. 2020, "Language Models are Few-Shot
#: Learners" (arXiv 2005.14165), Table 2.1 ("n_params"), keyed by the model names of
#: ColPret's ``raw_data/gpt3/extracted.csv``.
GPT3_N_PARAMS: dict[str, float] = {
    "small": 125e6, "medium": 350e6, "large": 760e6, "xl": 1.3e9,
    "2.7b": 2.7e9, "6.7b": 6.7e9, "13b": 13e9, "175b": 175e9,
}

#: ``num_params`` labels of ColPret's ``datablations_losses.csv`` -> parameter counts (with
#: embeddings) of the datablations models, as in the datablations notebook's PARAMS_MAP
#: ("2b8" = 2.81e9, "4b2" = 4.2465e9, "8b7" = 8.67e9), not the naive parse of the label.
DATABLATIONS_N_PARAMS: dict[str, float] = {"2.8B": 2.81e9, "4.2B": 4.2465e9, "8.7B": 8.67e9}


def _gpt3_metadata(fetch: Fetch) -> pd.DataFrame | None:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        logger.info("openpyxl is not installed: GPT-3 layers/d_model columns are skipped")
        return None
    raw = pd.read_excel(fetch(GPT3_META_FILE), header=None, engine="openpyxl")
    if raw.shape != (8, 8):
        raise _bad_file(GPT3_META_FILE, "an 8 x 8 sheet (GPT-3 Table 2.1)", raw.shape)
    meta = pd.DataFrame({
        "run": list(GPT3_N_PARAMS),
        "n_params_table": [str(v) for v in raw[1]],
        "n_layers": raw[2].astype(int).to_numpy(),
        "d_model": raw[3].astype(int).to_numpy(),
        "n_heads": raw[4].astype(int).to_numpy(),
        "d_head": raw[5].astype(int).to_numpy(),
        "batch_size_tokens": [_suffix_count(str(v)) for v in raw[6]],
        "lr": [_sci(str(v)) for v in raw[7]],
    })
    return meta


def _suffix_count(s: str) -> float:
    return parse_count(s.strip())


def _sci(s: str) -> float:
    """``'6.0×10−4'`` -> 6e-4 (Unicode times and minus signs of the paper's table)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*[×x]\s*10\s*[−-]\s*(\d+)\s*", s)
    if not m:
        raise _bad_file(GPT3_META_FILE, "learning rates like '6.0×10−4'", repr(s))
    return float(m.group(1)) * 10.0 ** (-int(m.group(2)))


def parse_colpret_gpt3(fetch: Fetch, *, loss: str = "train_loss") -> Parsed:
    """GPT-3 learning curves digitised by ColPret (8 models).

    ``n_tokens`` = 1e9 x the ``step`` column (tokens in billions, despite its name), ``n_params``
    from GPT-3 Table 2.1 (:data:`GPT3_N_PARAMS`), ``run`` = model name, ``loss`` = ``train_loss``
    (default) or ``val_loss``. Each row of ``extracted.csv`` holds exactly one of the two (5,591
    training-curve and 6,506 validation-curve points): the table holds the rows of the chosen
    curve. Points are sorted by tokens within a model and numbered by ``step`` (the point's index
    along its curve, *not* an optimizer step), so that digitised points sharing a token count
    stay distinct; ``source_row`` is the row in the file.
    """
    if loss not in ("train_loss", "val_loss"):
        raise DatasetError(format_message("Option loss", "of dataset 'colpret_curves' (part='gpt3')",
                                          "one of ['train_loss', 'val_loss']", repr(loss),
                                          "train_loss is the default curve."))
    raw = pd.read_csv(fetch(GPT3_FILE))
    if list(raw.columns) != ["model", "step", "train_loss", "val_loss"]:
        raise _bad_file(GPT3_FILE, "columns ['model', 'step', 'train_loss', 'val_loss']", list(raw.columns))
    unknown = sorted(set(raw["model"]) - set(GPT3_N_PARAMS))
    if unknown:
        raise _bad_file(GPT3_FILE, f"model names among {list(GPT3_N_PARAMS)}", unknown)
    frame = pd.DataFrame({
        "run": raw["model"].astype(str),
        "n_params": raw["model"].map(GPT3_N_PARAMS).astype(float),
        "n_tokens": raw["step"].astype(float) * 1e9,
        "tokens_billions": raw["step"].astype(float),
        "loss": raw[loss].astype(float),
        "source_row": np.arange(len(raw)),
    })
    keep = np.isfinite(frame["loss"].to_numpy())
    n_other = int((~keep).sum())
    frame = frame[keep]
    order = {m: i for i, m in enumerate(GPT3_N_PARAMS)}
    frame = frame.assign(_o=frame["run"].map(order)).sort_values(["_o", "n_tokens", "source_row"], kind="stable")
    frame = frame.drop(columns="_o").reset_index(drop=True)
    frame.insert(1, "step", frame.groupby("run", sort=False).cumcount().astype(int))
    meta_cols = _gpt3_metadata(fetch)
    if meta_cols is not None:
        frame = frame.merge(meta_cols.drop(columns="n_params_table"), on="run", how="left", validate="many_to_one")
    other = "val_loss" if loss == "train_loss" else "train_loss"
    return Parsed(frame, None, {
        "part": "gpt3",
        "loss": f"{loss} read off Brown et al. 2020's learning-curve figure (digitised, noisy), nats/token; "
                f"the {n_other} rows of the file that hold only {other} belong to the other curve "
                f"(loss='{other}') and are not in this table",
        "n_tokens": "1e9 x the 'step' column of extracted.csv, which holds tokens in billions",
        "n_params": "GPT-3 Table 2.1 (Brown et al. 2020, arXiv 2005.14165): 125M ... 175B, embeddings included",
        "step": "index of the digitised point along its curve (sorted by tokens), not an optimizer step",
        "gpt3_metadata": "n_layers/d_model/n_heads/d_head/batch_size_tokens/lr (peak) from gpt3_metadata.xlsx "
                         "(GPT-3 Table 2.1)"
        if meta_cols is not None else "skipped (openpyxl not installed)",
    })


def parse_colpret_datablations(fetch: Fetch) -> Parsed:
    """The 48 datablations repetition curves (loss vs tokens) aggregated by ColPret.

    ``n_params`` from :data:`DATABLATIONS_N_PARAMS`, ``n_tokens`` = ``token_num``,
    ``n_unique_tokens`` = ``tokens_per_epoch``, ``run`` = ``model_args``, ``group`` = ``data``
    (c4/oscar). The upstream ``flops`` column is wrong (it decreases along a curve) and is dropped;
    ``read_table`` derives C = 6ND.
    """
    raw = pd.read_csv(fetch(DATABLATIONS_CURVES_FILE))
    expected = ["index", "data", "epochs", "token_num", "loss", "num_params", "model_args", "tokens_per_epoch",
                "flops", "checkpoint"]
    if list(raw.columns) != expected:
        raise _bad_file(DATABLATIONS_CURVES_FILE, f"columns {expected}", list(raw.columns))
    unknown = sorted(set(raw["num_params"]) - set(DATABLATIONS_N_PARAMS))
    if unknown:
        raise _bad_file(DATABLATIONS_CURVES_FILE, f"num_params among {list(DATABLATIONS_N_PARAMS)}", unknown)
    frame = pd.DataFrame({
        "run": raw["model_args"].astype(str),
        "group": raw["data"].astype(str),
        "n_params": raw["num_params"].map(DATABLATIONS_N_PARAMS).astype(float),
        "n_tokens": raw["token_num"].astype(float),
        "n_unique_tokens": raw["tokens_per_epoch"].astype(float),
        "loss": raw["loss"].astype(float),
        "epochs": raw["epochs"].astype(int),
        "num_params_label": raw["num_params"].astype(str),
        "checkpoint": raw["checkpoint"].astype(str),
    })
    return Parsed(frame, None, {
        "part": "datablations",
        "loss": "validation loss along training (nats/token) of the datablations repetition runs",
        "flops": "the upstream 'flops' column is ignored (wrong: it decreases along a curve); C = 6 N D is derived",
        "n_params": "num_params labels mapped to 2.81e9 / 4.2465e9 / 8.67e9 (datablations PARAMS_MAP, with embeddings)",
    })


# --------------------------------------------------------------------------------------------
# olmo_ladder
# --------------------------------------------------------------------------------------------

OLMO_LADDER_DIR = "src/scripts/paper/data/ladder-runs"
OLMO_LADDER_CONFIG = "src/scripts/paper/configs/final.json"
#: Non-embedding parameter counts by size label: configs/final.json of allenai/OLMo-ladder (190M ... 1.3B,
#: 7B, 13B) and ``MODEL_PARAMS`` of its ``src/scaling/utils.py`` (3B = "3.2B", absent from the config).
OLMO_LADDER_N_PARAMS: dict[str, float] = {
    "190M": 190354176.0, "370M": 371262464.0, "760M": 758220288.0, "1B": 1279395840.0, "3B": 3169537280.0,
    "peteish7": 6887575552.0, "peteish13": 13202396160.0,
}
#: The four MMLU test (val) subsets and the weights of their mean (the repo's ``WEIGHT_BY_KEY``).
OLMO_MMLU_WEIGHTS: dict[str, float] = {"stem": 0.215, "humanities": 0.335, "social_sciences": 0.219, "other": 0.231}
_OLMO_RUN = re.compile(r"^(190M|370M|760M|1B|3B)-(0\.5|1|2|5|10)xC(-rerun)?$")


def olmo_ladder_runs(files: Sequence[str]) -> list[str]:
    """The per-run CSV files among a dataset's registered files (paths in the repository)."""
    return [f for f in files if f.startswith(OLMO_LADDER_DIR + "/") and f.endswith(".csv")]


def _olmo_columns(raw: pd.DataFrame) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for c in raw.columns:
        m = re.fullmatch(r"eval/(.+)/CrossEntropyLoss", c)
        if m:
            out[f"loss_{m.group(1).removesuffix('-validation')}"] = raw[c].astype(float)
            continue
        m = re.fullmatch(r"eval/downstream_bpb/(.+)_rc_5shot_bpb", c)
        if m:
            out[f"bpb_{m.group(1)}"] = raw[c].astype(float)
            continue
        m = re.fullmatch(r"eval/downstream/(.+)_rc_5shot_len_norm", c)
        if m:
            out[f"acc_{m.group(1)}"] = raw[c].astype(float)
    for c in raw.columns:  # BoolQ has no length-normalised accuracy: its plain accuracy
        m = re.fullmatch(r"eval/downstream/(.+)_rc_5shot_acc", c)
        if m and f"acc_{m.group(1)}" not in out:
            out[f"acc_{m.group(1)}"] = raw[c].astype(float)
    for split in ("test", "val"):
        for kind in ("bpb", "acc"):
            cols = [f"{kind}_mmlu_{s}_{split}" for s in OLMO_MMLU_WEIGHTS]
            if all(c in out for c in cols):
                w = np.array(list(OLMO_MMLU_WEIGHTS.values()))
                out[f"{kind}_mmlu_{split}"] = sum(out[c] * wi for c, wi in zip(cols, w)) / w.sum()
    return out


def parse_olmo_ladder(fetch: Fetch, files: Sequence[str]) -> Parsed:
    """Bhagia et al. 2024's ladder: one row per evaluated checkpoint of every run file.

    ``run`` = the file's stem (``"190M-1xC"``, ``"190M-1xC-rerun"``, ``"peteish7_eval_anneal"``, ...);
    ``size`` = ``190M`` / ``370M`` / ``760M`` / ``1B`` / ``3B`` / ``peteish7`` / ``peteish13``;
    ``multiplier`` = the token multiple of Chinchilla (NaN for the targets); ``role`` = ``"ladder"`` (the
    original ladder files), ``"rerun"`` (the ``-1xC-rerun`` files), ``"target"`` (the files the paper
    evaluates its 7B-4T and 13B-5T predictions on: ``peteish7_eval_anneal``, ``peteish13_eval_final``) or
    ``"target-curve"`` (the targets' other evaluation files). ``n_params`` = non-embedding parameter count
    (:data:`OLMO_LADDER_N_PARAMS`), ``n_tokens`` = ``throughput/total_tokens`` (else ``_step`` x
    ``batch_size_in_tokens``, as the paper), ``step`` = ``_step``, ``loss`` = C4 validation loss (nats/token).
    Task metrics: ``bpb_<task>`` (``*_rc_5shot_bpb``, bits per byte of the correct continuation),
    ``acc_<task>`` (``*_rc_5shot_len_norm``; BoolQ: ``*_rc_5shot_acc``), ``loss_<set>`` for the 11
    validation sets; ``bpb_mmlu_test`` / ``acc_mmlu_test`` (and ``_val``) are the weighted means of the
    four MMLU subsets (:data:`OLMO_MMLU_WEIGHTS`). The other upstream columns are dropped.
    """
    config_path = fetch(OLMO_LADDER_CONFIG)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        cfg_n = {Path(p).stem: float(c["n"]) for c in config.values() for p in c["paths"]}
    except (KeyError, ValueError, TypeError) as exc:
        raise _bad_file(OLMO_LADDER_CONFIG, "the ladder's run configuration (paths, n)", exc) from exc
    parts = []
    for path in olmo_ladder_runs(files):
        run = Path(path).stem
        raw = pd.read_csv(fetch(path))
        m = _OLMO_RUN.match(run)
        if m:
            size, mult, role = m.group(1), float(m.group(2)), "rerun" if m.group(3) else "ladder"
        elif run.startswith(("peteish7", "peteish13")):
            size = "peteish13" if run.startswith("peteish13") else "peteish7"
            mult, role = float("nan"), "target" if run in ("peteish7_eval_anneal", "peteish13_eval_final") \
                else "target-curve"
        else:
            raise _bad_file(path, "a ladder run '<size>-<k>xC[-rerun]' or a peteish7/13 target file", run)
        n = OLMO_LADDER_N_PARAMS[size]
        if run in cfg_n and cfg_n[run] != n:
            raise _bad_file(OLMO_LADDER_CONFIG, f"n = {n:.0f} for {run}", cfg_n[run])
        if "throughput/total_tokens" in raw.columns:
            tokens = raw["throughput/total_tokens"].astype(float)
        elif {"_step", "batch_size_in_tokens"} <= set(raw.columns):
            tokens = raw["_step"].astype(float) * raw["batch_size_in_tokens"].astype(float)
        else:
            raise _bad_file(path, "columns throughput/total_tokens or _step and batch_size_in_tokens",
                            list(raw.columns[:5]))
        if "_step" in raw.columns:
            step = raw["_step"].astype(float)
        else:  # the 7B anneal file has one row and no _step
            step = (tokens / raw["batch_size_in_tokens"].astype(float)).round()
        metrics = _olmo_columns(raw)
        if "loss_c4_en" not in metrics:
            raise _bad_file(path, "a column eval/c4_en-validation/CrossEntropyLoss", list(raw.columns[:5]))
        frame = pd.DataFrame({"run": run, "size": size, "multiplier": mult, "role": role,
                              "n_params": n, "n_tokens": tokens.to_numpy(), "step": step.to_numpy().astype(np.int64),
                              "loss": metrics["loss_c4_en"].to_numpy()})
        frame = pd.concat([frame, pd.DataFrame({k: v.to_numpy() for k, v in metrics.items()})], axis=1)
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True)
    initial = frame["n_tokens"].to_numpy() <= 0
    excluded = frame.loc[initial, ["run", "step", "n_tokens"]].assign(
        reason="checkpoint at step 0 (no tokens seen yet: a scaling law cannot use it)")
    frame = frame.loc[~initial].reset_index(drop=True)
    return Parsed(frame, excluded.reset_index(drop=True) if len(excluded) else None, {
        "loss": "C4 validation cross-entropy (eval/c4_en-validation/CrossEntropyLoss), nats/token",
        "task metrics": "bpb_<task>: *_rc_5shot_bpb (bits per byte); acc_<task>: *_rc_5shot_len_norm "
                        "(BoolQ: *_rc_5shot_acc); *_mmlu_test/val: weighted mean of the 4 MMLU subsets "
                        "(0.215, 0.335, 0.219, 0.231)",
        "n_params": "non-embedding (configs/final.json; 3B from the repo's MODEL_PARAMS)",
        "n_tokens": "throughput/total_tokens, else _step x batch_size_in_tokens (the 7B/13B curves)",
        "role": "ladder | rerun (the -1xC-rerun files; the paper fits the originals) | target | target-curve",
    })


# --------------------------------------------------------------------------------------------
# obsscaling
# --------------------------------------------------------------------------------------------

OBSSCALING_FILE = "eval_results/base_llm_benchmark_eval.csv"
#: The eight base benchmarks of Ruan et al. 2024 (scores are fractions).
OBSSCALING_BENCHMARKS: tuple[str, ...] = ("MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K",
                                          "XWinograd", "HumanEval")


def parse_obsscaling(fetch: Fetch) -> pd.DataFrame:
    """Ruan et al. 2024's benchmark table of 148 public base models (a plain DataFrame: these are models
    with scores, not training runs with a loss). ``model``, ``family``, ``n_params`` (= Model Size (B) x 1e9),
    ``n_tokens`` (= Pretraining Data Size (T) x 1e12), ``flops`` (= FLOPs (1E21) x 1e21; missing for 25
    models), and the eight benchmark scores (fractions; some missing) under their upstream names."""
    raw = pd.read_csv(fetch(OBSSCALING_FILE))
    expected = ["Model", "Model Family", "Model Size (B)", "Pretraining Data Size (T)", "FLOPs (1E21)",
                *OBSSCALING_BENCHMARKS]
    if list(raw.columns) != expected:
        raise _bad_file(OBSSCALING_FILE, f"columns {expected}", list(raw.columns))
    frame = pd.DataFrame({"model": raw["Model"].astype(str), "family": raw["Model Family"].astype(str),
                          "n_params": raw["Model Size (B)"].astype(float) * 1e9,
                          "n_tokens": raw["Pretraining Data Size (T)"].astype(float) * 1e12,
                          "flops": raw["FLOPs (1E21)"].astype(float) * 1e21})
    for b in OBSSCALING_BENCHMARKS:
        frame[b] = raw[b].astype(float)
    return frame
