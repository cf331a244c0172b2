"""Dataset registry: provenance, file resolution (mirror / cache / download) with sha256, parsers.

Real-data checks read the offline mirror through ``load_or_skip`` (``SCALING_DATA_DIR``); the
``derived/`` cross-check tables of the mirror are not upstream files and are read directly.
No test uses the network: downloads go through a monkeypatched ``urlopen`` serving ``file://`` URLs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REQUIRE_DATA, load_or_skip

import scaling.datasets.registry as registry
from scaling.datasets import (
    REGISTRY,
    clear_verification_cache,
    fetch_file,
    get_dataset,
    list_datasets,
    load_dataset,
)
from scaling.datasets import parsers as P
from scaling.errors import DataError, DatasetError

NAMES = ["epoch_chinchilla", "gadre_overtraining", "porian_resolving", "muennighoff_datablations",
         "colpret_curves", "olmo_ladder", "obsscaling", "multipowerlaw_schedules"]
EPOCH_FILE = "data/svg_extracted_data.csv"
EPOCH_SHA = "193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30"
MIRROR = os.environ.get("SCALING_DATA_DIR", "")  # the real mirror (fixtures below point the env elsewhere)


# ----------------------------------------------------------------------------------------------
# helpers


def frame_of(table) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The rows of a RunTable as a DataFrame."""
    if isinstance(table, pd.DataFrame):
        return table
    if hasattr(table, "to_frame"):
        return table.to_frame()
    return table.data  # type: ignore[no-any-return]


def excluded_of(table) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    exc = table.excluded
    return exc if isinstance(exc, pd.DataFrame) else pd.DataFrame(exc)


def mirror_file(name: str, path: str) -> Path:
    """A file of the offline mirror (derived tables included), or skip / fail like load_or_skip."""
    root = MIRROR
    candidate = Path(root) / name / path
    if not root or not candidate.is_file():
        msg = f"dataset not available: {name}/{path} (SCALING_DATA_DIR={root!r})"
        if REQUIRE_DATA:
            pytest.fail(msg + " [SCALING_REQUIRE_DATA=1]")
        pytest.skip(msg)
    return candidate


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty mirror and cache folders of our own; no network (urlopen must be patched to be used)."""
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    mirror.mkdir()
    cache.mkdir()
    monkeypatch.setenv("SCALING_DATA_DIR", str(mirror))
    monkeypatch.setenv("SCALING_CACHE_DIR", str(cache))

    def no_network(url: str, timeout: float = 0) -> None:
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(registry, "_urlopen", no_network)
    clear_verification_cache()
    yield {"mirror": mirror, "cache": cache, "root": tmp_path}
    clear_verification_cache()


def epoch_bytes() -> bytes:
    return mirror_file("epoch_chinchilla", EPOCH_FILE).read_bytes()


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------------------------
# registry metadata


def test_list_datasets_has_the_five_with_provenance() -> None:
    df = list_datasets()
    assert df["name"].tolist() == NAMES
    for col in ("name", "license", "source", "paper", "arxiv", "rows", "description", "n_params_note"):
        assert col in df.columns
        assert df[col].notna().all()
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", s) for s in df["source"])
    assert df.set_index("name")["rows"].to_dict() == {
        "epoch_chinchilla": 245, "gadre_overtraining": 104, "porian_resolving": 1745,
        "muennighoff_datablations": 296, "colpret_curves": 5591, "olmo_ladder": 4196, "obsscaling": 148,
        "multipowerlaw_schedules": 6265}
    assert df.set_index("name").loc["porian_resolving", "arxiv"] == "2406.19146"
    assert "MIT" in df.set_index("name").loc["gadre_overtraining", "license"]
    assert "Apache-2.0" in df.set_index("name").loc["muennighoff_datablations", "license"]


def test_registry_files_are_pinned() -> None:
    for spec in REGISTRY.values():
        assert spec.files
        for rf in spec.files:
            assert re.fullmatch(r"[0-9a-f]{64}", rf.sha256), rf
            url = spec.url(rf.path)
            assert url.startswith(f"https://raw.githubusercontent.com/{spec.repo}/{spec.commit}/")
    gadre = get_dataset("gadre_overtraining")
    assert len(gadre.files) == 208  # 104 model files + their 104 downstream evaluations
    assert len({f.sha256 for f in gadre.files}) == 208
    assert get_dataset("epoch_chinchilla").file(EPOCH_FILE).sha256 == EPOCH_SHA
    assert get_dataset("epoch_chinchilla").url(EPOCH_FILE) == (
        "https://raw.githubusercontent.com/epoch-research/analyzing-chinchilla/"
        "92258837425e1b5f2851d624287f0120583a3d0e/data/svg_extracted_data.csv")


def test_gadre_checksums_match_the_mirror() -> None:
    folder = mirror_file("gadre_overtraining", "exp_data/models/rpj-open_lm_7b-1.0.json").parent
    listed = {f.path.removeprefix("exp_data/models/") for f in get_dataset("gadre_overtraining").files
              if f.path.startswith("exp_data/models/")}
    assert listed == {p.name for p in folder.glob("*.json")}
    evals = {f.path.removeprefix("exp_data/evals/") for f in get_dataset("gadre_overtraining").files
             if f.path.startswith("exp_data/evals/")}
    assert evals == {p.name for p in (folder.parent / "evals").glob("*.json")}
    for rf in get_dataset("gadre_overtraining").files:
        assert fetch_file("gadre_overtraining", rf.path, download=False).is_file()


def test_unknown_dataset_and_file() -> None:
    with pytest.raises(DatasetError, match=r"Dataset name must be one of .*'epoch_chinchilla'.*; got 'chinchila'"):
        load_dataset("chinchila")
    with pytest.raises(DatasetError, match=r"File 'data/x.csv' of dataset 'epoch_chinchilla' must be one of"):
        fetch_file("epoch_chinchilla", "data/x.csv")


def test_options_are_explicit_and_checked() -> None:
    with pytest.raises(TypeError):
        load_dataset("epoch_chinchilla", splt="c4_val")  # type: ignore[call-arg]
    with pytest.raises(DatasetError, match=r"Option split of dataset 'epoch_chinchilla' must be one of the "
                                           r"options it accepts \(drop_highest_loss \(default 0\)\); got "
                                           r"split='c4_val'"):
        load_dataset("epoch_chinchilla", split="c4_val", download=False)
    with pytest.raises(DatasetError, match=r"Option table of dataset 'muennighoff_datablations' must be one of "
                                           r"the options it accepts \(none\)"):
        load_dataset("muennighoff_datablations", table="isoflop", download=False)
    with pytest.raises(DatasetError, match=r"Option loss of dataset 'colpret_curves' \(part='datablations'\)"):
        load_dataset("colpret_curves", part="datablations", loss="val_loss", download=False)


def test_option_values_are_checked() -> None:
    load_or_skip("epoch_chinchilla")  # skip without data: the checks below read files first for some options
    with pytest.raises(DatasetError, match=r"Option split of dataset 'gadre_overtraining' must be one of "
                                           r"\['openlm', 'c4_val', .*\]; got 'c4'"):
        load_dataset("gadre_overtraining", split="c4", download=False)
    with pytest.raises(DatasetError, match=r"Option table of dataset 'porian_resolving' must be one of "
                                           r"\['isoflop', 'optimal_pairs', 'fit_results'\]; got 'optimal'"):
        load_dataset("porian_resolving", table="optimal", download=False)
    with pytest.raises(DatasetError, match=r"Option drop_highest_loss .* must be an integer in \[0, 244\]; "
                                           r"got -1"):
        load_dataset("epoch_chinchilla", drop_highest_loss=-1, download=False)
    with pytest.raises(DatasetError, match=r"Option part of dataset 'colpret_curves' must be one of "
                                           r"\['gpt3', 'datablations'\]; got 'gpt-3'"):
        load_dataset("colpret_curves", part="gpt-3", download=False)
    with pytest.raises(DatasetError, match=r"Option loss .* must be one of \['train_loss', 'val_loss'\]; "
                                           r"got 'test_loss'"):
        load_dataset("colpret_curves", loss="test_loss", download=False)


# ----------------------------------------------------------------------------------------------
# file resolution: mirror, cache, download, sha256


def test_checksum_mismatch_in_mirror(isolated: dict[str, Path]) -> None:
    data = bytearray(epoch_bytes())
    data[100] ^= 0x01  # one modified byte
    bad = isolated["mirror"] / "epoch_chinchilla" / EPOCH_FILE
    bad.parent.mkdir(parents=True)
    bad.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="sha256") as info:
        load_dataset("epoch_chinchilla", download=False)
    msg = str(info.value)
    assert EPOCH_FILE in msg and str(bad) in msg and EPOCH_SHA in msg
    import hashlib
    assert hashlib.sha256(bytes(data)).hexdigest() in msg
    assert bad.is_file()  # the mirror is never modified
    assert files_in(isolated["cache"]) == []


def test_checksum_mismatch_in_cache_removes_the_file(isolated: dict[str, Path]) -> None:
    cached = isolated["cache"] / "epoch_chinchilla" / EPOCH_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(epoch_bytes()[:-10])
    with pytest.raises(DatasetError, match=r"sha256 .*deleted") as info:
        fetch_file("epoch_chinchilla", EPOCH_FILE, download=False)
    assert EPOCH_SHA in str(info.value)
    assert not cached.exists()
    assert files_in(isolated["cache"]) == []


def test_offline_error_says_how_to_get_the_file(isolated: dict[str, Path]) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset("epoch_chinchilla", download=False)
    msg = str(info.value)
    assert "sha256" not in msg  # load_or_skip treats sha256 errors as failures, this one as "unavailable"
    assert "SCALING_DATA_DIR" in msg
    assert get_dataset("epoch_chinchilla").url(EPOCH_FILE) in msg
    assert str(isolated["cache"] / "epoch_chinchilla" / EPOCH_FILE) in msg
    assert "download=True" in msg
    assert msg.startswith("File 'data/svg_extracted_data.csv' of dataset 'epoch_chinchilla' must be available")


@pytest.mark.parametrize("name", NAMES)
def test_every_dataset_offline_error_passes_through_its_parser(isolated: dict[str, Path], name: str) -> None:
    """Parsers never re-wrap the resolution error (load_or_skip must see 'unavailable', not a parse bug)."""
    with pytest.raises(DatasetError, match=rf"^File '[^']+' of dataset '{name}' must be available offline") as info:
        load_dataset(name, download=False)
    assert "sha256" not in str(info.value)


def test_malformed_model_json_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"name": "x", "hyperparameters": {}}))
    with pytest.raises(DatasetError, match=r"File 'exp_data/models/m.json' must be an open_lm model JSON .*; "
                                           r"got KeyError"):
        P.parse_gadre_overtraining(lambda p: bad, ["exp_data/models/m.json"])


def test_failed_download_is_an_offline_error(isolated: dict[str, Path]) -> None:
    with pytest.raises(DatasetError, match=r"download of https://raw\.githubusercontent\.com/.* failed "
                                           r"\(URLError: .*network disabled") as info:
        fetch_file("epoch_chinchilla", EPOCH_FILE, download=True)
    assert isinstance(info.value.__cause__, urllib.error.URLError)
    assert "sha256" not in str(info.value)
    assert files_in(isolated["cache"]) == []


def _serve(monkeypatch: pytest.MonkeyPatch, server: Path, calls: list[str]) -> None:
    """Map every https://raw.githubusercontent.com/<repo>/<commit>/<path> to file://<server>/<path>."""
    def fake_urlopen(url: str, timeout: float = 0):  # type: ignore[no-untyped-def]
        calls.append(url)
        parts = url.split("/", 6)  # https:, '', host, owner, repo, commit, path
        return urllib.request.urlopen((server / urllib.request.url2pathname(parts[6])).as_uri(), timeout=timeout)

    monkeypatch.setattr(registry, "_urlopen", fake_urlopen)


def test_download_verifies_and_caches(isolated: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    server = isolated["root"] / "server"
    (server / "data").mkdir(parents=True)
    (server / EPOCH_FILE).write_bytes(epoch_bytes())
    calls: list[str] = []
    _serve(monkeypatch, server, calls)
    path = fetch_file("epoch_chinchilla", EPOCH_FILE, download=True)
    assert path == isolated["cache"] / "epoch_chinchilla" / EPOCH_FILE
    assert path.read_bytes() == epoch_bytes()
    assert calls == [get_dataset("epoch_chinchilla").url(EPOCH_FILE)]
    assert files_in(isolated["cache"]) == [path]  # no temporary file left behind
    # second access: from the cache, no download, no re-hash (verification memoised)
    hashed: list[Path] = []
    real = registry._sha256_of
    monkeypatch.setattr(registry, "_sha256_of", lambda p: hashed.append(p) or real(p))
    assert fetch_file("epoch_chinchilla", EPOCH_FILE, download=True) == path
    assert len(calls) == 1 and hashed == []
    # a new process (cleared memo) re-verifies the cached copy
    clear_verification_cache()
    assert fetch_file("epoch_chinchilla", EPOCH_FILE, download=False) == path
    assert hashed == [path]


def test_tampered_download_is_rejected_and_not_cached(isolated: dict[str, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    server = isolated["root"] / "server"
    (server / "data").mkdir(parents=True)
    (server / EPOCH_FILE).write_bytes(epoch_bytes().replace(b"5.005581996196243", b"1.005581996196243"))
    _serve(monkeypatch, server, [])
    with pytest.raises(DatasetError, match=r"must have sha256 193478df.*; got sha256 [0-9a-f]{64}\. The download "
                                           r"was deleted"):
        fetch_file("epoch_chinchilla", EPOCH_FILE, download=True)
    assert files_in(isolated["cache"]) == []


def test_mirror_is_preferred_over_cache(isolated: dict[str, Path]) -> None:
    good = isolated["mirror"] / "epoch_chinchilla" / EPOCH_FILE
    good.parent.mkdir(parents=True)
    good.write_bytes(epoch_bytes())
    assert fetch_file("epoch_chinchilla", EPOCH_FILE, download=False) == good


def test_mirror_file_edited_after_verification_is_rechecked(isolated: dict[str, Path]) -> None:
    path = isolated["mirror"] / "epoch_chinchilla" / EPOCH_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(epoch_bytes())
    fetch_file("epoch_chinchilla", EPOCH_FILE, download=False)
    path.write_bytes(epoch_bytes() + b"\n")  # size (and mtime) change -> the memo does not apply
    with pytest.raises(DatasetError, match="sha256"):
        fetch_file("epoch_chinchilla", EPOCH_FILE, download=False)


def test_cache_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path / "c"))
    assert registry.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SCALING_CACHE_DIR")
    assert registry.cache_dir().name == "scaling"
    monkeypatch.delenv("SCALING_DATA_DIR", raising=False)
    assert registry.data_dir() is None


# ----------------------------------------------------------------------------------------------
# epoch_chinchilla


def test_epoch_chinchilla() -> None:
    t = load_or_skip("epoch_chinchilla")
    df = frame_of(t)
    assert len(df) == 245
    n, c, d = df["n_params"].to_numpy(), df["flops"].to_numpy(), df["n_tokens"].to_numpy()
    np.testing.assert_allclose(d, c / (6 * n), rtol=1e-12)
    assert n.min() == pytest.approx(5.73e7, rel=1e-3) and n.max() == pytest.approx(1.62e10, rel=1e-2)
    assert c.min() == pytest.approx(1.40e18, rel=1e-2) and c.max() == pytest.approx(1.30e22, rel=1e-2)
    assert df["loss"].min() == pytest.approx(2.077, abs=1e-3) and df["loss"].max() == pytest.approx(5.006, abs=1e-3)
    assert {"x", "y", "color", "hex_color"} <= set(df.columns)
    assert t.meta["dataset"] == "epoch_chinchilla"


def test_epoch_chinchilla_drop_highest_loss() -> None:
    t = load_or_skip("epoch_chinchilla", drop_highest_loss=5)
    df, exc = frame_of(t), excluded_of(t)
    assert len(df) == 240 and len(exc) == 5
    assert df["loss"].max() < exc["loss"].min()
    np.testing.assert_allclose(np.sort(exc["loss"].to_numpy())[-2:], [4.665232074214, 5.005581996196243])


# ----------------------------------------------------------------------------------------------
# gadre_overtraining


def test_gadre_overtraining_matches_flat_table() -> None:
    t = load_or_skip("gadre_overtraining")
    df = frame_of(t)
    assert len(df) == 104
    flat = pd.read_csv(mirror_file("gadre_overtraining", "derived/gadre_models_flat.csv")).set_index("name")
    flat = flat.loc[df["run"].to_numpy()]
    pairs = {"n_params": "N", "n_params_nonembedding": "N_no_embed", "n_tokens": "D",
             "token_multiplier": "token_multiplier_M", "chinchilla_multiplier": "chinchilla_multiplier",
             "loss": "loss_c4_val", "loss_lower95": "loss_lower95_c4_val", "lr": "lr"}
    for ours, theirs in pairs.items():
        np.testing.assert_array_equal(df[ours].to_numpy(dtype=float), flat[theirs].to_numpy(dtype=float), ours)
    for split in P.GADRE_SPLITS:
        np.testing.assert_array_equal(df[f"loss_{split}"].to_numpy(), flat[f"loss_{split}"].to_numpy())
    assert df["model_config"].tolist() == flat["model_config"].tolist()
    assert (df["group"] == flat["dataset_name"].to_numpy()).all()
    # C = 6ND in float (the int64 product overflows for the large runs)
    np.testing.assert_allclose(df["flops"], 6.0 * df["n_params"] * df["n_tokens"], rtol=1e-12)
    # downstream accuracies of the 46 tasks, as the flat table; average errors over the 46 and the 17
    for task in P.GADRE_TASKS:
        np.testing.assert_array_equal(df[f"acc_{task}"].to_numpy(), flat[f"acc_{task}"].to_numpy(), task)
    assert len(P.GADRE_TASKS) == 46 and len(P.GADRE_SUBSET) == 17 and set(P.GADRE_SUBSET) <= set(P.GADRE_TASKS)
    np.testing.assert_allclose(df["err_avg_subset"], 1 - flat[[f"acc_{t}" for t in P.GADRE_SUBSET]].mean(axis=1),
                               rtol=1e-12)


def test_gadre_overtraining_ranges() -> None:
    df = frame_of(load_or_skip("gadre_overtraining"))
    assert sorted(df["group"].unique()) == ["c4_original", "rpj", "rw_original"]
    assert df.groupby("group").size().tolist() == [34, 35, 35]  # c4_original has 7 runs of the 412M shape
    m = df["token_multiplier"].to_numpy()
    np.testing.assert_allclose(m, df["n_tokens"] / df["n_params"], rtol=0.02)
    assert set(np.round(m, 6)) >= {5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0}
    sizes = sorted(df.groupby("model_config")["n_params"].first())
    assert sizes == [10569312.0, 78914048.0, 153677376.0, 411616256.0, 1439795200.0, 6889410560.0]
    assert (df["n_params_nonembedding"] < df["n_params"]).all()
    assert df["loss"].between(2.0, 6.5).all()


def test_gadre_overtraining_split_option() -> None:
    a = frame_of(load_or_skip("gadre_overtraining", split="paloma_ptb"))
    np.testing.assert_array_equal(a["loss"].to_numpy(), a["loss_paloma_ptb"].to_numpy())
    assert not np.array_equal(a["loss"].to_numpy(), a["loss_c4_val"].to_numpy())


# ----------------------------------------------------------------------------------------------
# porian_resolving

PORIAN_CFG = ["source_file", "dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]


def test_porian_isoflop_points_match_derived() -> None:
    t = load_or_skip("porian_resolving")
    df = frame_of(t)
    assert len(df) == 1745
    assert df["group"].nunique() == 15
    ref = pd.read_csv(mirror_file("porian_resolving", "derived/porian_isoflop_points.csv"))
    for col in PORIAN_CFG:
        assert df[col].astype(str).tolist() == ref[col].astype(str).tolist(), col
    for ours, theirs in {"flops": "flops", "n_params": "N", "n_tokens": "D", "loss": "L"}.items():
        np.testing.assert_array_equal(df[ours].to_numpy(dtype=float), ref[theirs].to_numpy(dtype=float), ours)
    assert df["group"].iloc[0] == "rw/base/long/kaplan/kaplan/train"
    assert df["flops"].min() == 1.25e16 and df["flops"].max() == 2.56e19


def test_porian_optimal_pairs_match_derived() -> None:
    t = load_or_skip("porian_resolving", table="optimal_pairs")
    df, exc = frame_of(t), excluded_of(t)
    assert len(df) + len(exc) == 177 and len(exc) == 4
    ref = pd.read_csv(mirror_file("porian_resolving", "derived/porian_optimal_pairs.csv"))
    assert ref["n"].isna().sum() == 4
    ref = ref.dropna(subset=["n"]).reset_index(drop=True)
    for ours, theirs in {"flops": "flops", "n_params": "n", "n_tokens": "t", "loss": "loss",
                         "n_star_std": "n_star_std", "multiplier": "multiplier"}.items():
        np.testing.assert_array_equal(df[ours].to_numpy(dtype=float), ref[theirs].to_numpy(dtype=float), ours)
    for col in PORIAN_CFG:
        assert df[col].astype(str).tolist() == ref[col].astype(str).tolist(), col


def test_porian_fit_results_match_derived() -> None:
    fr = load_or_skip("porian_resolving", table="fit_results")
    assert isinstance(fr, pd.DataFrame) and len(fr) == 15
    ref = pd.read_csv(mirror_file("porian_resolving", "derived/porian_fit_results_basic.csv"))
    pd.testing.assert_frame_equal(fr.drop(columns="group"), ref, check_dtype=False)
    assert fr["group"].is_unique
    assert fr.attrs["dataset"] == "porian_resolving"


def test_porian_ols_exponents_reproduce_the_chain() -> None:
    """OLS of log N* on log C over the optimal pairs: RefinedWeb 0.834, 0.701, 0.604, 0.571, 0.497."""
    df = frame_of(load_or_skip("porian_resolving", table="optimal_pairs"))
    chain = ["rw/base/long/kaplan/kaplan/train", "rw/base/long/kaplan/standard/val",
             "rw/base/short/kaplan/standard/val", "rw/base/short/chinchilla/standard/val",
             "rw/tuned/short/const/standard/val"]
    exponents = []
    for group in chain:
        g = df[df["group"] == group]
        slope = np.polyfit(np.log(g["flops"].to_numpy(float)), np.log(g["n_params"].to_numpy(float)), 1)[0]
        exponents.append(slope)
    np.testing.assert_allclose(exponents, [0.834, 0.701, 0.604, 0.571, 0.497], atol=0.005)
    # and the authors' own basic fits, to ~1e-12
    fr = load_or_skip("porian_resolving", table="fit_results").set_index("group")
    np.testing.assert_allclose(exponents, fr.loc[chain, "n_exponent"].to_numpy(), rtol=1e-10)


# ----------------------------------------------------------------------------------------------
# muennighoff_datablations


def test_datablations_runs_match_derived() -> None:
    t = load_or_skip("muennighoff_datablations")
    df = frame_of(t)
    assert len(df) == 296
    ref = pd.read_csv(mirror_file("muennighoff_datablations", "derived/datablations_c4_runs.csv"))
    assert df["run"].tolist() == ref["run_key"].tolist()
    assert df["name"].tolist() == ref["name"].tolist()
    for ours, theirs in {"n_params": "N", "n_tokens": "D", "n_unique_tokens": "U", "loss": "L",
                         "epochs": "epochs"}.items():
        np.testing.assert_array_equal(df[ours].to_numpy(dtype=float), ref[theirs].to_numpy(dtype=float), ours)
    np.testing.assert_array_equal(pd.to_numeric(df["seed"], errors="coerce").to_numpy(dtype=float),
                                  ref["seed"].to_numpy(dtype=float))
    assert df["flag_double_descent"].astype(bool).tolist() == ref["flag_double_descent"].tolist()
    ours_c = [None if pd.isna(v) else v for v in df["source_comment"]]
    theirs_c = [None if pd.isna(v) else v for v in ref["source_comment"]]
    assert ours_c == theirs_c


def test_datablations_excluded_entries() -> None:
    t = load_or_skip("muennighoff_datablations")
    exc = excluded_of(t)
    ref = pd.read_csv(mirror_file("muennighoff_datablations", "derived/datablations_excluded_entries.csv"))
    assert len(exc) == len(ref) == 21
    key = "run" if "run" in exc.columns else "run_key"
    assert exc[key].tolist() == ref["run_key"].tolist()
    reasons = exc["reason"].astype(str).tolist()
    for ours, theirs in zip(reasons, ref["reason"], strict=True):
        assert theirs in ours


def test_datablations_double_descent_points() -> None:
    df = frame_of(load_or_skip("muennighoff_datablations"))
    sel = df[(df["n_params"] == 1.41e7) & (df["n_unique_tokens"] == 1e8)].set_index("n_tokens")["loss"]
    assert sel.loc[14e9] == pytest.approx(4.383, abs=5e-4)
    assert sel.loc[20e9] == pytest.approx(4.510, abs=5e-4)
    assert sel.loc[900e9] == pytest.approx(4.304, abs=5e-4)


def test_datablations_parse_matches_the_notebook_output() -> None:
    """The second cell's saved output (the authors' own parse: name N D U loss) is reproduced line by line."""
    nb = json.loads(mirror_file("muennighoff_datablations", "utils/parametric_fit.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    text = "".join("".join(o.get("text", [])) for o in code[1]["outputs"])
    printed = [ln.split() for ln in text.splitlines() if len(ln.split()) == 5]
    df = frame_of(load_or_skip("muennighoff_datablations"))
    assert len(printed) == len(df) == 296
    for (name, n, d, u, loss), row in zip(printed, df.itertuples(index=False), strict=True):
        assert (name, float(n), float(d), float(u), float(loss)) == (
            row.name, row.n_params, row.n_tokens, row.n_unique_tokens, row.loss)


def test_datablations_name_parser_quirks() -> None:
    params = {"4b2": 4.2465e9, "14m": 1.41e7, "2b8": 2.81e9}
    tokens = {"100m": 0.1, "1b25": 1.25, "14b": 14}
    assert P.datablations_parse_name("14m14b100m", params, tokens) == ("14m14b100m", 1.41e7, 14e9, 1e8)
    assert P.datablations_parse_name("2b855b1b25c4seed3", params, tokens) == ("2b855b1b25", 2.81e9, 55e9, 1.25e9)
    # the authors' parse of an 'opt2' run (kept as is, documented in meta)
    name, n, d, u = P.datablations_parse_name("4b284b12bc4opt2", params, tokens)
    assert (name, n) == ("4b284b12b2", 4.2465e9)
    assert d == pytest.approx(84.1e9) and u == pytest.approx(2.2e9)
    with pytest.raises(DatasetError, match="prefixed by a key of PARAMS_MAP"):
        P.datablations_parse_name("9x1b1b", params, tokens)


def test_notebook_is_never_executed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing uses ast.literal_eval only: exec/eval/compile-to-exec are never called."""
    import builtins

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("notebook code must not be executed")

    monkeypatch.setattr(builtins, "exec", boom)
    monkeypatch.setattr(builtins, "eval", boom)
    path = mirror_file("muennighoff_datablations", "utils/parametric_fit.ipynb")
    parsed = P.parse_muennighoff_datablations(lambda p: path)
    assert len(parsed.frame) == 296


def test_literal_dicts_reject_code(tmp_path: Path) -> None:
    src = 'NAMES_TO_VAL_LOSSES = {"a": __import__("os").system("true")}\nTOKENS_MAP = {}\nPARAMS_MAP = {}\n'
    nb = {"cells": [{"cell_type": "code", "source": [src], "outputs": []}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(DatasetError, match=r"File 'utils/parametric_fit.ipynb' must be a notebook whose first "
                                           r"code cell assigns .* dict literals; got ValueError"):
        P.parse_muennighoff_datablations(lambda p: path)


# ----------------------------------------------------------------------------------------------
# colpret_curves


def test_colpret_gpt3() -> None:
    t = load_or_skip("colpret_curves")
    df = frame_of(t)
    assert len(df) == 5591
    assert df["run"].unique().tolist() == ["small", "medium", "large", "xl", "2.7b", "6.7b", "13b", "175b"]
    params = df.groupby("run", sort=False)["n_params"].first()
    assert params.tolist() == [125e6, 350e6, 760e6, 1.3e9, 2.7e9, 6.7e9, 13e9, 175e9]
    np.testing.assert_allclose(df["n_tokens"], df["tokens_billions"] * 1e9)
    assert df["n_tokens"].min() == pytest.approx(9.55e9, rel=1e-3)
    assert df["n_tokens"].max() == pytest.approx(300.04e9, rel=1e-4)
    # points sharing a token count stay, numbered by step along each curve
    assert df.duplicated(["run", "n_tokens"]).any()
    assert not df.duplicated(["run", "step"]).any()
    for _, g in df.groupby("run"):
        assert g["step"].tolist() == list(range(len(g)))
        assert g["n_tokens"].is_monotonic_increasing
    assert "train_loss" in t.meta["notes"]["loss"]


def test_colpret_gpt3_val_loss_and_metadata() -> None:
    val = frame_of(load_or_skip("colpret_curves", loss="val_loss"))
    assert len(val) == 6506
    train = frame_of(load_or_skip("colpret_curves"))
    assert set(val["source_row"]).isdisjoint(set(train["source_row"]))
    assert len(val) + len(train) == 12097
    import openpyxl  # noqa: F401  (test extra: fail, never skip, when missing)
    meta = train.groupby("run", sort=False)[["n_layers", "d_model", "n_heads"]].first()
    assert meta["n_layers"].tolist() == [12, 24, 24, 24, 32, 32, 40, 96]
    assert meta["d_model"].tolist() == [768, 1024, 1536, 2048, 2560, 4096, 5140, 12288]
    assert train.groupby("run", sort=False)["lr"].first().tolist() == pytest.approx(
        [6e-4, 3e-4, 2.5e-4, 2e-4, 1.6e-4, 1.2e-4, 1e-4, 0.6e-4])


def test_colpret_gpt3_table_matches_the_xlsx_counts() -> None:
    import openpyxl  # noqa: F401  (test extra: fail, never skip, when missing)
    path = mirror_file("colpret_curves", "raw_data/gpt3/gpt3_metadata.xlsx")
    m = P._gpt3_metadata(lambda p: path)
    assert m is not None
    from scaling.units import parse_count
    assert [parse_count(s) for s in m["n_params_table"]] == list(P.GPT3_N_PARAMS.values())


def test_colpret_datablations() -> None:
    t = load_or_skip("colpret_curves", part="datablations")
    df = frame_of(t)
    assert len(df) == 9261
    assert df["run"].nunique() == 48
    assert sorted(df["group"].unique()) == ["c4", "oscar"]
    assert sorted(df["n_params"].unique()) == [2.81e9, 4.2465e9, 8.67e9]
    np.testing.assert_allclose(df["flops"], 6.0 * df["n_params"] * df["n_tokens"], rtol=1e-12)
    # flops are derived: they increase along every curve (the upstream column decreases)
    for _, g in df.groupby("run"):
        assert np.all(np.diff(g.sort_values("n_tokens")["flops"].to_numpy()) > 0)
    raw = pd.read_csv(mirror_file("colpret_curves", "aggregated_eval/datablations_losses.csv"))
    np.testing.assert_array_equal(df["n_unique_tokens"].to_numpy(), raw["tokens_per_epoch"].to_numpy())
    np.testing.assert_array_equal(df["loss"].to_numpy(), raw["loss"].to_numpy())
    assert "ignored" in t.meta["notes"]["flops"]


# ----------------------------------------------------------------------------------------------
# meta


@pytest.mark.parametrize("name", NAMES)
def test_meta_records_provenance(name: str) -> None:
    t = load_or_skip(name)
    spec = get_dataset(name)
    expected = {"dataset": name, "source": spec.source, "license": spec.license, "arxiv": spec.arxiv}
    if isinstance(t, pd.DataFrame):  # a plain table (obsscaling: models with scores, not runs)
        meta = t.attrs
    else:
        meta = t.meta
        expected["n_params_convention"] = spec.n_params_convention
    for key, value in expected.items():
        assert meta[key] == value


def test_nothing_written_to_the_cache_when_the_mirror_has_it() -> None:
    load_or_skip("epoch_chinchilla")
    cache = Path(os.environ["SCALING_CACHE_DIR"])
    assert not (cache / "epoch_chinchilla").exists()


def test_mirror_copy_into_cache_roundtrip(isolated: dict[str, Path]) -> None:
    """A cache laid out like the mirror is used offline (as after a download)."""
    cached = isolated["cache"] / "epoch_chinchilla" / EPOCH_FILE
    cached.parent.mkdir(parents=True)
    shutil.copyfile(mirror_file("epoch_chinchilla", EPOCH_FILE), cached)
    assert fetch_file("epoch_chinchilla", EPOCH_FILE, download=False) == cached


def test_dataset_error_is_a_data_error() -> None:
    assert issubclass(DatasetError, DataError)
