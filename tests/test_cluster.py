"""A real cluster: dask.distributed LocalCluster with worker *processes* (not the threading backend)
gives results identical to the local run for the same seed (fit_many, bootstrap, sensitivity)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import scaling as sc

import distributed  # the 'cluster' extra, included in 'test' (a missing install fails, not skips)
import joblib

TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.36}


def synthetic(n: int = 20, groups: int = 4, seed: int = 4) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    N = np.exp(g.uniform(np.log(5e7), np.log(2e10), n * groups))
    D = np.exp(g.uniform(np.log(1e9), np.log(5e11), n * groups))
    L = TRUE["E"] + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"]
    L = L * np.exp(g.normal(0, 0.005, len(N)))
    return pd.DataFrame({"n_params": N, "n_tokens": D, "loss": L, "group": np.repeat(np.arange(groups), n)})


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_cluster_results_identical_to_local(client):
    assert all(w["type"] == "Worker" for w in client.scheduler_info()["workers"].values())
    assert len(client.scheduler_info()["workers"]) == 2
    df = synthetic()
    law = sc.get_law("chinchilla")
    grid = pd.DataFrame(law.to_natural(law.expand(law.free_grid()[::90])), columns=list(law.param_names))
    kw = dict(by="group", starts=grid, strategy="shared", pilots=1, verify=1, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = sc.fit_many(df, n_jobs=1, **kw)
        boot_local = sc.fit(df[df.group == 0], starts=grid, uncertainty=sc.Bootstrap(n=20), rng=0, n_jobs=1)
        sens_local = sc.sensitivity(df[df.group == 1], laws={"free": {"starts": grid}}, deltas=[1e-3, 1e-1],
                                    quantity="alpha", uncertainty=sc.Bootstrap(n=20), rng=0, n_jobs=1)
        with joblib.parallel_backend("dask"):
            remote = sc.fit_many(df, n_jobs=-1, **kw)
            boot_remote = sc.fit(df[df.group == 0], starts=grid, uncertainty=sc.Bootstrap(n=20), rng=0, n_jobs=-1)
            sens_remote = sc.sensitivity(df[df.group == 1], laws={"free": {"starts": grid}}, deltas=[1e-3, 1e-1],
                                         quantity="alpha", uncertainty=sc.Bootstrap(n=20), rng=0, n_jobs=-1)
    assert np.array_equal(local.objectives, remote.objectives)
    assert all(np.array_equal(a.params.to_numpy(), b.params.to_numpy()) for a, b in zip(local, remote))
    assert np.array_equal(boot_local.samples.to_numpy(), boot_remote.samples.to_numpy())
    assert np.array_equal(sens_local.table["estimate"].to_numpy(), sens_remote.table["estimate"].to_numpy())
    assert sens_local.default_interval == sens_remote.default_interval
    # the work ran on the cluster's worker processes
    executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert sum(executed.values()) > 0
