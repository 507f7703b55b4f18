"""The backend's tag concurrency limits for one flow run's task runs.

The limited tags are read once, when the run starts: a tagged task run with none of them
asks the backend nothing, so tags cost nothing where no limit is set (a limit set while a
run goes applies to the runs started after it). The object travels to executor workers
(Dask, process pools) with the task runners; there it makes its own client from the URL
and key, since an HTTP connection cannot be pickled.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from jupyter_flows.client.client import Client
from jupyter_flows.client.transport import API_KEY_ENV


class BackendTaskSlots:
    """Takes and gives back a flow run's task-run slots through the backend's API, under
    the run's lease; implements :class:`jupyter_flows.engine.task_slots.TaskSlots`."""

    def __init__(self, url: str, flow_run_id: str, lease_id: str, tags: frozenset[str],
                 api_key: str | None = None, patience: float | None = None,
                 client: Client | None = None) -> None:
        self.url, self.flow_run_id, self.lease_id = url, flow_run_id, lease_id
        self.tags = tags
        self.api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        self.patience = patience
        self._client = client
        self._lock = threading.Lock()

    @classmethod
    def for_run(cls, client: Client, flow_run_id: str, lease_id: str | None,
                patience: float | None = None) -> BackendTaskSlots | None:
        """The run's slots, or None when no tag has a limit (or the run has no lease)."""
        if lease_id is None:
            return None
        tags = frozenset(limit.name for limit in client.list_limits() if limit.kind == "tag")
        if not tags:
            return None
        return cls(client.url, flow_run_id, lease_id, tags, patience=patience, client=client)

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "flow_run_id": self.flow_run_id, "lease_id": self.lease_id,
                "tags": self.tags, "api_key": self.api_key, "patience": self.patience}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = Client(self.url, self.api_key, patience=self.patience)
            return self._client

    def limited(self, tags: frozenset[str]) -> list[str]:
        return sorted(tags & self.tags)

    def take(self, task_slug: str, map_index: int | None, tags: list[str]) -> str | None:
        grant = self.client.take_task_slots(self.flow_run_id, task_slug, map_index, tags,
                                            lease_id=self.lease_id)
        return None if grant.granted else (grant.message or "waiting for a slot")

    def release(self, task_slug: str, map_index: int | None) -> None:
        self.client.release_task_slots(self.flow_run_id, task_slug, map_index)
