"""``FilterTask``: keeps the results worth keeping from a mapped task's list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jupyter_flows.core.task import Task
from jupyter_flows.core.triggers import all_finished

__all__ = ["FilterTask"]


def _worth_keeping(result: Any) -> bool:
    # a failed map child's result is its exception; a skipped one's is None
    return not isinstance(result, type(None) | BaseException)


class FilterTask(Task):
    """Filters a list of results (by default: drops None and exceptions, what skipped and
    failed map children leave). Runs whatever the upstream states, as in Prefect:
    ``trigger=all_finished`` and ``skip_on_upstream_skip=False`` by default.

    ``filter_func(result) -> bool`` says what to keep; ``log_func(kept) -> str`` logs a line.
    """

    def __init__(self, filter_func: Callable[[Any], bool] | None = None,
                 log_func: Callable[[list[Any]], str] | None = None, **options: Any) -> None:
        options.setdefault("skip_on_upstream_skip", False)
        options.setdefault("trigger", all_finished)
        self.filter_func = filter_func or _worth_keeping
        self.log_func = log_func
        super().__init__(**options)

    def run(self, task_results: list[Any]) -> list[Any]:
        kept = [r for r in task_results if self.filter_func(r)]
        if self.log_func is not None:
            self.logger.info(self.log_func(kept))
        return kept
