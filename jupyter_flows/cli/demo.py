"""The demo flow that ``jupyter-flows demo`` runs: a small ETL with a parameter, a map, a
flaky task that succeeds on retry, and a branch."""

from __future__ import annotations

import random
from typing import Any

from jupyter_flows.core.context import get_run_context
from jupyter_flows.core.control_flow import case, merge
from jupyter_flows.core.flow import Flow
from jupyter_flows.core.parameter import Parameter
from jupyter_flows.core.task import task


@task
def extract(n: int) -> list[dict[str, float]]:
    rng = random.Random(n)
    return [{"id": i, "value": round(rng.uniform(0, 100), 2)} for i in range(n)]


@task(max_retries=2, retry_delay=0.2)
def transform(record: dict[str, float]) -> float:
    ctx = get_run_context()
    # the first attempt of every fifth record fails, to show retries at work
    if ctx is not None and ctx.run_count == 1 and int(record["id"]) % 5 == 0:
        raise ConnectionError(f"flaky source for record {record['id']}")
    return record["value"] * 1.1


@task
def summarize(values: list[float]) -> dict[str, float]:
    return {"count": len(values), "total": round(sum(values), 2)}


@task
def is_large(summary: dict[str, float]) -> bool:
    return summary["total"] > 500


@task
def report(summary: dict[str, float], label: str) -> str:
    return f"{label} batch: {summary['count']} records, total {summary['total']}"


def build_demo_flow() -> Flow:
    with Flow("demo-etl") as flow:
        n = Parameter("n", default=12)
        summary = summarize(transform.map(extract(n)))
        large = is_large(summary)
        with case(large, True):
            big = report(summary, "large")
        with case(large, False):
            small = report(summary, "small")
        merge(big, small)
    return flow


def state_table(flow: Flow, state: Any) -> Any:
    """A rich table of each task's final state in a flow run's state."""
    from rich.table import Table

    table = Table(title=f"{flow.name}: {state.name}")
    for column in ("task", "state", "message", "result"):
        table.add_column(column)
    for task_ in flow.sorted_tasks():
        task_state = state.result[task_]
        result = task_state.result
        shown = f"{len(result)} items" if isinstance(result, list) else repr(result)
        table.add_row(task_.slug, task_state.name, task_state.message or "", shown[:60])
    return table
