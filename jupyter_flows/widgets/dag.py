"""Pictures of a flow: its DAG as graphviz, coloured by task states, with a text fallback.

``visualize(flow, flow_state=...)`` returns a :class:`DagView`, which Jupyter shows as SVG.
Without the ``dot`` program it shows a readable text tree and says how to install graphviz.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.states import State

INSTALL_DOT = (
    "the graphviz 'dot' program is not installed, so the DAG is shown as text; install it with"
    " `apt-get install graphviz`, `brew install graphviz` or `conda install graphviz`"
)


class DagView:
    """A flow's DAG with per-task states; SVG in Jupyter, text elsewhere.

    ``marks`` puts a note on tasks by slug (a stale cell: ``"stale: edited, not run"``): the
    node is outlined dashed in orange, gets the SVG class ``stale`` and shows the note.
    """

    def __init__(self, flow: Flow, task_states: Mapping[Task, State] | None = None,
                 child_states: Mapping[Task, list[State]] | None = None,
                 marks: Mapping[str, str] | None = None) -> None:
        self.flow = flow
        self.task_states = dict(task_states or {})
        self.child_states = dict(child_states or {})
        self.marks = dict(marks or {})

    # ---------------------------------------------------------------- graphviz
    def digraph(self) -> Any:
        """The ``graphviz.Digraph`` (needs the Python package, not the dot program), drawn
        the way the JupyterLab panel draws a DAG (see ``dag_style``)."""
        try:
            import graphviz
        except ImportError:
            raise ImportError(
                "drawing a flow needs the graphviz package: pip install 'jupyter-flows[notebook]'"
            ) from None
        from jupyter_flows.core.parameter import Parameter
        from jupyter_flows.widgets import dag_style as look

        graph = graphviz.Digraph(
            self.flow.name,
            graph_attr={"rankdir": "LR", "nodesep": "0.25", "ranksep": "0.45",
                        "fontname": look.FONT, "bgcolor": "transparent"},
            node_attr={"shape": "box", "style": "rounded,filled", "penwidth": "2",
                       "fontname": look.FONT, "fontsize": "11", "margin": "0.14,0.06",
                       "height": "0.45"},
            edge_attr={"color": look.EDGE_COLOR, "penwidth": "1.5", "arrowsize": "0.7",
                       "fontname": look.FONT, "fontsize": "9",
                       "fontcolor": look.SUBLABEL_COLOR},
        )
        mapped = {e.downstream for e in self.flow.edges if e.mapped}
        for task in self.flow.sorted_tasks():
            state = self.task_states.get(task)
            slug = task.slug or task.name
            name = state.name if state is not None else "Pending"
            sub = name + (f" · {self._map_summary(task)}" if task in mapped else "")
            mark = self.marks.get(slug)
            if mark:
                sub += f" · {mark}"
            styles = ["rounded", "filled"]
            if isinstance(task, Parameter) or mark:
                styles.append("dashed")
            graph.node(
                str(id(task)), _label(slug, sub, look.SUBLABEL_COLOR),
                color=look.STALE_COLOR if mark else look.state_color(name),
                fillcolor=look.fill(state.name if state is not None else None),
                style=",".join(styles),
                peripheries="2" if task in mapped else "1",
                tooltip=f"{slug}: {name}" + (f" — {state.message}" if state is not None
                                             and state.message else "")
                + (f" ({mark})" if mark else ""),
                **({"class": "stale"} if mark else {}),
            )
        for edge in self.flow.edges:
            graph.edge(str(id(edge.upstream)), str(id(edge.downstream)), label=edge.key or "",
                       style="dashed" if edge.mapped else ("dotted" if edge.key is None
                                                           else "solid"))
        return graph

    def _map_summary(self, task: Task) -> str:
        children = self.child_states.get(task)
        if children is None:
            state = self.task_states.get(task)
            children = list(state.map_states or []) if state is not None else []
        if not children:
            return "(mapped)"
        counts: dict[str, int] = {}
        for child in children:
            counts[child.name] = counts.get(child.name, 0) + 1
        return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))

    def svg(self) -> str | None:
        """The rendered SVG, or None when the dot program is missing."""
        import graphviz

        try:
            return str(self.digraph().pipe(format="svg", encoding="utf-8"))
        except graphviz.ExecutableNotFound:
            return None

    # -------------------------------------------------------------------- text
    def text(self) -> str:
        """One line per task in run order: name, state, and what it reads from."""
        lines = [f"flow {self.flow.name!r}"]
        for task in self.flow.sorted_tasks():
            state = self.task_states.get(task)
            ups = []
            for edge in self.flow.edges_to(task):
                arrow = "map " if edge.mapped else ""
                ups.append(f"{arrow}{edge.upstream.slug}" + (f" as {edge.key}" if edge.key else ""))
            status = f" [{state.name}]" if state is not None else ""
            source = f" <- {', '.join(ups)}" if ups else ""
            mark = f" ({self.marks[task.slug]})" if task.slug in self.marks else ""
            lines.append(f"  {task.slug}{status}{source}{mark}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        svg = self.svg()
        if svg is None:
            return {"text/plain": f"{self.text()}\n\n({INSTALL_DOT})"}
        return {"image/svg+xml": svg, "text/plain": self.text()}


def _label(title: str, sub: str, sub_color: str) -> str:
    """A graphviz HTML label: the name in bold, the state in small grey text below it."""
    return (f'<<b>{html.escape(title)}</b><br/><font point-size="8" color="{sub_color}">'
            f"{html.escape(sub)}</font>>")


def visualize(flow: Flow, flow_state: State | None = None, *,
              filename: str | None = None, format: str = "svg") -> DagView:
    """The flow's DAG, coloured by the task states in ``flow_state`` (a flow run's state).

    With ``filename``, also writes the picture there (``format`` svg, png or pdf).
    """
    task_states = flow_state.result if flow_state is not None and flow_state.result else {}
    view = DagView(flow, task_states)
    if filename is not None:
        view.digraph().render(filename, format=format, cleanup=True)
    return view
