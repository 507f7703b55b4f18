"""Registering a flow with the backend: store its code, then send its spec and configs.

The stored code's location travels inside the storage config (``"location"``) and inside
the spec (``"code_location"``), so a flow whose code changed gets a new version even when
its graph did not, and a run always loads the code it was created against.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from jupyter_flows.api.flow_spec import flow_spec
from jupyter_flows.storage.base import Storage, storage_from_config

if TYPE_CHECKING:
    from jupyter_flows.api import FlowRegistration
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow


def config_json(value: Any) -> dict[str, Any]:
    """A run config / executor config / storage as the JSON dict the backend stores."""
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return dict(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return dict(value)
    raise TypeError(f"expected a config model or a dict, got {value!r}")


def register(flow: Flow, project: str = "default", *, client: Client | None = None,
             labels: Iterable[str] | None = None, max_retries: int = 0,
             set_schedule_active: bool = True) -> FlowRegistration:
    """Store ``flow``'s code with its storage (default ``Local()``) and register it.

    A flow with a schedule is scheduled by the backend from now on (its latest version's
    schedule; a new version replaces the older one's unclaimed runs), unless
    ``set_schedule_active`` is false.

    Labels default to the run config's labels. Checks the run config and executor first,
    so a malformed config fails here, naming the field, not later on an agent.
    """
    from jupyter_flows.client.client import Client
    from jupyter_flows.deploy.compat import check_storage_for_run_config
    from jupyter_flows.errors import StorageError
    from jupyter_flows.executors.base import executor_from_config
    from jupyter_flows.run_configs import run_config_from_config

    run_config = (run_config_from_config(flow.run_config)
                  if flow.run_config is not None else None)
    executor = executor_from_config(flow.executor) if flow.executor is not None else None
    storage: Storage = storage_from_config(flow.storage)
    problem = check_storage_for_run_config(config_json(storage), run_config)
    if problem is not None:  # refused now, not when an agent first tries to run it
        raise StorageError(f"flow {flow.name!r}: {problem}")
    location = storage.add_flow(flow)
    spec = flow_spec(flow)
    spec.code_location = location
    chosen_labels = list(labels) if labels is not None else list(
        getattr(run_config, "labels", None) or [])
    client = client or Client()
    return client.register_flow(
        flow.name, spec, project=project,
        storage={**config_json(storage), "location": location},
        run_config=config_json(run_config), executor=config_json(executor),
        labels=chosen_labels, max_retries=max_retries, set_schedule_active=set_schedule_active,
    )


def load_registered_flow(storage_config: dict[str, Any]) -> Flow:
    """The flow a registration stored: ``storage_config`` is what ``register`` sent."""
    config = dict(storage_config)
    location = config.pop("location", None)
    if not location:
        from jupyter_flows.errors import StorageError

        raise StorageError("the flow's storage config has no 'location': was it registered?")
    return storage_from_config(config).get_flow(location)
