"""Notebook cell analysis and the task-cell graph: a table of cells, then graphs built from them."""

from __future__ import annotations

import subprocess
import sys
from textwrap import dedent

import pytest

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


def case(id: str, source: str, defines: str, reads: str, mutates: str = "") -> pytest.ParameterSet:
    """One row: names are space-separated; the source is dedented."""
    return pytest.param(
        dedent(source), set(defines.split()), set(reads.split()), set(mutates.split()), id=id
    )


# fmt: off
CASES = [
    # -- assignments
    case("assign", "x = 1", "x", ""),
    case("assign-reads-value", "y = f(x)", "y", "f x"),
    case("chained-assign", "a = b = c", "a b", "c"),
    case("tuple-unpack", "a, b = pair", "a b", "pair"),
    case("list-unpack-nested", "[a, (b, c)] = data", "a b c", "data"),
    case("starred-unpack", "first, *rest = items", "first rest", "items"),
    case("read-before-assign", "x = x + 1", "x", "x"),
    case("assign-then-read", "x = 1\ny = x + 1", "x y", ""),
    case("read-then-assign-later", "print(x)\nx = 2", "x", "x"),
    case("augmented", "x += 1", "x", "x"),
    case("augmented-after-define", "x = 0\nx += step", "x", "step"),
    case("annotated-with-value", "n: int = 3", "n", ""),
    case("annotated-without-value", "n: int", "", ""),
    case("annotated-reads-annotation", "df: DataFrame = load()", "df", "DataFrame load"),
    case("swap", "a, b = b, a", "a b", "a b"),
    # -- imports
    case("import", "import os", "os", ""),
    case("import-dotted", "import os.path", "os", ""),
    case("import-dotted-as", "import matplotlib.pyplot as plt", "plt", ""),
    case("from-import", "from math import pi, tau", "pi tau", ""),
    case("from-import-as", "from pandas import DataFrame as DF", "DF", ""),
    case("relative-import", "from . import helpers", "helpers", ""),
    # -- functions
    case("def-body-reads-global", "def f():\n    return df.head()", "f", "df"),
    case("def-params-and-locals", "def f(a, *b, c=1, **d):\n    e = a + c\n    return e, b, d",
         "f", ""),
    case("def-local-assigned-after-use", "def f():\n    print(x)\n    x = 1", "f", ""),
    case("def-decorator-default-annotation",
         "@register(app)\ndef f(x: Row = DEFAULT) -> Out:\n    return x", "f",
         "register app Row DEFAULT Out"),
    case("def-uses-later-cell-global", "def f():\n    return scale * 2\nscale = 3", "f scale", ""),
    case("def-recursive", "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)", "fact", ""),
    case("async-def", "async def fetch(url):\n    return await client.get(url)", "fetch",
         "client"),
    case("lambda", "f = lambda row, k=K: row[k] * factor", "f", "K factor"),
    case("lambda-default-is-lambda", "g = lambda h=lambda: base: h()", "g", "base"),
    case("nested-function-closure", """
        def outer():
            n = 0
            def inner():
                return n + offset
            return inner
        """, "outer", "offset"),
    case("nonlocal", """
        def counter():
            count = 0
            def bump():
                nonlocal count
                count += 1
                return count
            return bump
        """, "counter", ""),
    case("global-assigned-in-function", "def setup():\n    global conn\n    conn = connect()",
         "setup conn", "connect"),
    case("global-read-in-function", "def show():\n    global conn\n    return conn", "show",
         "conn"),
    case("future-annotations-are-not-evaluated",
         "from __future__ import annotations\ndef f(a: Later) -> Later:\n    pass\nv: Other = 1",
         "annotations f v", ""),
    # -- classes
    case("class-bases-keywords-decorator", "@dataclass\nclass C(Base, metaclass=Meta):\n    pass",
         "C", "dataclass Base Meta"),
    case("class-body", """
        class Config:
            size = default_size
            double = size * 2
            def area(self):
                return self.size * unit
        """, "Config", "default_size unit"),
    case("class-body-read-before-bind", "class A:\n    y = x\n    x = 1", "A", "x"),
    case("method-does-not-see-class-names",
         "class A:\n    k = 1\n    def m(self):\n        return k", "A", "k"),
    # -- loops, with, walrus
    case("for-target", "for i in range(n):\n    total = i", "i total", "n"),
    case("for-tuple-target-and-else", "for k, v in d.items():\n    pass\nelse:\n    done = k",
         "k v done", "d"),
    case("for-accumulate", "for row in rows:\n    total = total + row", "row total", "rows total"),
    case("async-for", "async def f():\n    async for x in stream:\n        yield x", "f", "stream"),
    case("with-as", "with open(path) as fh, lock:\n    text = fh.read()", "fh text", "path lock"),
    case("walrus", "if (n := len(items)) > limit:\n    print(n)", "n", "items limit"),
    case("walrus-in-comprehension-binds-outside", "ys = [last := f(v) for v in vs]\nz = last",
         "ys last z", "f vs"),
    # -- comprehensions
    case("comprehension-does-not-leak", "squares = [x * x for x in xs]", "squares", "xs"),
    case("comprehension-condition-reads", "big = {k: v for k, v in d.items() if v > cut}", "big",
         "d cut"),
    case("comprehension-nested", "flat = [c for row in grid for c in row if c != blank]", "flat",
         "grid blank"),
    case("comprehension-inner-in-element", "t = [[r * c for c in cols] for r in rows]", "t",
         "cols rows"),
    case("generator-and-set", "s = {y for y in ys}\ng = sum(z for z in zs)", "s g", "ys zs"),
    case("comprehension-var-shadows-outer", "x = 5\nvals = [x for x in other]", "x vals", "other"),
    case("comprehension-in-class-body-skips-class", """
        class A:
            n = 3
            xs = [n * i for i in range(k)]
        """, "A", "n k"),
    # -- del, try
    case("del-own-name", "tmp = 1\ndel tmp", "", ""),
    case("del-outside-name", "del big_frame", "", "big_frame", "big_frame"),
    case("del-item", "del df['col']", "", "df", "df"),
    case("except-name-stays-in-handler", "try:\n    run()\nexcept OSError as err:\n    log(err)",
         "", "run log"),
    case("except-name-kept-by-assignment",
         "try:\n    run()\nexcept Exception as err:\n    last = err\nfinally:\n    close()",
         "last", "run close"),
    case("try-else-defines", "try:\n    v = parse(s)\nexcept ValueError:\n    v = None\nelse:\n"
         "    ok = True", "v ok", "parse s"),
    # -- f-strings, attributes, builtins
    case("fstring", "msg = f'{name!r}: {value:{width}.2f}'", "msg", "name value width"),
    case("attribute-chain", "n = a.b.c.d(e.f)", "n", "a e"),
    case("builtins-are-not-reads", "n = len(list(range(k)))\nprint(n)", "n", "k"),
    case("shadowed-builtin", "sum = 0\nsum = sum + 1\nlist = [sum]", "sum list", ""),
    case("builtin-read-before-rebind", "y = max(a, b)\nmax = 3", "y max", "a b"),
    case("if-elif-else", "if a:\n    r = 1\nelif b:\n    r = 2\nelse:\n    r = c", "r", "a b c"),
    case("while", "while cond():\n    step()", "", "cond step"),
    case("type-annotation-only-in-function", "def f():\n    v: Hidden = 1\n    return v", "f", ""),
    case("regex-escape-in-string", r"import re" + "\n" + r"pat = re.compile('\d+')", "re pat", ""),
    # -- match
    case("match-captures", """
        match event:
            case {"kind": kind, **extra}:
                pass
            case [first, *others]:
                pass
            case Point(x=px, y=0):
                pass
            case Color.RED | None:
                pass
            case _ as whole if whole is not sentinel:
                pass
        """, "kind extra first others px whole", "event Point Color sentinel"),
    # -- mutations
    case("mutate-item", "df['x'] = 1", "", "df", "df"),
    case("mutate-attribute", "obj.attr = 2", "", "obj", "obj"),
    case("mutate-augmented-item", "df['x'] += 1", "", "df", "df"),
    case("mutate-deep-chain", "df.loc[mask, 'y'] = 0", "", "df mask", "df"),
    case("mutate-append", "rows.append(row)", "", "rows row", "rows"),
    case("mutate-dict-update", "cfg.update(lr=0.1)", "", "cfg", "cfg"),
    case("mutate-inplace-true", "df.drop(columns=['a'], inplace=True)", "", "df", "df"),
    case("mutate-setattr", "setattr(model, 'name', 'x')", "", "model", "model"),
    case("no-mutation-of-own-value", "rows = []\nrows.append(1)\nd = {}\nd['k'] = 2", "rows d", ""),
    case("mutation-in-function-body", "def add(r):\n    seen.add(r)", "add", "seen", "seen"),
    case("no-mutation-of-param", "def add(xs, r):\n    xs.append(r)\n    xs[0] = r", "add", ""),
    case("non-mutating-method", "out = df.drop(columns=['a'])", "out", "df"),
    # -- IPython
    case("magic-time", "%time y = f(x)", "y", "f x"),
    case("magic-time-expression-value", "res = %time g(a)", "res", "g a"),
    case("magic-timeit-options", "%timeit -n 3 -r1 h(b)", "", "h b"),
    case("magic-timeit-locals-stay-inside", "%timeit tmp = k + 1", "", "k"),
    case("magic-timeit-save-result", "%timeit -q -v timing h(b)", "timing", "h b"),
    case("magic-inside-function", "def f():\n    %time y = g(x)\n    return y", "f", "g x"),
    case("magic-other-is-opaque", "%load_ext autoreload\nz = w", "z", "w"),
    case("shell-escape", "!ls -la\nfiles = !ls\nn = len(files)", "files n", ""),
]
# fmt: on


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
    assert graph.warnings == [
        "cell 'fix' changes 'df' (df[\"x\"] = ...), which cell 'load' defined; on a distributed "
        "executor that change does not travel back: assign a new value instead "
        "(df = df.assign(...))",
        "cell 'fix' changes 'rows' (rows.append(...)), which cell 'load' defined; on a "
        "distributed executor that change does not travel back: assign a new value instead "
        "(rows = [*rows, ...])",
        "cell 'fix' changes 'config' (config[\"k\"] = ...), a notebook variable; on a distributed "
        "executor that change does not travel back: assign a new value instead "
        "(config = config.assign(...))",
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
