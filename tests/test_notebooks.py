"""The example notebooks run top to bottom, show their charts, and are stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))

#: Charts each notebook must show (a figure that silently fails to draw is a defect).
MIN_FIGURES = {
    "01-quickstart.ipynb": 5,
    "02-capacity-planning.ipynb": 5,
    "03-calibrate-and-backtest.ipynb": 1,
    "04-front-door-and-thresholds.ipynb": 4,
}


def test_every_notebook_is_known() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(MIN_FIGURES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # Run where a user would open it, so the notebook's own path logic is exercised.
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    figures = sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert figures >= MIN_FIGURES[path.name]
    if path.name == "01-quickstart.ipynb":
        # A process pool started from inside the kernel ran the replications.
        printed = "".join(
            out.get("text", "")
            for cell in nb.cells
            if cell.cell_type == "code"
            for out in cell.outputs
        )
        assert "8 replications on backend process" in printed
