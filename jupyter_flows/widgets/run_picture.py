"""How a snapshot of a flow run looks: a headline, a count per state, the DAG (SVG from
graphviz, or text when the ``dot`` program is missing) and the failed task runs."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_flows.widgets.dag import DagView
    from jupyter_flows.widgets.live import Snapshot

__all__ = ["MAX_ERRORS", "run_bundle"]

MAX_ERRORS = 10
"""How many failed task runs a picture lists; the rest are counted."""


def _svg(view: DagView) -> tuple[str | None, str]:
    """The SVG, or None and why not (no ``dot`` program, no graphviz package)."""
    from jupyter_flows.widgets.dag import INSTALL_DOT

    try:
        import graphviz
    except ImportError:
        return None, "the graphviz package is missing: pip install 'jupyter-flows[notebook]'"
    try:
        svg = view.svg()
    except graphviz.ExecutableNotFound:
        svg = None
    if svg is None:
        return None, INSTALL_DOT
    # inline in HTML: drop the XML prolog and doctype the standalone file needs
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else svg), ""


def _counts_line(counts: dict[str, int]) -> str:
    return "  ".join(f"{name}: {n}" for name, n in sorted(counts.items()))


def _headline(name: str, snap: Snapshot, message: str | None) -> str:
    status = snap.status or "not started"
    if message and snap.final:
        status += f" ({message})"
    elapsed = f", {_seconds(snap.elapsed)}" if snap.elapsed is not None else ""
    return f"flow {name!r}: {status}{elapsed}"


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}m {seconds:04.1f}s" if minutes else f"{seconds:.1f}s"


def _error_lines(errors: list[tuple[str, str]]) -> list[str]:
    shown = [f"{where}: {message}" for where, message in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        shown.append(f"... and {len(errors) - MAX_ERRORS} more failed task runs")
    return shown


def run_bundle(name: str, snap: Snapshot, view: DagView, message: str | None) -> dict[str, str]:
    """``text/html`` and ``text/plain`` of ``snap`` for flow ``name``; ``view`` draws the DAG
    and ``message`` is the flow state's, shown once the run finished."""
    from jupyter_flows.widgets import dag_style as look

    svg, why_not = _svg(view)
    head = _headline(name, snap, message)
    errors = _error_lines(snap.errors)
    mapped = [f"  {slug} children: {_counts_line(counts)}"
              for slug, counts in snap.children.items()]
    dag_text = "\n".join([view.text(), *mapped])
    text = "\n".join([head, _counts_line(snap.counts), dag_text,
                      *(["errors:", *(f"  {e}" for e in errors)] if errors else []),
                      *([f"({why_not})"] if why_not else [])])
    chips = " ".join(
        f'<span style="background:{look.fill(state)};border:1px solid {look.state_color(state)};'
        f"font-family:{look.FONT};padding:1px 6px;border-radius:8px;margin-right:4px\">"
        f"{html.escape(state)}: {n}</span>"
        for state, n in sorted(snap.counts.items()))
    picture = svg if svg is not None else (
        f"<pre>{html.escape(dag_text)}</pre><p><i>{html.escape(why_not)}</i></p>")
    error_html = "".join(f"<li>{html.escape(e)}</li>" for e in errors)
    body = (f'<div class="jupyter-flows-live"><div><b>{html.escape(head)}</b></div>'
            f"<div style='margin:4px 0'>{chips}</div><div>{picture}</div>"
            + (f"<div style='color:#c62828'><b>Errors</b><ul>{error_html}</ul></div>"
               if errors else "") + "</div>")
    return {"text/html": body, "text/plain": text}
