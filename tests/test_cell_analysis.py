"""Notebook cell analysis and the task-cell graph: a table of cells, then graphs built from them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cell_cases import CASES

from jupyter_flows.cells.analysis import (
    CellAnalysis,
    CellSyntaxError,
    StarImportError,
    analyze_cell,
)
from jupyter_flows.cells.graph import (
    CellCycleError,
    CellEdge,
    CellSpec,
    DuplicateCellError,
    UndefinedNameError,
    UnknownCellError,
    build_cell_graph,
)
from jupyter_flows.errors import CycleError, FlowDefinitionError


@pytest.mark.parametrize(("source", "defines", "reads", "mutates"), CASES)
def test_cell_analysis(source: str, defines: set[str], reads: set[str], mutates: set[str]) -> None:
    analysis = analyze_cell(source)
    assert analysis.defines == defines
    assert analysis.reads == reads
    assert analysis.mutates == mutates
    assert {m.name for m in analysis.mutations} == mutates


def test_table_is_large_and_ids_are_unique() -> None:
    ids = [p.id for p in CASES]
    assert len(ids) >= 50
    assert len(set(ids)) == len(ids)


def test_python_leaves_the_names_the_analysis_says() -> None:
    """Run the handler and global-del cells for real: what the namespace holds afterwards."""
    namespace: dict[str, object] = {}
    exec("try:\n    raise ValueError\nexcept ValueError as e:\n    e = 0", namespace)
    assert "e" not in namespace
    assert analyze_cell("try:\n    run()\nexcept ValueError as e:\n    e = 0").defines == set()

    namespace = {"e": "kept"}
    exec("try:\n    pass\nexcept ValueError as e:\n    pass", namespace)
    assert namespace["e"] == "kept"

    source = "def f():\n    global x\n    del x"
    namespace = {"x": 1}
    exec(source + "\nf()", namespace)
    assert "x" not in namespace  # the notebook's x is gone: a read and a change, not an output
    analysis = analyze_cell(source)
    assert (analysis.defines, analysis.reads, analysis.mutates) == ({"f"}, {"x"}, {"x"})


def test_analysis_unpacks_to_defines_and_reads() -> None:
    defines, reads = analyze_cell("df2 = df.dropna()")
    assert (defines, reads) == ({"df2"}, {"df"})
    analysis = analyze_cell("x = 1")
    assert isinstance(analysis, CellAnalysis)
    with pytest.raises(AttributeError):
        analysis.defines = frozenset()  # type: ignore[misc]


def test_builtin_reads_and_imports_are_recorded() -> None:
    analysis = analyze_cell("import numpy as np\ny = input + len(x)")
    assert analysis.builtin_reads == {"input", "len"}
    assert analysis.imports == {"np"}
    assert analyze_cell("import json\njson = 3").imports == set()


def test_mutation_records_the_code_and_advice() -> None:
    (mutation,) = analyze_cell('df["x"] = 1').mutations
    assert mutation.code == 'df["x"] = ...'
    assert mutation.advice == "assign a new value instead (df = df.assign(...))"
    (mutation,) = analyze_cell("df.fillna(0, inplace=True)").mutations
    assert mutation.code == "df.fillna(..., inplace=True)"
    assert "df = df.fillna(...) without inplace=True" in mutation.advice
    (mutation,) = analyze_cell("del old").mutations
    assert mutation.code == "del old"


def test_syntax_error_names_line_column_and_code() -> None:
    with pytest.raises(CellSyntaxError) as info:
        analyze_cell("a = 1\nb = = 2\n")
    assert isinstance(info.value, FlowDefinitionError)
    assert (info.value.lineno, info.value.offset) == (2, 5)
    message = str(info.value)
    assert "line 2, column 5" in message
    assert "b = = 2" in message


def test_syntax_error_after_a_magic_still_points_at_the_bad_line() -> None:
    with pytest.raises(CellSyntaxError, match="line 3") as info:
        analyze_cell("!ls\nx = 1\ny = (\n")
    assert "y = (" in str(info.value)


def test_star_import_says_why_and_what_to_do() -> None:
    with pytest.raises(StarImportError) as info:
        analyze_cell("from os.path import *")
    assert isinstance(info.value, FlowDefinitionError)
    message = str(info.value)
    assert "cannot be known" in message
    assert "import the names explicitly" in message


def test_magics_without_ipython_are_a_syntax_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "IPython.core.inputtransformer2", None)
    with pytest.raises(CellSyntaxError, match="line 1"):
        analyze_cell("%time y = f(x)")
    assert analyze_cell("y = f(x)").reads == {"f", "x"}


def test_analysis_module_does_not_import_ipython() -> None:
    code = (
        "import sys\n"
        "from jupyter_flows.cells.analysis import analyze_cell\n"
        "from jupyter_flows.cells.graph import build_cell_graph\n"
        "import jupyter_flows.notebook\n"
        "analyze_cell('x = y')\n"
        "print('IPython' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the graph --------------------------------------------------------------------------------


def graph_edges(cells: list[CellSpec], notebook_names: tuple[str, ...] = ()) -> set[tuple]:
    graph = build_cell_graph(cells, notebook_names)
    return {(e.upstream, e.downstream, tuple(sorted(e.names)), e.after) for e in graph.edges}


def test_linear_chain_with_redefinition_reads_the_nearest_definition() -> None:
    cells = [
        CellSpec("load", "df = read(path)"),
        CellSpec("clean", "df = df.dropna()"),
        CellSpec("features", "df2 = make(df)"),
    ]
    graph = build_cell_graph(cells, notebook_names={"read", "path", "make"})
    assert graph["clean"].inputs == {"df": "load"}
    assert graph["features"].inputs == {"df": "clean"}
    assert graph["features"].upstream == ("clean",)
    assert graph["load"].notebook_inputs == {"read", "path"}
    assert graph["clean"].outputs == {"df"}
    assert graph.order == ("load", "clean", "features")
    assert graph.edges == (
        CellEdge("load", "clean", frozenset({"df"})),
        CellEdge("clean", "features", frozenset({"df"})),
    )
    assert graph.downstream("load") == ("clean",)
    assert list(graph) == ["load", "clean", "features"] and len(graph) == 3
    assert graph.warnings == []


def test_fan_in_records_names_per_edge() -> None:
    cells = [
        CellSpec("a", "x = 1\nx2 = 2"),
        CellSpec("b", "y = 3"),
        CellSpec("c", "z = x + x2 + y"),
    ]
    assert graph_edges(cells) == {("a", "c", ("x", "x2"), False), ("b", "c", ("y",), False)}
    graph = build_cell_graph(cells)
    assert graph["c"].inputs == {"x": "a", "x2": "a", "y": "b"}
    assert graph["c"].upstream == ("a", "b")


def test_after_adds_an_order_only_edge_and_can_reorder() -> None:
    cells = [
        CellSpec("report", "print('done')", after=("setup",)),
        CellSpec("setup", "flag = 1"),
        CellSpec("use", "v = flag", after=("setup",)),
    ]
    graph = build_cell_graph(cells)
    assert graph_edges(cells) == {
        ("setup", "report", (), True),
        ("setup", "use", ("flag",), True),
    }
    assert graph.order == ("setup", "report", "use")
    assert graph["report"].upstream == ("setup",)


def test_unknown_after_names_the_cell_and_suggests() -> None:
    with pytest.raises(UnknownCellError, match="'report' is to run after 'setp'") as info:
        build_cell_graph([CellSpec("setup", "x = 1"), CellSpec("report", "y = 1", ("setp",))])
    assert "did you mean 'setup'?" in str(info.value)


def test_undefined_name_message() -> None:
    with pytest.raises(UndefinedNameError) as info:
        build_cell_graph([CellSpec("clean", "df = df.dropna()")])
    assert str(info.value) == (
        "cell 'clean' reads 'df', which no earlier task cell defines and the notebook does not have"
    )
    assert (info.value.cell, info.value.name, info.value.later_cell) == ("clean", "df", None)


def test_undefined_name_defined_by_a_later_cell_says_move_it_up() -> None:
    cells = [CellSpec("clean", "df = df.dropna()"), CellSpec("load", "df = read()")]
    with pytest.raises(UndefinedNameError) as info:
        build_cell_graph(cells, notebook_names={"read"})
    assert "it is defined by the later cell 'load'; move that cell up" in str(info.value)
    assert info.value.later_cell == "load"
    # The notebook holding 'df' (the later cell's output from an earlier run) does not help.
    with pytest.raises(UndefinedNameError, match="earlier run; move that cell up"):
        build_cell_graph(cells, notebook_names={"read", "df"})


def test_global_del_cell_does_not_become_the_source_of_the_name() -> None:
    cells = [
        CellSpec("one", "x = 1"),
        CellSpec("drop", "def f():\n    global x\n    del x"),
        CellSpec("use", "y = x + 1"),
    ]
    graph = build_cell_graph(cells)
    assert graph["use"].inputs == {"x": "one"}
    assert graph["drop"].inputs == {"x": "one"}
    assert graph["drop"].outputs == {"f"}
    assert graph.warnings == [
        "cell 'drop' changes 'x' (del x), which cell 'one' defined; when the cell runs in another"
        " process (local-dask processes, dask, an agent) that change is lost: leave the del"
        " out: a later cell that reads 'x' still gets it"
    ]


def test_a_handler_name_is_not_an_output() -> None:
    cells = [
        CellSpec("set", "e = 1"),
        CellSpec("guard", "try:\n    run()\nexcept Exception as e:\n    e = 0"),
        CellSpec("use", "z = e"),
    ]
    graph = build_cell_graph(cells, notebook_names={"run"})
    assert graph["guard"].outputs == set()
    assert graph["use"].inputs == {"e": "set"}


def test_class_cell_and_super_need_no_notebook_name() -> None:
    cells = [
        CellSpec("base", "class Base:\n    def hi(self):\n        return 1"),
        CellSpec("sub", "class Sub(Base):\n    def hi(self):\n        return super().hi() + 1\n"
                 "    def kind(self):\n        return __class__.__name__"),
    ]  # fmt: skip
    graph = build_cell_graph(cells)
    assert graph["sub"].inputs == {"Base": "base"}
    assert graph["sub"].notebook_inputs == set()


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695 syntax needs Python 3.12+")
def test_type_parameters_need_no_notebook_name() -> None:
    cells = [
        CellSpec("types", "class Base:\n    pass\ntype Pair[K] = tuple[K, K]"),
        CellSpec("use", "def first[U: Base](u: U, p: Pair[U]) -> U:\n    return u\n"
                 "class Box[T](list[T]):\n    def get(self) -> T:\n        return self[0]"),
    ]  # fmt: skip
    graph = build_cell_graph(cells)
    assert graph["use"].inputs == {"Base": "types", "Pair": "types"}
    assert graph["use"].outputs == {"first", "Box"}


def test_notebook_names_allow_plain_variables() -> None:
    cells = [CellSpec("train", "model = fit(data, lr)"), CellSpec("score", "s = model.score(data)")]
    graph = build_cell_graph(cells, notebook_names=["fit", "data", "lr"])
    assert graph["train"].notebook_inputs == {"fit", "data", "lr"}
    assert graph["score"].inputs == {"model": "train"}
    assert graph["score"].notebook_inputs == {"data"}


def test_a_cell_may_take_a_notebook_value_and_redefine_it() -> None:
    graph = build_cell_graph([CellSpec("clean", "df = df.dropna()")], notebook_names={"df"})
    assert graph["clean"].notebook_inputs == {"df"}


def test_earlier_cell_rebinding_a_builtin_feeds_readers() -> None:
    cells = [CellSpec("ask", "input = load()"), CellSpec("use", "out = parse(input)")]
    graph = build_cell_graph(cells, notebook_names={"load", "parse"})
    assert graph["use"].inputs == {"input": "ask"}


def test_cycle_through_after_names_the_path() -> None:
    cells = [
        CellSpec("load", "df = read()", after=("clean",)),
        CellSpec("clean", "df2 = df.dropna()"),
    ]
    with pytest.raises(CellCycleError) as info:
        build_cell_graph(cells, notebook_names={"read"})
    assert isinstance(info.value, CycleError)
    assert info.value.path in (["load", "clean", "load"], ["clean", "load", "clean"])
    message = str(info.value)
    assert "'clean' reads 'df' from 'load'" in message
    assert "'load' is to run after 'clean'" in message


def test_cell_after_itself_is_a_cycle() -> None:
    with pytest.raises(CellCycleError, match="a -> a"):
        build_cell_graph([CellSpec("a", "x = 1", after=("a",))])


def test_duplicate_cell_names() -> None:
    with pytest.raises(DuplicateCellError, match="two task cells are named 'load'"):
        build_cell_graph([CellSpec("load", "x = 1"), CellSpec("load", "y = 2")])


def test_analysis_errors_name_the_cell() -> None:
    with pytest.raises(CellSyntaxError, match=r"^cell 'bad': syntax error at line 1") as info:
        build_cell_graph([CellSpec("ok", "x = 1"), CellSpec("bad", "y = = 1")])
    assert info.value.cell == "bad"
    with pytest.raises(StarImportError, match=r"^cell 'star': "):
        build_cell_graph([CellSpec("star", "from os import *")])


def test_mutation_warnings() -> None:
    cells = [
        CellSpec("load", "import numpy as np\ndf = read()\nrows = []"),
        CellSpec("fix", 'df["x"] = 1\nrows.append(2)\nnp.append(a, 1)\nconfig["k"] = 3'),
    ]
    graph = build_cell_graph(cells, notebook_names={"read", "a", "config"})
    lost = ("when the cell runs in another process (local-dask processes, dask, an agent)"
            " that change is lost")
    assert graph.warnings == [
        f"cell 'fix' changes 'df' (df[\"x\"] = ...), which cell 'load' defined; {lost}:"
        " assign a new value instead (df = df.assign(...))",
        f"cell 'fix' changes 'rows' (rows.append(...)), which cell 'load' defined; {lost}:"
        " assign a new value instead (rows = [*rows, ...])",
        f"cell 'fix' changes 'config' (config[\"k\"] = ...), a notebook variable; {lost}:"
        " assign a new value instead (config = config.assign(...))",
    ]


def test_plain_tuples_are_accepted_as_cells() -> None:
    graph = build_cell_graph([("a", "x = 1"), ("b", "y = x", ("a",))])  # type: ignore[list-item]
    assert graph["b"].upstream == ("a",)


def synthetic_notebook(n: int) -> tuple[list[CellSpec], dict[str, dict[str, str]]]:
    """``n`` cells where cell i defines ``v{i}``, redefines a shared ``df`` every 10th cell and
    reads ``v{i-1}``, ``v{i-7}`` and ``df``; returns the cells and each cell's expected inputs."""
    cells, expected = [], {}
    df_owner = None
    for i in range(n):
        reads = {f"v{j}": f"c{j}" for j in (i - 1, i - 7) if j >= 0}
        body = [f"v{i} = helper({', '.join(sorted(reads)) or '0'})"]
        if df_owner is not None:
            reads["df"] = df_owner
            body.append(f"n{i} = len([r for r in df if r > v{i}])")
        if i % 10 == 0:
            body.append(f"df = df + [v{i}]" if df_owner else "df = [0]")
        cells.append(CellSpec(f"c{i}", "\n".join(body)))
        expected[f"c{i}"] = reads
        if i % 10 == 0:
            df_owner = f"c{i}"
    return cells, expected


def test_300_cell_notebook_edges_are_right() -> None:
    cells, expected = synthetic_notebook(300)
    graph = build_cell_graph(cells, notebook_names={"helper"})
    for cell in cells:
        assert dict(graph[cell.name].inputs) == expected[cell.name], cell.name
    assert graph.order == tuple(cell.name for cell in cells)
    assert len(graph.edges) == sum(len(set(inputs.values())) for inputs in expected.values())
    assert graph.warnings == []


# ------------------------------------------------------------------- loops (issue 10)
LOST = ("when the cell runs in another process (local-dask processes, dask, an agent) that"
        " change is lost")


def test_a_change_in_a_loop_names_the_cell_the_loop_and_the_name() -> None:
    cells = [
        CellSpec("load", "rows = read()"),
        CellSpec("flag", "for row in rows:\n    row['big'] = row['n'] > 10"),
        CellSpec("tag", "for i, row in enumerate(rows):\n    for part in row['parts']:\n"
                        "        part.append(i)"),
    ]
    graph = build_cell_graph(cells, notebook_names={"read"})
    assert graph.warnings == [
        f"cell 'flag' changes 'rows' (row['big'] = ... in the loop `for row in rows`), which"
        f" cell 'load' defined; {LOST}: build new items instead of changing them"
        " (rows = [... for row in rows])",
        f"cell 'tag' changes 'rows' (part.append(...) in the loop `for i, row in"
        f" enumerate(rows)`), which cell 'load' defined; {LOST}: build new items instead of"
        " changing them (rows = [... for i, row in enumerate(rows)])",
    ]


def test_loop_variables_are_outputs_only_when_a_later_cell_reads_them() -> None:
    cells = [
        CellSpec("add", "total = 0\nfor r in rows:\n    total += r"),
        CellSpec("count", "n = 0\nfor r in rows:\n    n += 1"),
        CellSpec("last", "for i, v in enumerate(rows):\n    pass"),
        CellSpec("use", "final = (i, v, total, n)"),
    ]
    graph = build_cell_graph(cells, notebook_names={"rows"})
    assert analyze_cell(cells[0].source).loop_names == {"r"}
    assert (graph["add"].outputs, graph["add"].private) == ({"total"}, {"r"})
    assert (graph["count"].outputs, graph["count"].private) == ({"n"}, {"r"})
    # Python binds them, so a cell that reads them gets them from the nearest loop above
    assert (graph["last"].outputs, graph["last"].private) == ({"i", "v"}, set())
    assert graph["use"].inputs == {"i": "last", "v": "last", "total": "add", "n": "count"}
    # a name the cell also binds otherwise is an output like any other
    assert analyze_cell("r = None\nfor r in rows:\n    pass").loop_names == set()


def test_a_later_loop_variable_does_not_hide_a_notebook_variable() -> None:
    cells = [CellSpec("early", "y = i * 2"), CellSpec("late", "for i in range(3):\n    pass")]
    graph = build_cell_graph(cells, notebook_names={"i"})
    assert graph["early"].notebook_inputs == {"i"}
    assert graph["late"].outputs == set()
    # a real definition in a later cell still is an error
    with pytest.raises(UndefinedNameError, match="defined by the later cell 'late'"):
        build_cell_graph([cells[0], CellSpec("late", "i = 3")], notebook_names={"i"})
