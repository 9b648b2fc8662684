"""Run a lesson's notebook as a student would: a fresh Jupyter kernel (ipykernel, driven by nbclient) executes
its cells in order in a folder of the test's choosing. Each lesson's do-it-yourself test calls this instead
of running diy.py, so the notebook is what the lesson's numbers are checked on."""
from __future__ import annotations

import os
from pathlib import Path

import nbclient

from lessons.notebooks import SHOW_TAG, notebook

ROOT = Path(__file__).resolve().parents[2]


def run_notebook(slug: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None) -> str:
    """Execute lesson `slug`'s notebook with `cwd` as the kernel's working folder (where it saves its
    pictures) and the repository on PYTHONPATH (its `data` and `models` packages), offline.
    Returns what its code cells printed (stdout), in order; a failing cell raises CellExecutionError
    with the cell's traceback, a saved picture the last cell cannot show an AssertionError.
    `env` adds to (or overrides) the kernel's environment."""
    executed = notebook(slug)
    client = nbclient.NotebookClient(executed, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute(env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {})})
    for cell in executed.cells:  # the last cell shows each picture the script saved
        if SHOW_TAG in cell.metadata.get("tags", []):
            shown = [o for o in cell.outputs if o.output_type == "display_data" and "image/png" in o.data]
            assert len(shown) == cell.source.count("display(Image("), cell.outputs
    return "".join(output.get("text", "") for cell in executed.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.get("name") == "stdout")
