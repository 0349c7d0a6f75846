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
    assert "avi.dashboard(" not in text  # no widget-only output in static exports


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
