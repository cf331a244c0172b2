"""Tests of scaling.data: read_table and RunTable (reading, parsing, derivation, validation, immutability)."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import pickle
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaling.errors import DataError
from scaling import RunTable, read_table
from scaling.data import COLUMN_ALIASES
from scaling.units import format_count, from_nats, parse_count

EPOCH_FILE = "epoch_chinchilla/data/svg_extracted_data.csv"
REQUIRE_DATA = os.environ.get("SCALING_REQUIRE_DATA", "") not in ("", "0", "false", "no")
EPOCH_COLUMNS = {"n_params": "Model Size", "flops": "Training FLOP"}

HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def runs(n: int = 4, **extra: object) -> pd.DataFrame:
    """A small valid frame: distinct N, D = 20 N, Chinchilla-like losses."""
    n_params = np.geomspace(1e7, 1e9, n)
    data = {"n_params": n_params, "n_tokens": 20 * n_params,
            "loss": 1.69 + 406.4 / n_params**0.34 + 410.7 / (20 * n_params) ** 0.28}
    data.update(extra)  # type: ignore[arg-type]
    return pd.DataFrame(data)


# ----------------------------------------------------------------------------------------------------
# the real Epoch file


@pytest.fixture(scope="module")
def epoch_path() -> Path:
    """The mirrored Epoch file under $SCALING_DATA_DIR (skip, or fail under SCALING_REQUIRE_DATA=1, if absent)."""
    path = Path(os.environ.get("SCALING_DATA_DIR", "/nonexistent")) / EPOCH_FILE
    if not path.is_file():
        if REQUIRE_DATA:
            pytest.fail(f"dataset not available: {path} [SCALING_REQUIRE_DATA=1]")
        pytest.skip(f"dataset not available: {path}")
    return path


@pytest.fixture(scope="module")
def epoch(epoch_path: Path) -> RunTable:
    return read_table(epoch_path, columns=EPOCH_COLUMNS, name="epoch_chinchilla", n_params_convention="total")


def test_epoch_file_reads_with_derived_tokens(epoch: RunTable, epoch_path: Path) -> None:
    assert len(epoch) == 245
    assert len(epoch.excluded) == 0
    # data README: N 5.73e7 ... 1.62e10, C 1.40e18 ... 1.30e22, loss 2.077 ... 5.006, 142 distinct N
    # (to the printed precision: half a unit in the last digit)
    assert epoch.n_params.min() == pytest.approx(5.73e7, abs=0.005e7)
    assert epoch.n_params.max() == pytest.approx(1.62e10, abs=0.005e10)
    assert epoch.flops.min() == pytest.approx(1.40e18, abs=0.005e18)
    assert epoch.flops.max() == pytest.approx(1.30e22, abs=0.005e22)
    assert epoch.loss.min() == pytest.approx(2.077, abs=5e-4)
    assert epoch.loss.max() == pytest.approx(5.006, abs=5e-4)
    assert len(np.unique(epoch.n_params)) == 142
    np.testing.assert_allclose(epoch.n_tokens, epoch.flops / (6 * epoch.n_params), rtol=1e-15)
    raw = pd.read_csv(epoch_path)
    np.testing.assert_array_equal(epoch.flops, raw["Training FLOP"].to_numpy())
    np.testing.assert_array_equal(epoch.loss, raw["loss"].to_numpy())
    assert epoch.meta["derived"] == "n_tokens"
    assert epoch.meta["derivation"] == "n_tokens = flops/(6·n_params)"
    assert epoch.meta["flops_per_token"] == 6.0
    assert epoch.meta["n_params_convention"] == "total"
    assert epoch.meta["columns"] == {"n_params": "Model Size", "flops": "Training FLOP", "loss": "loss"}
    assert epoch.columns == ("n_params", "n_tokens", "flops", "loss", "x", "y", "color", "hex_color")
    assert repr(epoch) == ("<RunTable 'epoch_chinchilla': 245 runs, 142 distinct N, "
                           "n_tokens derived as flops/(6·n_params), loss in nats>")
    assert epoch.check_flops().empty


def test_epoch_drop_five_highest_losses(epoch: RunTable) -> None:
    """Epoch drops the 5 highest-loss points before fitting: 240 remain, and the 5 are reported."""
    threshold = np.sort(epoch.loss)[-5]
    kept = epoch.filter(epoch.loss < threshold, reason="5 highest losses (Besiroglu et al. 2024)")
    assert len(kept) == 240
    assert len(kept.excluded) == 5
    assert set(kept.excluded["reason"]) == {"5 highest losses (Besiroglu et al. 2024)"}
    assert kept.excluded["loss"].min() >= threshold
    assert kept.data_hash() != epoch.data_hash()
    assert len(epoch) == 245  # the original is untouched


def test_epoch_data_hash_is_stable(epoch: RunTable, epoch_path: Path) -> None:
    again = read_table(epoch_path, columns=EPOCH_COLUMNS)
    assert again.data_hash() == epoch.data_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", epoch.data_hash())  # a sha256 hex digest
    # ... and it sees every number: one loss changed in the last digit changes it
    df = epoch.to_frame()[["n_params", "n_tokens", "flops", "loss"]].copy()
    df.loc[df.index[-1], "loss"] = np.nextafter(df["loss"].iloc[-1], np.inf)
    assert read_table(df).data_hash() != epoch.data_hash()
    # the hash covers the canonical numbers only: names, meta and extra columns do not change it
    same = read_table(epoch.to_frame()[["n_params", "n_tokens", "flops", "loss"]], name="other")
    assert same.data_hash() == epoch.data_hash()


# ----------------------------------------------------------------------------------------------------
# round trips through files (hypothesis)

positive = st.floats(min_value=1e3, max_value=1e13, allow_nan=False, allow_infinity=False)
losses = st.floats(min_value=0.05, max_value=20.0, allow_nan=False, allow_infinity=False)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=12))
    n_params = draw(st.lists(positive, min_size=n, max_size=n, unique=True))
    return pd.DataFrame({
        "n_params": n_params,
        "n_tokens": draw(st.lists(positive, min_size=n, max_size=n)),
        "loss": draw(st.lists(losses, min_size=n, max_size=n)),
        "run": [f"run-{i}" for i in range(n)],
        "note": draw(st.lists(st.sampled_from(["a", "b c", "ü"]), min_size=n, max_size=n)),
    })


def _write(df: pd.DataFrame, fmt: str, directory: str) -> Path:
    path = Path(directory) / {"csv": "runs.csv", "tsv": "runs.tsv", "json_records": "runs.json",
                              "json_columns": "runs.json", "jsonl": "runs.jsonl", "parquet": "runs.parquet",
                              "csv_gz": "runs.csv.gz", "jsonl_gz": "runs.jsonl.gz"}[fmt]
    records = df.to_dict(orient="records")
    if fmt in ("csv", "csv_gz"):
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, sep="\t", index=False)
    elif fmt == "json_records":
        path.write_text(json.dumps(records))
    elif fmt == "json_columns":
        path.write_text(df.to_json(orient="columns", double_precision=15))
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    elif fmt == "jsonl_gz":
        import gzip
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write("\n".join(json.dumps(r) for r in records))
    else:
        df.to_parquet(path, index=False)
    return path


@HYPO
@given(df=frames(), fmt=st.sampled_from(["csv", "tsv", "json_records", "json_columns", "jsonl", "parquet",
                                         "csv_gz", "jsonl_gz"]))
def test_file_round_trip(df: pd.DataFrame, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        table = read_table(_write(df, fmt, d), check_units=False)  # any counts: parsing, not units
    rtol = 1e-14 if fmt == "json_columns" else 0.0  # pandas' to_json writes 15 significant digits
    np.testing.assert_allclose(table.n_params, df["n_params"], rtol=rtol)
    np.testing.assert_allclose(table.n_tokens, df["n_tokens"], rtol=rtol)
    np.testing.assert_allclose(table.loss, df["loss"], rtol=rtol)
    np.testing.assert_allclose(table.flops, 6 * df["n_params"] * df["n_tokens"], rtol=1e-15 + rtol)
    assert list(table["run"]) == list(df["run"])
    assert list(table["note"]) == list(df["note"])
    assert table.columns == ("n_params", "n_tokens", "flops", "loss", "run", "note")
    assert table.meta["name"] == "runs"
    frame = table.to_frame()
    assert [str(frame[c].dtype) for c in ("n_params", "n_tokens", "flops", "loss")] == ["float64"] * 4


@HYPO
@given(df=frames())
def test_dataframe_round_trip_and_input_untouched(df: pd.DataFrame) -> None:
    before = df.copy(deep=True)
    table = read_table(df, check_units=False)  # any counts: parsing, not units
    pd.testing.assert_frame_equal(df, before)
    back = read_table(table.to_frame(), check_units=False)
    assert back.data_hash() == table.data_hash()
    pd.testing.assert_frame_equal(back.to_frame(), table.to_frame())


def test_read_from_mapping_records_and_file_object() -> None:
    df = runs(3)
    a = read_table({c: df[c].tolist() for c in df})
    b = read_table(df.to_dict(orient="records"))
    c = read_table(io.StringIO(df.to_csv(index=False)), format="csv")
    assert a.data_hash() == b.data_hash() == c.data_hash() == read_table(df).data_hash()
    assert a.meta["source"] == "mapping" and b.meta["source"] == "records"
    split = json.loads(df.to_json(orient="split", double_precision=15))
    np.testing.assert_allclose(read_table(split).loss, df["loss"], rtol=1e-14)


def test_excel_and_named_index(tmp_path: Path) -> None:
    import openpyxl  # noqa: F401  (test extra: fail, never skip, when missing)
    df = runs(3)
    path = tmp_path / "runs.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        df.to_excel(writer, sheet_name="runs", index=False)
    t = read_table(path, sheet="runs")
    np.testing.assert_allclose(t.loss, df["loss"])
    # a named index (e.g. run ids) becomes a column
    t2 = read_table(df.set_index(pd.Index(["a", "b", "c"], name="run")))
    assert list(t2["run"]) == ["a", "b", "c"]


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "runs.parquet"
    runs(2).to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(DataError, match=r"pip install pyarrow.*scaling\[parquet\]"):
        read_table(path)


# ----------------------------------------------------------------------------------------------------
# counts, big integers, units, derivation


@HYPO
@given(x=st.floats(min_value=1.0, max_value=1e16, allow_nan=False), digits=st.integers(3, 8),
       n=st.integers(1, 200))
def test_count_strings_format_then_parse(x: float, digits: int, n: int) -> None:
    text = format_count(x, digits=digits)
    parsed = read_table(pd.DataFrame({"N": [text] * n, "D": np.arange(1, n + 1) * 1e9, "loss": 2.0}),
                        check_units=False).n_params
    assert np.all(parsed == parse_count(text))  # the vectorized path agrees with parse_count
    assert parsed[0] == pytest.approx(x, rel=0.51 * 10 ** (1 - digits))


def test_count_strings_and_thousands_separators() -> None:
    df = pd.DataFrame({"params": ["70M", "1.4B", "2T", "1.2e9", "12,000", " 5 k", 3e9],
                       "tokens": ["1.4T"] * 7, "loss": np.linspace(3, 2, 7)})
    t = read_table(df)
    assert list(t.n_params) == [7e7, 1.4e9, 2e12, 1.2e9, 12000.0, 5000.0, 3e9]
    assert np.all(t.n_tokens == 1.4e12)


def test_integers_above_2_63_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    big = [2**64 + 1, 2**63 + 5, 3 * 10**25]
    path.write_text("N,C,loss\n" + "".join(f"{7 * 10**9 + i},{c},{2.0 + i / 10}\n" for i, c in enumerate(big)))
    assert pd.read_csv(path)["C"].dtype == object  # what pandas does: strings, not numbers
    t = read_table(path)
    np.testing.assert_array_equal(t.flops, [float(c) for c in big])
    np.testing.assert_allclose(t.n_tokens, [float(c) / (6 * (7e9 + i)) for i, c in enumerate(big)], rtol=1e-15)


def test_int64_columns_do_not_overflow() -> None:
    n = np.array([10**12, 2 * 10**12], dtype=np.int64)
    d = np.array([10**13, 10**14], dtype=np.int64)  # 6·N·D ~ 1e27 >> 2**63 in integer arithmetic
    t = read_table(pd.DataFrame({"n_params": n, "n_tokens": d, "loss": [2.0, 1.9]}))
    np.testing.assert_allclose(t.flops, [6e25, 1.2e27], rtol=1e-15)
    assert t.flops.dtype == np.float64


@HYPO
@given(loss=st.lists(st.floats(min_value=0.01, max_value=15.0), min_size=1, max_size=20))
def test_loss_units_round_trip(loss: list[float]) -> None:
    nats = np.asarray(loss)
    n = len(loss)
    base = {"n_params": np.arange(1, n + 1) * 1e8, "n_tokens": 2e9}
    for unit in ("nats", "bits", "perplexity"):
        t = read_table(pd.DataFrame({**base, "loss": from_nats(nats, unit)}), loss_unit=unit)
        np.testing.assert_allclose(t.loss, nats, rtol=1e-12)
        assert t.meta["loss_unit"] == unit


def test_bits_conversion_value() -> None:
    t = read_table(runs(1).assign(loss=[1.0]), loss_unit="bits")
    assert t.loss[0] == pytest.approx(math.log(2))
    assert "loss in nats (converted from bits)" in repr(t)


@HYPO
@given(df=frames(), k=st.floats(min_value=0.5, max_value=30.0), drop=st.sampled_from(["n_params", "n_tokens",
                                                                                      "flops"]))
def test_derivation_consistency(df: pd.DataFrame, k: float, drop: str) -> None:
    full = df.assign(flops=k * df["n_params"] * df["n_tokens"])
    t = read_table(full.drop(columns=[drop]), flops_per_token=k, duplicates="keep", check_units=False)
    np.testing.assert_allclose(t.flops, k * t.n_params * t.n_tokens, rtol=1e-14)
    np.testing.assert_allclose(t[drop], full[drop], rtol=1e-14)
    assert t.meta["derived"] == drop
    assert t.meta["flops_per_token"] == k
    assert f"{drop} derived as" in repr(t)
    assert t.check_flops(rtol=1e-9).empty


def test_all_three_given_are_kept_and_check_flops_reports() -> None:
    df = runs(3)
    df["flops"] = 6 * df["n_params"] * df["n_tokens"]
    df.loc[1, "flops"] *= 1.5
    t = read_table(df)
    assert t.meta["derived"] is None and t.meta["derivation"] is None
    np.testing.assert_array_equal(t.flops, df["flops"])  # kept as given
    report = t.check_flops(rtol=0.05)
    assert list(report["row"]) == [1]
    assert report["ratio"].iloc[0] == pytest.approx(1.5)
    assert "derived" not in repr(t)


# ----------------------------------------------------------------------------------------------------
# aliases and columns


@pytest.mark.parametrize(("n", "d", "c", "loss"), [
    ("params", "tokens", None, "val_loss"),
    ("N", "D", None, "L"),
    ("Model Size", None, "Training FLOP", "loss"),
    ("num_params", "num_tokens", None, "eval_loss"),
    ("parameters", "train_tokens", None, "test_loss"),
    ("model_size", "data", None, "Loss"),
    ("NUM PARAMS", None, "compute", "val loss"),
    (None, "tokens", "C", "loss"),
    ("params", None, "training_flops", "loss"),
    ("params", None, "FLOPs", "loss"),
])
def test_aliases(n: str | None, d: str | None, c: str | None, loss: str) -> None:
    base = runs(3)
    data = {}
    if n:
        data[n] = base["n_params"]
    if d:
        data[d] = base["n_tokens"]
    if c:
        data[c] = 6 * base["n_params"] * base["n_tokens"]
    data[loss] = base["loss"]
    t = read_table(pd.DataFrame(data))
    np.testing.assert_allclose(t.n_params, base["n_params"], rtol=1e-15)
    np.testing.assert_allclose(t.n_tokens, base["n_tokens"], rtol=1e-15)
    assert t.columns == ("n_params", "n_tokens", "flops", "loss")


def test_optional_aliases_and_extra_columns_order() -> None:
    df = runs(2, dataset=["c4", "c4"], learning_rate=[1e-3, 2e-3], Seed=[0, 1], run_id=["a", "b"],
              model_config=["s", "m"], params_no_embed=[5e6, 5e8], unique_tokens=["1B", "2B"])
    t = read_table(df)
    assert t.columns == ("n_params", "n_tokens", "flops", "loss", "run", "n_params_nonembedding",
                         "n_unique_tokens", "seed", "lr", "dataset", "model_config")
    assert list(t["n_unique_tokens"]) == [1e9, 2e9]
    assert t.meta["columns"]["lr"] == "learning_rate"
    assert set(COLUMN_ALIASES) == {"n_params", "n_tokens", "flops", "loss", "run", "step", "group",
                                   "n_params_nonembedding", "n_unique_tokens", "seed", "lr", "planned_steps",
                                   "planned_tokens"}


def test_explicit_columns_win_and_none_disables() -> None:
    base = runs(3)
    df = pd.DataFrame({"size": base["n_params"], "params": [1, 2, 3], "tokens": base["n_tokens"],
                       "flops": [1.0, 1.0, 1.0], "loss": base["loss"]})
    t = read_table(df, columns={"n_params": "size", "flops": None})
    np.testing.assert_allclose(t.flops, 6 * base["n_params"] * base["n_tokens"])
    assert t.meta["derived"] == "flops"
    assert "params" in t.columns  # the alias candidate is kept as an extra column
    assert t.meta["ignored_columns"] == ("flops",)


def test_scale_option() -> None:
    df = pd.DataFrame({"model": ["a", "b"], "params": [1.25e8, 3.5e8], "step": [10.0, 20.0], "loss": [3.0, 2.8]})
    t = read_table(df, columns={"n_tokens": "step", "run": "model"}, scale={"n_tokens": 1e9})
    assert list(t.n_tokens) == [1e10, 2e10]
    assert t.meta["scale"] == {"n_tokens": 1e9}


def test_read_table_meta_and_convention() -> None:
    extra = {"source": "https://example.org/runs.csv", "citation": "Someone 2024", "nested": {"a": [1, 2]}}
    t = read_table(runs(3), name="demo", meta=extra, n_params_convention="non-embedding")
    m = t.meta
    assert m["source"] == "https://example.org/runs.csv" and m["citation"] == "Someone 2024"
    assert m["name"] == "demo" and t.name == "demo"
    assert m["n_params_convention"] == "non-embedding"
    for key in ("source", "name", "flops_per_token", "derived", "derivation", "loss_unit", "n_params_convention",
                "columns", "duplicates", "on_invalid", "operations", "best_of", "smoothing"):
        assert key in m
    with pytest.raises(TypeError):
        m["name"] = "x"  # type: ignore[index]
    m["nested"]["a"].append(3)  # a copy: the table is unaffected
    assert t.meta["nested"] == {"a": [1, 2]}
    json.dumps(dict(t.meta))  # JSON-serialisable for fit provenance
    extra2 = dict(extra)
    extra.clear()
    assert t.meta["citation"] == "Someone 2024" and extra2


# ----------------------------------------------------------------------------------------------------
# immutability, accessors, selection


def test_immutable_and_copies() -> None:
    t = read_table(runs(3))
    for arr in (t.n_params, t.n_tokens, t.flops, t.loss):
        assert arr.dtype == np.float64
        with pytest.raises(ValueError):
            arr[0] = 1.0
        with pytest.raises(ValueError):
            arr.flags.writeable = True
    with pytest.raises(AttributeError):
        t.meta = {}  # type: ignore[misc]
    s = t["loss"]
    s.iloc[0] = 99.0
    f = t.to_frame()
    f.loc[0, "n_params"] = 1.0
    e = t.excluded
    assert t.loss[0] != 99.0 and t.n_params[0] != 1.0 and e is not t.excluded
    assert copy.deepcopy(t) is t
    with pytest.raises(TypeError, match="read_table"):
        RunTable()
    with pytest.raises(KeyError, match="not a column"):
        t["nope"]
    assert "loss" in t and "nope" not in t and list(t) == list(t.columns) and len(t) == 3


def test_pickle_round_trip() -> None:
    t = read_table(runs(4), name="p", meta={"k": 1}).filter(np.array([True, True, False, True]), reason="r")
    u = pickle.loads(pickle.dumps(t))
    assert u.data_hash() == t.data_hash() and dict(u.meta) == dict(t.meta)
    pd.testing.assert_frame_equal(u.excluded, t.excluded)
    assert not u.loss.flags.writeable


def test_filter_and_subset_record_exclusions() -> None:
    t = read_table(runs(5, group=["a", "a", "b", "b", "c"]))
    f = t.filter(t.loss < t.loss[1], reason="small models dropped")
    assert len(f) == 3 and list(f.excluded["row"]) == [0, 1]
    assert list(f.excluded["reason"]) == ["small models dropped"] * 2
    assert list(f.source_rows) == [2, 3, 4]
    s = f.subset({"group": ["b"]})
    assert list(s.source_rows) == [2, 3]
    assert list(s.excluded["row"]) == [0, 1, 4]
    assert s.excluded["reason"].iloc[-1] == "not in subset group in ['b']"
    assert [op["op"] for op in s.meta["operations"]] == ["filter", "subset"]
    assert "after filter, subset, 3 excluded" in repr(s)
    c = t.subset(lambda df: df["group"] == "c", reason="only c")
    assert list(c.source_rows) == [4]
    assert t.filter(np.ones(5, dtype=bool), reason="nothing").excluded.empty
    w = t.with_columns({"lr": ["1e-3"] * 5, "tag": "x"})
    assert list(w["lr"]) == [1e-3] * 5 and w.columns[-1] == "tag"


# ----------------------------------------------------------------------------------------------------
# every error message: column, rows, value, hint


def _raises(fragments: list[str], fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    return msg


HINT_INVALID = "on_invalid='exclude'"


@pytest.mark.parametrize(("column", "values", "fragments"), [
    ("n_params", ["1e8", "abc", "3e8", "x7"], ["Column 'n_params'", "'abc', 'x7'", "rows 1, 3 (0-based)",
                                               "a number or a count such as 70M"]),
    ("n_tokens", [1e9, np.nan, 3e9, 4e9], ["Column 'n_tokens'", "NaN", "row 1 (0-based)", "not missing or NaN"]),
    ("n_tokens", [1e9, 2e9, np.inf, 4e9], ["Column 'n_tokens'", "inf", "row 2 (0-based)", "finite number > 0"]),
    ("n_params", [1e8, 0.0, -5.0, 4e8], ["Column 'n_params'", "0, -5", "rows 1, 2 (0-based)", "> 0"]),
    ("loss", [3.0, 2.9, -1.0, 0.0], ["Column 'loss'", "-1, 0", "rows 2, 3 (0-based)", "> 0"]),
    ("loss", [3.0, None, 2.0, 1.0], ["Column 'loss'", "row 1 (0-based)", "not missing or NaN"]),
    ("loss", [3.0, True, 2.0, 1.0], ["Column 'loss'", "True", "row 1 (0-based)", "a number"]),
])
def test_bad_values(column: str, values: list[object], fragments: list[str]) -> None:
    df = pd.DataFrame({"n_params": [1e8, 2e8, 3e8, 4e8], "n_tokens": [1e9, 2e9, 3e9, 4e9],
                       "loss": [3.0, 2.9, 2.8, 2.7]})
    df[column] = pd.Series(values, dtype=object)
    _raises(fragments + [HINT_INVALID, "of the input DataFrame"], read_table, df)
    # with on_invalid='exclude' the rows are reported, not raised
    t = read_table(df, on_invalid="exclude")
    assert len(t) + len(t.excluded) == 4
    assert all(r.startswith(f"invalid {column}") for r in t.excluded["reason"])


def test_bad_value_message_names_source_column_and_file(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("Model Size,tokens,val_loss\n1e8,1e9,3\n2e8,-2e9,2.9\n")
    _raises(["Column 'n_tokens' (source column 'tokens') of runs.csv", "must be a finite number > 0",
             "got -2e+09 in row 1 (0-based)", HINT_INVALID], read_table, path)


def test_perplexity_must_exceed_one() -> None:
    df = runs(3).assign(loss=[5.0, 1.0, 0.5])
    _raises(["Column 'loss'", "> 1 (a perplexity)", "1, 0.5", "rows 1, 2 (0-based)", HINT_INVALID],
            read_table, df, loss_unit="perplexity")


def test_on_invalid_exclude_lists_original_values() -> None:
    df = pd.DataFrame({"N": ["1e8", "oops", "3e8", "4e8"], "D": [1e9, 2e9, -3e9, 4e9], "loss": [3, 2.9, 2.8, 2.7]})
    t = read_table(df, on_invalid="exclude")
    assert len(t) == 2 and list(t.source_rows) == [0, 3]
    ex = t.excluded
    assert list(ex["row"]) == [1, 2]
    assert ex["reason"].iloc[0] == "invalid n_params: not a number ('oops')"
    assert ex["reason"].iloc[1] == "invalid n_tokens: not > 0 (-3e+09)"
    assert ex["n_params"].iloc[0] == "oops"


def test_missing_loss_column() -> None:
    _raises(["Column 'loss'", "must be present", "'val_loss'", "'eval_loss'", "got columns ['params', 'D', 'y']",
             "columns={'loss': 'your column'}"], read_table, pd.DataFrame({"params": [1e8], "D": [1e9], "y": [2.0]}))


def test_missing_two_of_three() -> None:
    _raises(["Column 'n_tokens' or 'flops'", "at least two of 'n_params', 'n_tokens', 'flops'",
             "only 'n_params' among columns ['params', 'x', 'loss']", "'tokens'", "'compute'",
             "columns={'n_tokens': 'your column'}"],
            read_table, pd.DataFrame({"params": [1e8], "x": [1e9], "loss": [2.0]}))


def test_ambiguous_alias() -> None:
    _raises(["'params' and 'num_params'", "'n_params'", "columns={'n_params': 'params'}"],
            read_table, pd.DataFrame({"params": [1e8], "num_params": [1e8], "D": [1e9], "loss": [2.0]}))


def test_mapped_column_not_found() -> None:
    _raises(["Column 'Model size' (given as columns['n_params'])", "must be present", "'Model Size'",
             "Check the spelling"], read_table, pd.DataFrame({"Model Size": [1e8], "D": [1e9], "loss": [2.0]}),
            columns={"n_params": "Model size"})


def test_unknown_columns_key() -> None:
    _raises(["Option columns", "'parameters'", "n_params"], read_table, runs(2), columns={"parameters": "x"})


def test_conflicting_duplicates() -> None:
    df = pd.DataFrame({"N": [1e8, 2e8, 1e8, 3e8], "D": [1e9, 1e9, 1e9, 1e9], "loss": [3.0, 2.8, 3.2, 2.7]})
    _raises(["Rows with the same n_params, n_tokens", "n_params=1e+08, n_tokens=1e+09", "loss 3 in row 0",
             "3.2 in row 2", "(0-based rows)", "'seed' or 'run' column", "duplicates='mean'"], read_table, df)
    # a seed column tells them apart
    assert len(read_table(df.assign(seed=[0, 0, 1, 0]))) == 4
    # or id_columns
    assert len(read_table(df.assign(dataset=["a", "a", "b", "a"]), id_columns=["dataset"])) == 4


def test_exact_duplicates_are_reported_not_silently_dropped() -> None:
    df = pd.DataFrame({"N": [1e8, 2e8, 1e8], "D": [1e9, 1e9, 1e9], "loss": [3.0, 2.8, 3.0]})
    t = read_table(df)
    assert len(t) == 2
    assert list(t.excluded["row"]) == [2]
    assert t.excluded["reason"].iloc[0].startswith("exact duplicate of row 0")
    assert "1 excluded" in repr(t)
    assert len(read_table(df, duplicates="keep")) == 3


@pytest.mark.parametrize(("rule", "loss", "kept_row"), [("mean", 3.1, 0), ("median", 3.0, 0), ("min", 2.9, 3),
                                                        ("first", 3.0, 0)])
def test_duplicates_option(rule: str, loss: float, kept_row: int) -> None:
    df = pd.DataFrame({"N": [1e8, 2e8, 1e8, 1e8], "D": [1e9] * 4, "loss": [3.0, 2.8, 3.4, 2.9]})
    t = read_table(df, duplicates=rule)  # type: ignore[arg-type]
    assert len(t) == 2
    assert t.loss[list(t.n_params).index(1e8)] == pytest.approx(loss)
    assert kept_row in list(t.source_rows)
    assert len(t.excluded) == 2 and all(f"duplicates='{rule}'" in r for r in t.excluded["reason"])
    assert t.meta["duplicates"] == rule


def test_empty_table() -> None:
    _raises(["The table of the input DataFrame", "non-empty", "0 rows"], read_table,
            pd.DataFrame({"n_params": [], "n_tokens": [], "loss": []}))
    _raises(["non-empty after excluding invalid rows", "0 of 2 rows left"], read_table,
            pd.DataFrame({"n_params": [-1, -2], "n_tokens": [1e9, 1e9], "loss": [2.0, 2.0]}), on_invalid="exclude")


@pytest.mark.parametrize(("option", "value", "fragment"), [
    ("loss_unit", "bytes", "Option loss_unit must be one of 'nats', 'bits', 'perplexity'; got 'bytes'"),
    ("duplicates", "x", "Option duplicates must be one of 'raise', 'mean', 'median', 'min', 'first', 'keep'; got 'x'"),
    ("on_invalid", "drop", "Option on_invalid must be one of 'raise', 'exclude'; got 'drop'"),
    ("n_params_convention", "embedding", "Option n_params_convention must be one of 'total', 'non-embedding'"),
    ("flops_per_token", 0, "Option flops_per_token must be a finite number > 0; got 0"),
    ("flops_per_token", float("nan"), "Option flops_per_token must be a finite number > 0; got nan"),
    ("format", "xml", "Option format must be one of"),
    ("scale", {"loss": -1.0}, "Option scale['loss'] must be a finite number > 0; got -1.0"),
    ("scale", {"run": 2.0}, "Option scale must be keyed by numeric canonical column names"),
])
def test_unknown_option_values(option: str, value: object, fragment: str) -> None:
    _raises([fragment], read_table, runs(2), **{option: value})


def test_meta_may_not_contradict_recorded_keys() -> None:
    _raises(["meta['flops_per_token']", "got 8", "flops_per_token=..."], read_table, runs(2),
            meta={"flops_per_token": 8})
    assert read_table(runs(2), meta={"flops_per_token": 6.0}).meta["flops_per_token"] == 6.0


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        read_table(runs(2), los_unit="bits")  # type: ignore[call-arg]


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    odd = tmp_path / "runs.dat2"
    odd.write_text("x")
    _raises(["The file type of runs.dat2", "format='csv'"], read_table, odd)
    bad = tmp_path / "runs.json"
    bad.write_text("{not json")
    _raises(["runs.json must be valid JSON", "format='jsonl'"], read_table, bad)
    semi = tmp_path / "runs.csv"
    semi.write_text("N;D;loss\n1e8;1e9;3\n")
    _raises(["The delimiter of runs.csv", "sep=';'"], read_table, semi)
    assert len(read_table(semi, sep=";")) == 1
    _raises(["Option sep", "None (it applies to files)"], read_table, runs(2), sep=";")
    with pytest.raises(TypeError, match="source must be"):
        read_table(42)  # type: ignore[arg-type]


def test_selection_errors() -> None:
    t = read_table(runs(3))
    _raises(["The mask of filter()", "dtype int64", "table.loss < 5"], t.filter, np.array([0, 1, 2]), reason="r")
    _raises(["The mask of filter()", "shape (3,)", "shape (2,)"], t.filter, np.array([True, False]), reason="r")
    _raises(["Option reason of filter()", "non-empty string"], t.filter, np.ones(3, dtype=bool), reason="")
    _raises(["The result of filter()", "non-empty table", "0 of 3 rows left"], t.filter, np.zeros(3, dtype=bool),
            reason="none")
    _raises(["Column 'grp' in subset()", "columns ['n_params'"], t.subset, {"grp": "a"})
    _raises(["Column 'loss' in with_columns()", "read_table(table.to_frame().assign"], t.with_columns,
            {"loss": [1, 2, 3]})
    _raises(["Column 'step'", "got -1 in row 2 (0-based)", ">= 0"], t.with_columns, {"step": [1, 2, -1]})
    _raises(["Option rtol", "finite number > 0"], t.check_flops, rtol=-1)


# ----------------------------------------------------------------------------------------------------
# performance


def test_reading_1e5_rows_is_fast(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    df = pd.DataFrame({"n_params": rng.uniform(1e7, 1e10, n), "n_tokens": rng.uniform(1e9, 1e12, n),
                       "loss": rng.uniform(2, 4, n), "run": np.arange(n)})
    path = tmp_path / "big.csv"
    df.to_csv(path, index=False)
    read_table(path)  # warm-up (imports)
    start = time.perf_counter()
    t = read_table(path)
    elapsed = time.perf_counter() - start
    assert len(t) == n
    assert elapsed < 1.0, f"reading 1e5 rows took {elapsed:.2f} s"


def test_meta_mirrors_the_typed_conventions() -> None:
    """The table's meta keys for k, the N convention and the loss unit are written from its Conventions."""
    t = read_table({"n_params": [1e8, 2e8], "n_tokens": [1e9, 2e9], "loss": [3.0, 2.9]}, flops_per_token=8,
                   n_params_convention="non-embedding", loss_unit="bits")
    c = t.conventions
    assert (c.flops_per_token, c.n_params, c.loss_unit) == (8.0, "non-embedding", "bits")
    assert (t.meta["flops_per_token"], t.meta["n_params_convention"], t.meta["loss_unit"]) == (8.0, "non-embedding",
                                                                                                "bits")
    np.testing.assert_allclose(t.flops, c.flops(t.n_params, t.n_tokens))
    f = t.filter(t.loss < 2.5, reason="x")  # operations keep the conventions
    assert f.conventions == c and f.meta["flops_per_token"] == 8.0


def test_learning_rate_zero_is_a_value_not_an_error():
    """A log's first warmup step (or a schedule decayed to 0) has lr = 0: kept; a negative lr is still refused."""
    import scaling as sc
    from scaling.errors import DataError

    df = pd.DataFrame({"n_params": [1e8] * 3, "n_tokens": [1e9, 2e9, 3e9], "loss": [3.0, 2.9, 2.8],
                       "lr": [0.0, 3e-4, 3e-4], "step": [0, 1, 2], "run": ["a"] * 3})
    t = sc.read_table(df)
    assert len(t) == 3 and t.to_frame()["lr"].tolist() == [0.0, 3e-4, 3e-4]
    df.loc[1, "lr"] = -1e-4
    with pytest.raises(DataError, match=r"Column 'lr' .* must be a finite number >= 0; got -0.0001 in row 1"):
        sc.read_table(df)
