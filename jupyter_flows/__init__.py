"""jupyter-flows: turn notebook cells and Python functions into scheduled, distributed flows.

The public API lives here; importing it stays light (no dask, IPython or web framework is
imported until something that needs it runs).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Constant": "jupyter_flows.core.task",
    "DateTimeParameter": "jupyter_flows.core.parameter",
    "Edge": "jupyter_flows.core.edges",
    "FilterTask": "jupyter_flows.tasks.control_flow.filter",
    "LOOP": "jupyter_flows.signals",
    "PAUSE": "jupyter_flows.signals",
    "TRIGGERFAIL": "jupyter_flows.signals",
    "VALIDATIONFAIL": "jupyter_flows.signals",
    "apply_map": "jupyter_flows.core.apply_map",
    "context": "jupyter_flows.core.context",
    "ifelse": "jupyter_flows.tasks.control_flow.conditional",
    "mapped": "jupyter_flows.core.edges",
    "pause_task": "jupyter_flows.utilities.tasks",
    "resource_manager": "jupyter_flows.core.resource_manager",
    "switch": "jupyter_flows.tasks.control_flow.conditional",
    "DaskExecutor": "jupyter_flows.executors.dask",
    "DirectoryCacheStore": "jupyter_flows.engine.cache",
    "Docker": "jupyter_flows.storage.docker",
    "DockerRun": "jupyter_flows.run_configs",
    "ECSRun": "jupyter_flows.run_configs",
    "FAIL": "jupyter_flows.signals",
    "Git": "jupyter_flows.storage.git",
    "GitHub": "jupyter_flows.storage.git",
    "KubernetesRun": "jupyter_flows.run_configs",
    "Flow": "jupyter_flows.core.flow",
    "LocalDaskExecutor": "jupyter_flows.executors.local_dask",
    "Local": "jupyter_flows.storage.local",
    "LocalExecutor": "jupyter_flows.executors.local",
    "LocalRun": "jupyter_flows.run_configs",
    "Parameter": "jupyter_flows.core.parameter",
    "RETRY": "jupyter_flows.signals",
    "Result": "jupyter_flows.engine.results",
    "RunObserver": "jupyter_flows.engine.observers",
    "S3": "jupyter_flows.storage.s3",
    "SKIP": "jupyter_flows.signals",
    "SUCCESS": "jupyter_flows.signals",
    "Task": "jupyter_flows.core.task",
    "UniversalRun": "jupyter_flows.run_configs",
    "case": "jupyter_flows.core.control_flow",
    "flatten": "jupyter_flows.core.edges",
    "get_logger": "jupyter_flows.core.context",
    "get_run_context": "jupyter_flows.core.context",
    "merge": "jupyter_flows.core.control_flow",
    "task": "jupyter_flows.core.task",
    "unmapped": "jupyter_flows.core.edges",
}
_MODULES = {
    "cache_validators": "jupyter_flows.engine.cache_validators",
    "schedules": "jupyter_flows.schedules",
    "signals": "jupyter_flows.signals",
    "states": "jupyter_flows.engine.states",
    "triggers": "jupyter_flows.triggers",
}

__all__ = sorted([*_EXPORTS, *_MODULES, "__version__"])


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_flows``: register the ``%%task``, ``%%flow`` and ``%flow`` magics."""
    from jupyter_flows.notebook.magics import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = import_module(_MODULES[name])
    else:
        raise AttributeError(f"module 'jupyter_flows' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from jupyter_flows import schedules, signals, triggers
    from jupyter_flows.core.apply_map import apply_map
    from jupyter_flows.core.context import context, get_logger, get_run_context
    from jupyter_flows.core.control_flow import case, merge
    from jupyter_flows.core.edges import Edge, flatten, mapped, unmapped
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.parameter import DateTimeParameter, Parameter
    from jupyter_flows.core.resource_manager import resource_manager
    from jupyter_flows.core.task import Constant, Task, task
    from jupyter_flows.engine import cache_validators, states
    from jupyter_flows.engine.cache import DirectoryCacheStore
    from jupyter_flows.engine.observers import RunObserver
    from jupyter_flows.engine.results import Result
    from jupyter_flows.executors.dask import DaskExecutor
    from jupyter_flows.executors.local import LocalExecutor
    from jupyter_flows.executors.local_dask import LocalDaskExecutor
    from jupyter_flows.run_configs import DockerRun, ECSRun, KubernetesRun, LocalRun, UniversalRun
    from jupyter_flows.signals import (
        FAIL,
        LOOP,
        PAUSE,
        RETRY,
        SKIP,
        SUCCESS,
        TRIGGERFAIL,
        VALIDATIONFAIL,
    )
    from jupyter_flows.storage.docker import Docker
    from jupyter_flows.storage.git import Git, GitHub
    from jupyter_flows.storage.local import Local
    from jupyter_flows.storage.s3 import S3
    from jupyter_flows.tasks.control_flow.conditional import ifelse, switch
    from jupyter_flows.tasks.control_flow.filter import FilterTask
    from jupyter_flows.utilities.tasks import pause_task
