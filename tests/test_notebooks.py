"""The notebooks are committed without outputs and run top to bottom (nbclient, kernel python3)."""

from __future__ import annotations

from pathlib import Path

import nbclient  # test extra: a missing one fails, never skips
import nbformat
import pytest

from conftest import load_or_skip

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: notebook -> datasets it reads through the registry
NEEDS = {
    "01_fit_your_own_loss_curves.ipynb": (),
    "02_reproduce_chinchilla.ipynb": (("epoch_chinchilla", {}),),
    "03_kaplan_vs_chinchilla.ipynb": (("porian_resolving", {"table": "optimal_pairs"}),),
    "04_your_own_logs.ipynb": (),
    "05_will_my_model_pass.ipynb": (("olmo_ladder", {}),),
    "06_why_bigger_models_win.ipynb": (),
}
#: 12-20 s each: several full fits (06: three quick simulations, ~30 s)
SLOW = {"01_fit_your_own_loss_curves.ipynb", "02_reproduce_chinchilla.ipynb", "04_your_own_logs.ipynb",
        "06_why_bigger_models_win.ipynb"}


def test_the_notebooks_are_listed():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NEEDS)
    readme = (NOTEBOOKS / "README.md").read_text()
    for name in NEEDS:
        assert name in readme


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: outputs committed"


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(NEEDS)])
def test_runs_top_to_bottom(name, tmp_path):
    for dataset, options in NEEDS[name]:
        load_or_skip(dataset, **options)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell and its traceback
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
