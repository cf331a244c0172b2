"""Shared test configuration.

Real-data tests read the published datasets through the registry. Point ``SCALING_DATA_DIR`` at an
offline mirror (CI uses ``../shared/data``); without it, and with nothing in the user cache, such tests
are *skipped* with "dataset not available" — unless ``SCALING_REQUIRE_DATA=1``, which turns that skip
into a failure so CI always exercises the real data.
"""

from __future__ import annotations

import os

# The suite is many small numerical problems: BLAS threads only add contention on a 2-core runner.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]
REQUIRE_DATA = os.environ.get("SCALING_REQUIRE_DATA", "") not in ("", "0", "false", "no")

# A checkout next to the shared mirror (the developers' layout) finds it without configuration.
if "SCALING_DATA_DIR" not in os.environ and (REPO.parent / "shared" / "data").is_dir():
    os.environ["SCALING_DATA_DIR"] = str(REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never touch the user's real cache from the test-suite."""
    if "SCALING_CACHE_DIR" not in os.environ:
        os.environ["SCALING_CACHE_DIR"] = str(tmp_path_factory.mktemp("scaling-cache"))


def load_or_skip(name: str, **kwargs):  # type: ignore[no-untyped-def]
    """``load_dataset(name, **kwargs)``, or skip (fail under SCALING_REQUIRE_DATA=1) when unavailable."""
    from scaling.datasets import load_dataset
    from scaling.errors import DatasetError

    try:
        return load_dataset(name, download=False, **kwargs)
    except DatasetError as exc:
        if "sha256" in str(exc):
            raise
        msg = f"dataset not available: {name} ({exc})"
        if REQUIRE_DATA:
            pytest.fail(msg + " [SCALING_REQUIRE_DATA=1]")
        pytest.skip(msg)
