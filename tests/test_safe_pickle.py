"""The restricted unpickler refuses every global outside its allow-list, before running anything."""

from __future__ import annotations

import io
import lzma
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.datasets.safe_pickle import (
    ALLOWED_GLOBALS,
    RestrictedUnpickler,
    UnsafePickleError,
    safe_load,
    safe_loads,
)
from scaling.errors import DataError, DatasetError

PORIAN_FILES = ["data/summary_df.pickle.xz", "data/summary_df_att.pickle.xz",
                "data/summary_df_kaplan_tuned_hparams.pickle.xz", "data/summary_df_owt2.pickle.xz"]


def _global_pickle(module: str, name: str, arg: str = "x") -> bytes:
    """Protocol-0 pickle calling ``module.name(arg)``: GLOBAL, one-tuple argument, REDUCE."""
    return f"c{module}\n{name}\n(V{arg}\ntR.".encode()


class _RunsCommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_os_system_payload_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsCommand(marker), protocol=5)
    # the payload is real: the standard unpickler would run it (checked on a harmless copy below)
    with pytest.raises(UnsafePickleError, match=r"refused global '(posix|os|nt)\.system'") as info:
        safe_loads(payload, source="evil.pickle")
    assert "evil.pickle" in str(info.value)
    assert not marker.exists()
    # the same error is a DatasetError/DataError/ValueError and a pickle.UnpicklingError
    assert isinstance(info.value, DatasetError) and isinstance(info.value, DataError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, pickle.UnpicklingError)


def test_payload_is_live_with_the_standard_unpickler(tmp_path: Path) -> None:
    """Guard that the test above would fail if refusal did not happen: plain pickle runs it."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_RunsCommand(marker)))  # noqa: S301 - deliberate, on our own payload
    assert marker.exists()


@pytest.mark.parametrize("module,name", [
    ("builtins", "eval"), ("builtins", "exec"), ("builtins", "__import__"), ("builtins", "getattr"),
    ("subprocess", "Popen"), ("posix", "system"), ("os", "system"), ("nt", "system"),
    ("numpy", "load"), ("pandas", "read_pickle"), ("pandas.core.frame", "eval"),
    ("numpy.core.multiarray", "frombuffer"), ("pandas.io.pickle", "read_pickle"),
])
def test_dangerous_globals_are_refused(module: str, name: str, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    arg = f"open({str(marker)!r}, 'w')" if name == "eval" else f"touch {marker}"
    with pytest.raises(UnsafePickleError, match=f"refused global '{module}.{name}'"):
        safe_loads(_global_pickle(module, name, arg))
    assert not marker.exists()


def test_refusal_happens_before_import() -> None:
    """A refused module is never imported (no import side effects, no ImportError leak)."""
    with pytest.raises(UnsafePickleError, match="refused global 'no_such_module_xyz.f'"):
        safe_loads(_global_pickle("no_such_module_xyz", "f"))


def test_subprocess_popen_via_reduce(tmp_path: Path) -> None:
    marker = tmp_path / "popen"

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (subprocess.Popen, (["touch", str(marker)],))

    with pytest.raises(UnsafePickleError, match="refused global 'subprocess.Popen'"):
        safe_loads(pickle.dumps(Evil()))
    assert not marker.exists()


@settings(max_examples=60, deadline=None)
@given(module=st.from_regex(r"[a-z_][a-z0-9_.]{0,20}", fullmatch=True),
       name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True))
def test_any_global_outside_the_allow_list_is_refused(module: str, name: str) -> None:
    if (module, name) in ALLOWED_GLOBALS:
        return
    with pytest.raises(UnsafePickleError, match="refused global"):
        safe_loads(_global_pickle(module, name))


def test_numpy_arrays_round_trip() -> None:
    arr = np.linspace(0.0, 1.0, 7).reshape(7, 1)
    out = safe_loads(pickle.dumps(arr, protocol=5))
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.float64


def test_corrupt_input_raises_our_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafePickleError, match="must be a valid pickle"):
        safe_loads(b"\x80\x05garbage")
    bad = tmp_path / "bad.pickle.xz"
    bad.write_bytes(b"not xz at all")
    with pytest.raises(UnsafePickleError, match="must decompress as xz"):
        safe_load(bad)
    with pytest.raises(UnsafePickleError, match="Persistent id"):
        safe_loads(b"P1\n.")


def test_safe_load_decompresses_by_suffix(tmp_path: Path) -> None:
    arr = np.arange(5.0)
    path = tmp_path / "a.pickle.xz"
    path.write_bytes(lzma.compress(pickle.dumps(arr)))
    np.testing.assert_array_equal(safe_load(path), arr)


def _local(path: str) -> Path:
    from scaling.datasets import fetch_file

    try:
        return fetch_file("porian_resolving", path, download=False)
    except DatasetError as exc:
        if "sha256" in str(exc):
            raise
        from conftest import REQUIRE_DATA
        if REQUIRE_DATA:
            pytest.fail(f"dataset not available: {exc}")
        pytest.skip(f"dataset not available: {exc}")


def test_allow_list_is_exactly_what_the_porian_pickles_need() -> None:
    """Record every global the four published files request: it is the allow-list, no more, no less."""
    requested: set[tuple[str, str]] = set()

    class Recording(RestrictedUnpickler):
        def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
            obj = super().find_class(module, name)
            requested.add((module, name))
            return obj

    import pandas as pd

    for path in PORIAN_FILES:
        obj = Recording(io.BytesIO(lzma.decompress(_local(path).read_bytes())), source=path).load()
        assert isinstance(obj, pd.DataFrame)
        assert isinstance(obj["data"].iloc[0], pd.DataFrame)  # nested frames rebuilt
    from scaling.datasets.safe_pickle import _ALIASES

    resolved = {_ALIASES.get(k, k) for k in requested}
    assert resolved == set(ALLOWED_GLOBALS)


def test_porian_pickle_contents() -> None:
    df = safe_load(_local("data/summary_df.pickle.xz"))
    assert df.shape == (5, 11)
    assert list(df["dataset"]) == ["rw"] * 5
    assert df["fit_results"].iloc[4]["basic"]["n_exponent"] == pytest.approx(0.4970288, abs=1e-7)
