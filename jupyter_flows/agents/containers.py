"""What the container agents (Docker, Kubernetes, ECS) share: the command, environment,
labels and image of a flow run's container, registry allow-lists, and reading templates.

The environment of a flow run's container, lowest to highest precedence:

1. the agent's defaults (``CONTAINER_DEFAULT_ENV``);
2. the agent's ``--env``;
3. the template's own variables (Kubernetes Job template, ECS task definition);
4. the run config's ``env``;
5. what the run needs to reach the backend (URL, API key, run id, lease), which nothing
   overrides; the heartbeat interval is a default the run config may change.

Unlike the local agent, the agent's own process environment is never passed on: it
belongs to another machine.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jupyter_flows.agents.base import Agent, RunRefused
from jupyter_flows.deploy.compat import storage_problem
from jupyter_flows.flow_run.execute import HEARTBEAT_ENV, LEASE_ENV

if TYPE_CHECKING:
    from jupyter_flows.api import Claim

CONTAINER_DEFAULT_ENV = {"PYTHONUNBUFFERED": "1"}
# what the run's container must get from the agent, whatever a template or config says
REQUIRED_ENV = frozenset({"JUPYTER_FLOWS_BACKEND_URL", "JUPYTER_FLOWS_FLOW_RUN_ID",
                          "JUPYTER_FLOWS_API_KEY", LEASE_ENV})
LABEL_PREFIX = "jupyter-flows.io"
_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")


def flow_run_command(flow_run_id: str) -> list[str]:
    """What every container agent runs: the image's CMD is replaced, its ENTRYPOINT kept."""
    return ["python", "-m", "jupyter_flows", "execute", "flow-run", flow_run_id]


def container_env(agent_env: Mapping[str, str], run_env: Mapping[str, str], *,
                  backend_url: str, api_key: str | None, flow_run_id: str, lease_id: str,
                  heartbeat_interval: float,
                  template_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a flow run's container (precedence in the module docstring)."""
    env = {**CONTAINER_DEFAULT_ENV, **agent_env, **(template_env or {}), **run_env}
    env.setdefault(HEARTBEAT_ENV, f"{heartbeat_interval:.2f}")
    env.update({"JUPYTER_FLOWS_BACKEND_URL": backend_url,
                "JUPYTER_FLOWS_FLOW_RUN_ID": flow_run_id, LEASE_ENV: lease_id})
    if api_key:
        env["JUPYTER_FLOWS_API_KEY"] = api_key
    return env


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value: at most 63 of ``[A-Za-z0-9_.-]``, starting and
    ending with a letter or digit (flow names go whole into annotations)."""
    value = _LABEL_VALUE.sub("-", text)[:63].strip("-_.")
    return value or "unnamed"


def run_labels(claim: Claim, agent_name: str) -> dict[str, str]:
    """Labels naming the flow and run on the container, Job or task (label-safe values)."""
    run = claim.flow_run
    return {
        f"{LABEL_PREFIX}/flow-run-id": run.id,
        f"{LABEL_PREFIX}/flow-id": run.flow_id,
        f"{LABEL_PREFIX}/flow-name": label_value(run.flow_name),
        f"{LABEL_PREFIX}/agent": label_value(agent_name),
    }


# --------------------------------------------------------------------------- images
def image_registry(image: str) -> str:
    """The registry host an image reference pulls from, as Docker reads it: the first path
    component when it has a '.' or ':' or is 'localhost', else Docker Hub ('docker.io')."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def registry_allowed(image: str, allowed: list[str]) -> bool:
    """Whether ``image`` comes from a registry in ``allowed`` (an empty list allows all).

    Entries are hosts, with ``*`` wildcards: ``ghcr.io``, ``*.dkr.ecr.us-east-1.amazonaws.com``.
    ``docker.io`` (also spelled ``index.docker.io``) stands for Docker Hub.
    """
    if not allowed:
        return True
    registry = image_registry(image)
    hub = {"docker.io", "index.docker.io", "registry-1.docker.io"}
    for entry in allowed:
        pattern = entry.strip().lower().rstrip("/")
        if fnmatch.fnmatchcase(registry, pattern) or (registry in hub and pattern in hub):
            return True
    return False


# -------------------------------------------------------------------- templates
def load_document(text: str, what: str) -> Any:
    """A YAML (or JSON) document; ``what`` names it in the error."""
    try:
        import yaml
    except ImportError:
        raise RunRefused(f"{what} is YAML text, and reading it needs PyYAML: "
                         "pip install pyyaml") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RunRefused(f"{what} is not valid YAML{where}: {problem}") from None


def read_document(location: str, what: str) -> Any:
    """A YAML/JSON document at a path on this machine, ``agent:///path`` (the same, as a
    run config names it), or an fsspec URL (s3://...)."""
    import fsspec

    if location.startswith("agent://"):
        location = location[len("agent://"):]

    try:
        with fsspec.open(location, "rt", encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise RunRefused(f"{what} {location!r} does not exist (it is read by the agent, on"
                         " the agent's machine or from a URL)") from None
    except ImportError as exc:
        raise RunRefused(f"cannot read {what} {location!r}: {exc}") from None
    except Exception as exc:  # fsspec backends raise their own kinds
        raise RunRefused(f"cannot read {what} {location!r}: {exc}") from None
    return load_document(text, f"{what} {location!r}")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: dicts merge key by key; anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class ContainerAgent(Agent):
    """An agent that runs each flow run in a container image.

    Adds the agent's default ``image``, the backend URL given to runs (``run_backend_url``:
    the URL the agent uses may not be reachable from a container) and the checks every
    container platform makes before starting a run.
    """

    def __init__(self, *args: Any, image: str | None = None,
                 run_backend_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.image = image
        self.run_backend_url = run_backend_url

    def run_config(self, claim: Claim) -> dict[str, Any]:
        return dict(claim.flow_run.run_config or {})

    def choose_image(self, claim: Claim, template_image: str | None = None,
                     field: str = "image") -> str:
        """Docker storage's image > run config image > template's image > the agent's
        ``--image``; a run config image other than the storage's is refused."""
        from jupyter_flows.deploy.compat import image_conflict
        from jupyter_flows.storage.docker import image_of

        run_config = self.run_config(claim)
        stored_in = image_of(claim.flow.storage)
        conflict = image_conflict(claim.flow.storage, run_config.get("image"), field=field)
        if conflict is not None:
            raise RunRefused(conflict)
        if stored_in:
            return stored_in
        image = run_config.get("image") or template_image or self.image
        if not image:
            kind = run_config.get("type") or "universal"
            raise RunRefused(
                f"no image to run flow {claim.flow.name!r} in: set {field} in its"
                f" {kind!r} run config, or start the {self.type} agent with --image")
        return str(image)

    def check_storage(self, claim: Claim, mounts: list[str] | None = None) -> None:
        problem = storage_problem(claim.flow.storage, self.type, mounts=mounts)
        if problem is not None:
            raise RunRefused(problem)

    def env_for(self, claim: Claim, template_env: Mapping[str, str] | None = None
                ) -> dict[str, str]:
        run_config = self.run_config(claim)
        return container_env(
            self.env, run_config.get("env") or {},
            backend_url=self.run_backend_url or self.client.url, api_key=self.api_key,
            flow_run_id=claim.flow_run.id, lease_id=claim.lease.lease_id,
            heartbeat_interval=self.lease_seconds(claim) / 3, template_env=template_env)

    def labels_for(self, claim: Claim) -> dict[str, str]:
        return run_labels(claim, self.name)
