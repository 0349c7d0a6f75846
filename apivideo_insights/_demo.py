"""The main job (``./run main`` = ``avi demo --out reports``).

Starts the local sandbox, prints the videos and sessions it serves as DataFrames, writes the
self-contained HTML report, then executes every example notebook with nbclient and exports
each to HTML twice with nbconvert: with code (``<name>.html``) and without
(``<name>.no-code.html``, nbconvert's ``--no-input``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["default_notebooks_dir", "export_notebook", "main", "run_notebook"]

_SESSION_COLUMNS = (
    "session_id",
    "video_id",
    "loaded_at",
    "ended_at",
    "location_country",
    "device_type",
    "os_name",
    "client_name",
    "referrer_medium",
)


def default_notebooks_dir() -> Path:
    """``notebooks/`` of the source checkout this package runs from."""
    return Path(__file__).resolve().parent.parent / "notebooks"


def run_notebook(path: Path, *, timeout: int = 120) -> Any:
    """Execute a notebook with nbclient (cwd = its folder) and return the executed node.

    Raises ``nbclient.exceptions.CellExecutionError`` when a cell fails.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel's own warnings (e.g. "running over TCP") are not the notebook's output.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        # Static reports: no widget state, whose viewer would load scripts from a CDN.
        store_widget_state=False,
    )
    client.execute()
    return nb


def export_notebook(nb: Any, *, code: bool = True) -> str:
    """An executed notebook as one HTML page; ``code=False`` hides every input cell."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    if not code:
        config.TemplateExporter.exclude_input = True
        config.TemplateExporter.exclude_input_prompt = True
        config.TemplateExporter.exclude_output_prompt = True
        # The parameters cell has no output; leave no empty box for it.
        config.TagRemovePreprocessor.remove_cell_tags = {"remove_cell", "parameters"}
    templates = Path(__file__).resolve().parent / "templates"
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_template_paths=[str(templates)],
        template_file="offline-notebook.html.j2",
    )
    body, _ = exporter.from_notebook_node(nb)
    return str(body)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="avi demo",
        description="Start the local sandbox, show its data, write the report and notebooks.",
    )
    p.add_argument("--out", default="reports", help="output folder (reports)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated world")
    p.add_argument("--notebooks", default=None, help="folder of .ipynb files (notebooks/)")
    p.add_argument("--no-notebooks", action="store_true", help="skip the notebooks")
    p.add_argument("--timeout", type=int, default=120, help="seconds allowed per notebook cell")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns 0 when everything was written, 1 if a notebook failed."""
    from ._frames import load_frames
    from .client import connect
    from .report import report
    from .sandbox import serve, simulate

    args = _parser().parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    print(f"Simulating a project (seed {args.seed}) and serving it on 127.0.0.1 ...", flush=True)
    with serve(simulate(seed=args.seed)) as sb:
        api = connect(sb.api_key, base_url=sb.base_url, cache=None, progress=False)
        print(f"Sandbox at {sb.base_url}\n", flush=True)
        data = load_frames(api)
        with pd.option_context(
            "display.width", 160, "display.max_columns", 12, "display.max_colwidth", 40
        ):
            videos = data.videos
            show = [c for c in ("video_id", "title", "tags", "published_at") if c in videos]
            print(f"Videos ({len(videos)}):\n{videos[show].to_string(index=False)}\n")
            sessions = data.sessions if data.sessions is not None else pd.DataFrame()
            cols = [c for c in _SESSION_COLUMNS if c in sessions.columns]
            print(f"Video sessions ({len(sessions):,}; first 15):")
            print(sessions[cols].head(15).to_string(index=False), "\n")
            if data.live_sessions is not None:
                print(f"Live sessions: {len(data.live_sessions):,}\n")
        path = report(data, out / "report.html", title="api.video sandbox: video analytics")
        print(f"wrote {path} ({path.stat().st_size / 1e3:,.0f} kB)", flush=True)

    failed = 0
    if not args.no_notebooks:
        folder = Path(args.notebooks) if args.notebooks else default_notebooks_dir()
        books = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if not books:
            print(f"no notebooks in {folder}; skipped", file=sys.stderr)
        for book in books:
            t0 = time.monotonic()
            try:
                nb = run_notebook(book, timeout=args.timeout)
            except Exception as exc:  # report and go on with the other notebooks
                failed += 1
                # A cell error carries the exception's name and value; the rest is the cell.
                what = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}"
                print(f"FAILED {book.name}: {what}", file=sys.stderr)
                continue
            for suffix, code in ((".html", True), (".no-code.html", False)):
                target = out / f"{book.stem}{suffix}"
                target.write_text(export_notebook(nb, code=code), encoding="utf-8")
                print(f"wrote {target}", flush=True)
            print(f"  ({book.name} ran in {time.monotonic() - t0:.1f} s)", flush=True)
    print(f"done in {time.monotonic() - started:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
