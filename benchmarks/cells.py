"""Time to analyse a 300-cell notebook's task cells and build their graph.

    python benchmarks/cells.py

The synthetic cells look like notebook code: imports, a loaded frame redefined down the
notebook, helper functions, comprehensions, f-strings and an in-place change now and then.
Prints one markdown table row: the median of 20 builds.
"""

from __future__ import annotations

import statistics
import time

from jupyter_flows.cells.graph import CellSpec, build_cell_graph

CELLS = 300
REPEATS = 20
NOTEBOOK_NAMES = {"read_csv", "DATA_DIR", "plot"}


def notebook(n: int) -> list[CellSpec]:
    cells = [CellSpec("c0", "import math\nimport json\ndf = read_csv(DATA_DIR / 'rows.csv')")]
    for i in range(1, n):
        previous = [f"v{j}" for j in (i - 1, i - 5, i - 11) if j >= 1]
        args = ", ".join(previous) or "0"
        lines = [
            f"def step{i}(frame, k={i}):",
            "    total = 0",
            "    for row in frame:",
            "        total += row * k",
            "    return math.sqrt(abs(total))",
            f"v{i} = step{i}(df) + sum([x * 2 for x in ({args},) if x])",
            f"label{i} = f'{{v{i}:.2f}} from {{len(df)}} rows'",
        ]
        if i % 10 == 0:
            lines.append(f"df = [r + v{i} for r in df]")
        if i % 25 == 0:
            lines.append(f"summary = json.dumps({{'v': v{i}, 'label': label{i}}})")
            lines.append("plot(summary)")
        cells.append(CellSpec(f"c{i}", "\n".join(lines)))
    return cells


def main() -> None:
    cells = notebook(CELLS)
    build_cell_graph(cells, NOTEBOOK_NAMES)  # warm-up: imports, first-call costs
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        graph = build_cell_graph(cells, NOTEBOOK_NAMES)
        times.append(time.perf_counter() - start)
    lines = sum(cell.source.count("\n") + 1 for cell in cells)
    print(
        f"| analyse + build cell graph | {len(graph)} cells, {lines} lines, "
        f"{len(graph.edges)} edges | {statistics.median(times) * 1e3:.1f} ms "
        f"(median of {REPEATS}) |"
    )


if __name__ == "__main__":
    main()
