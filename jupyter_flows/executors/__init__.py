"""Executors: how the task runs of one flow run are executed (in process, dask local
schedulers, a distributed Dask cluster). Configs are pydantic models; see ``base``."""

from jupyter_flows.executors.base import Executor, executor_from_config
from jupyter_flows.executors.dask import DaskExecutor
from jupyter_flows.executors.local import LocalExecutor
from jupyter_flows.executors.local_dask import LocalDaskExecutor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor", "executor_from_config"]
