"""The example notebooks run top to bottom (each against its own local sandbox) and export.

Each notebook is executed with nbclient in a fresh kernel, with ``notebooks/`` as the
working directory, exactly as ``./run main`` does; then exported with nbconvert, with code
and without.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from apivideo_insights._demo import default_notebooks_dir, export_notebook, run_notebook

pytestmark = pytest.mark.notebooks

NOTEBOOKS = sorted(default_notebooks_dir().glob("*.ipynb"))
EXPECTED = [
    "01-quickstart.ipynb",
    "02-retention-and-heatmaps.ipynb",
    "03-live-streams.ipynb",
    "04-data-metrics.ipynb",
    "05-record-players.ipynb",
]


def test_the_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_clean_with_a_parameters_cell(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs in git"
    first = code[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert "API_KEY = None" in first.source and "BASE_URL = None" in first.source
    text = "\n".join(c.source for c in code)
    assert "import apivideo_insights as avi" in text
    assert "progress=False" in text
    # Widget cells run in a live kernel only: nbclient skips cells tagged skip-execution,
    # so static exports hold no widget output.
    for cell in code:
        if "avi.dashboard(" in cell.source:
            assert "skip-execution" in cell.metadata.get("tags", []), cell.source
    # No cell stops the sandbox: a live kernel keeps working after "Run All".
    assert not re.search(r"^\s*sandbox\.stop\(\)", text, re.M)
    if "avi.sandbox.serve()" in text:
        assert "atexit.register(sandbox.stop)" in text


def test_dashboard_works_after_run_all_in_a_live_kernel():
    """What a user does in JupyterLab: Run All (the dashboard cell included), then use the
    dashboard's controls. The added last cell plays the user."""
    import nbformat.v4 as v4
    from nbclient import NotebookClient

    path = default_notebooks_dir() / "02-retention-and-heatmaps.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert any("avi.dashboard(api)" in c.source for c in nb.cells)
    nb.cells.append(
        v4.new_code_cell(
            "ui.view.value = 'heatmap'\n"
            "ui.video.value = ui.video.options[-1][1]\n"
            "ui.cohort.value = 'device_type'\n"
            "ui.view.value = 'retention'\n"
            "assert ui.result is not None, ui.status.value\n"
            "assert 'Error' not in ui.status.value, ui.status.value\n"
            "print('dashboard ok:', ui.status.value)"
        )
    )
    client = NotebookClient(
        nb,
        timeout=120,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        skip_cells_with_tag="run-everything",  # a live frontend runs the widget cell too
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes
    last = nb.cells[-1].outputs
    assert any("dashboard ok: retention of" in o.get("text", "") for o in last), last


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_runs_and_exports(path: Path, tmp_path: Path):
    nb = run_notebook(path, timeout=120)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    tables = [o for o in outputs if "text/html" in o.get("data", {})]
    assert images and tables
    # No progress bars or widgets in static outputs.
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" not in mimes
    assert not any("it/s]" in str(o.get("text", "")) for o in outputs)

    with_code = export_notebook(nb, code=True)
    no_code = export_notebook(nb, code=False)
    (tmp_path / f"{path.stem}.html").write_text(with_code, encoding="utf-8")
    for page in (with_code, no_code):
        assert "data:image/png;base64," in page
        assert "<script" not in page  # offline: no require.js, MathJax or widget manager
        assert not re.search(r"""(src|href)=["']https?://""", page)
    code_blocks = re.compile(r'class="highlight hl-ipython3"')
    assert len(code_blocks.findall(with_code)) >= 5
    assert not code_blocks.findall(no_code)
    assert "import apivideo_insights" not in no_code
    # The parameters cell is dropped from the code-free page; no key is shown anywhere.
    assert "API_KEY" not in no_code
    for page in (with_code, no_code):
        assert not re.search(r"sb_[\w-]{8,}", page)
