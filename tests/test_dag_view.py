"""The notebook's DAG pictures look like the JupyterLab panel's (issue 10): the same colour
groups and colours as the panel's states.ts and base.css, rounded boxes, sans-serif labels,
left to right; and marked tasks (stale cells) stand out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jupyter_flows import Flow, Parameter, task
from jupyter_flows.widgets import dag_style
from jupyter_flows.widgets.dag import DagView

LAB = Path(__file__).resolve().parent.parent / "labextension"


def test_the_colour_groups_are_the_panels() -> None:
    source = (LAB / "src/models/states.ts").read_text()
    table = source[source.index("const CATEGORY"):]
    table = table[: table.index("};")]
    panel = dict(re.findall(r"(\w+): '(\w+)'", table))
    assert panel == dag_style.CATEGORY


def test_the_colours_are_the_panels() -> None:
    css = (LAB / "style/base.css").read_text()
    panel = dict(re.findall(r"--jp-flows-(\w+): var\(--[\w-]+, (#[0-9a-f]{6})\)", css))
    assert panel == dag_style.COLORS
    assert "color-mix(in srgb, var(--jp-flows-state-color) 18%" in css
    assert dag_style.TINT == 0.18
    assert dag_style.fill("Success") == "#dbebdc"  # 18% of #388e3c over white
    assert dag_style.fill("Pending") == dag_style.fill(None) == "#ffffff"


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def double(x: int) -> int:
    return x * 2


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def test_the_svg_is_drawn_like_the_panel() -> None:
    pytest.importorskip("graphviz")
    with Flow("look") as flow:
        total(double.map(numbers(Parameter("n", default=3))))
    state = flow.run()
    view = DagView(flow, state.result)
    svg = view.svg()
    if svg is None:
        pytest.skip("the graphviz dot program is not installed")
    assert "Times" not in svg and 'font-family="Helvetica,Arial,sans-serif"' in svg
    assert 'font-weight="bold"' in svg  # the task's name, like the panel's label
    assert "<polygon fill=\"#ffffff\" stroke=\"#000000\"" not in svg  # no square black boxes
    assert svg.count('stroke="#388e3c"') >= 4  # every node outlined in Success's green
    assert 'stroke="#aaaaaa"' in svg  # grey edges
    assert view.digraph().graph_attr["rankdir"] == "LR"
    assert 'class="node stale"' not in svg


def test_a_marked_task_is_dashed_orange_and_says_why() -> None:
    pytest.importorskip("graphviz")
    with Flow("marked") as flow:
        total(numbers(3))
    view = DagView(flow, marks={"total-1": "stale: edited, not run"})
    svg = view.svg()
    if svg is None:
        pytest.skip("the graphviz dot program is not installed")
    node = svg[svg.index('class="node stale"'):]
    node = node[: node.index("</g>")]
    assert 'stroke="#f57c00"' in node and "stroke-dasharray" in node
    assert "stale: edited, not run" in node
    assert view.text().splitlines()[-1] == "  total-1 <- numbers-1 as xs (stale: edited, not run)"
