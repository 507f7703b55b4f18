"""The cell-analysis case table: what each cell defines, reads and changes, as Python sees it.

``tests/test_cell_analysis.py`` runs every row through ``analyze_cell``;
``tests/test_cell_analysis_symtable.py`` checks the rows against Python's own ``symtable``.
"""

from __future__ import annotations

import sys
from textwrap import dedent

import pytest


def case(
    id: str,
    source: str,
    defines: str,
    reads: str,
    mutates: str = "",
    since: tuple[int, int] | None = None,
) -> pytest.ParameterSet:
    """One row: names are space-separated; the source is dedented. ``since``: the Python
    version whose syntax the source needs (older interpreters skip the row, saying why)."""
    marks = []
    if since is not None:
        needed = ".".join(map(str, since))
        marks.append(
            pytest.mark.skipif(
                sys.version_info < since, reason=f"the syntax needs Python {needed}+"
            )
        )
    return pytest.param(
        dedent(source),
        set(defines.split()),
        set(reads.split()),
        set(mutates.split()),
        id=id,
        marks=marks,
    )


PY311, PY312 = (3, 11), (3, 12)


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
    # -- global + del, except handlers, PEP 695, __class__ (issue 17)
    case("global-del-in-function", "def f():\n    global x\n    del x", "f", "x", "x"),
    case("global-del-of-own-name-in-function", "x = 1\ndef f():\n    global x\n    del x",
         "x f", ""),
    case("global-del-in-class-body", "class A:\n    global x\n    del x", "A", "x", "x"),
    case("del-in-function-is-local", "def f():\n    y = g()\n    del y", "f", "g"),
    case("except-name-rebound-in-handler", "try:\n    run()\nexcept Exception as e:\n    e = 0",
         "", "run"),
    case("except-name-read-after-handler",
         "try:\n    run()\nexcept OSError as e:\n    e = 0\nmsg = str(e)", "msg", "run e"),
    case("except-name-bound-before-try-stays",
         "e = None\ntry:\n    run()\nexcept OSError as e:\n    pass", "e", "run"),
    case("except-name-bound-in-try-stays",
         "try:\n    err = run()\nexcept OSError as err:\n    err = None", "err", "run"),
    case("except-name-in-class-body", """
        class A:
            try:
                import fast as impl
            except ImportError as e:
                e = impl = None
            why = e
        """, "A", "e"),
    case("except-name-read-by-function-in-handler", """
        try:
            run()
        except OSError as e:
            def show():
                return str(e)
            show()
        """, "show", "run"),  # like a del'd name: bound in the cell, so not a notebook read
    case("except-name-global-in-function", """
        def f():
            global e
            try:
                run()
            except OSError as e:
                log(e)
        """, "f", "run log"),
    case("except-star-name-rebound",
         "try:\n    run()\nexcept* ValueError as group:\n    group = 0\nelse:\n    ok = 1",
         "ok", "run", since=PY311),
    case("generic-function", "def first[U](u: U) -> U:\n    return u", "first", "", since=PY312),
    case("generic-bound-is-read", "def f[T: Base](x: T) -> T:\n    return x", "f", "Base",
         since=PY312),
    case("generic-bound-is-lazy", "def f[T: Later](x: T) -> T:\n    return x\nLater = int",
         "f Later", "", since=PY312),
    case("generic-constraints-and-variadics",
         "def g[*Ts, **P, T: (int, Other)](f: Callable[P, T], *a: *Ts) -> T:\n    return f(*a)",
         "g", "Callable Other", since=PY312),
    case("generic-default-is-evaluated-outside", "def f[T](x=T):\n    pass", "f", "T",
         since=PY312),
    case("generic-class", """
        class Box[T](Base[T]):
            item: T
            def get(self) -> T:
                return self.item
        """, "Box", "Base", since=PY312),
    case("type-alias", "type Pair[K] = tuple[K, K]", "Pair", "", since=PY312),
    case("type-alias-value-is-lazy",
         "type Tree = list[Tree | Leaf]\nLeaf = int\ntype Row = dict[str, Cell]", "Tree Leaf Row",
         "Cell", since=PY312),
    case("annotation-scope-sees-its-class", """
        class O:
            B = int
            def f[T: B](self, x: T) -> T:
                return __class__
            type Items = list[B]
        """, "O", "", since=PY312),
    case("method-in-annotation-scope-does-not-see-class",
         "class O:\n    k = 1\n    def f[T](self) -> T:\n        return k", "O", "k",
         since=PY312),
    case("class-cell-in-method", "class A(Base):\n    def m(self):\n        return __class__",
         "A", "Base"),
    case("zero-arg-super", "class A(Base):\n    def __init__(self):\n        super().__init__()",
         "A", "Base"),
    case("class-cell-in-nested-function-and-lambda", """
        class A:
            def m(self):
                def inner():
                    return __class__
                return inner
            f = lambda self: __class__
        """, "A", ""),
    case("class-cell-outside-a-method-is-global",
         "c = __class__\nclass A:\n    k = __class__\ndef f():\n    return __class__",
         "c A f", "__class__"),
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
    # -- mutations through a loop variable (issue 10): the loop's items are the outer value's
    case("mutate-in-loop", "for row in rows:\n    row['x'] = 1", "row", "rows", "rows"),
    case("mutate-in-loop-enumerate", "for i, row in enumerate(rows):\n    row.update(i=i)",
         "i row", "rows", "rows"),
    case("mutate-in-loop-sorted-subscript", "for r in sorted(data['rows']):\n    r.x = 0", "r",
         "data", "data"),
    case("mutate-in-nested-loop", "for row in grid:\n    for cell in row:\n        cell.append(0)",
         "row cell", "grid", "grid"),
    case("mutate-in-loop-over-items", "for k, v in groups.items():\n    v.sort()", "k v",
         "groups", "groups"),
    case("mutate-in-comprehension-loop", "[r.update(seen=True) for r in rows]", "", "rows",
         "rows"),
    case("mutate-in-loop-in-function", "def fix():\n    for r in rows:\n        r.append(1)",
         "fix", "rows", "rows"),
    case("loop-variable-rebound-changes-a-copy",
         "for row in rows:\n    row = dict(row)\n    row['x'] = 1", "row", "rows"),
    case("loop-over-own-value", "rows = load()\nfor r in rows:\n    r['x'] = 1", "rows r", "load"),
    case("loop-over-a-call-result", "for r in fetch(rows):\n    r['x'] = 1", "r", "fetch rows"),
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
