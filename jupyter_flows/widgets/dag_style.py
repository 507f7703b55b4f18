"""One look for every DAG: the notebook's graphviz pictures follow the JupyterLab panel's.

The panel (``labextension/src/models/states.ts`` and ``style/base.css``) is the reference:
states fall into seven colour groups; a node is a rounded box outlined in its group's colour
(filled with a light tint of it once it ran, succeeded or failed), with the task's name in
bold sans-serif and its state in small grey text below; edges are grey curves, dashed when
mapped; the graph runs left to right. ``tests/test_dag_view.py`` checks that this table and
the panel's agree.
"""

from __future__ import annotations

__all__ = ["CATEGORY", "COLORS", "EDGE_COLOR", "FONT", "SUBLABEL_COLOR", "TINTED", "category",
           "fill", "state_color"]

# state name -> colour group, as the panel's states.ts groups them
CATEGORY: dict[str, str] = {
    "Pending": "pending", "Paused": "pending",
    "Scheduled": "waiting", "Retrying": "waiting",
    "Submitted": "running", "Running": "running",
    "Success": "success", "Cached": "success", "Mapped": "success",
    "Skipped": "skipped",
    "Failed": "failed", "TriggerFailed": "failed", "TimedOut": "failed", "Crashed": "failed",
    "Cancelling": "cancelled", "Cancelled": "cancelled",
}  # fmt: skip

# group -> colour: the fallbacks of the panel's --jp-flows-* variables (JupyterLab's light theme)
COLORS: dict[str, str] = {
    "success": "#388e3c",
    "failed": "#d32f2f",
    "running": "#1976d2",
    "waiting": "#f57c00",
    "pending": "#9e9e9e",
    "skipped": "#bdbdbd",
    "cancelled": "#757575",
}
TINTED = frozenset({"success", "failed", "running"})  # groups whose boxes get a tinted fill
TINT = 0.18  # the panel's color-mix(in srgb, <state colour> 18%, <background>)
BACKGROUND = "#ffffff"
EDGE_COLOR = "#aaaaaa"
SUBLABEL_COLOR = "#616161"
STALE_COLOR = COLORS["waiting"]
FONT = "Helvetica,Arial,sans-serif"


def category(state: str | None) -> str:
    """The colour group of a state name; unknown states (and no state) count as pending."""
    return CATEGORY.get(state or "", "pending")


def state_color(state: str | None) -> str:
    return COLORS[category(state)]


def fill(state: str | None) -> str:
    """The box's fill: a tint of the state's colour for the tinted groups, else white."""
    group = category(state)
    if group not in TINTED:
        return BACKGROUND
    return _mix(COLORS[group], BACKGROUND, TINT)


def _mix(color: str, background: str, share: float) -> str:
    a = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x * share + y * (1 - share)):02x}" for x, y in zip(a, b))
