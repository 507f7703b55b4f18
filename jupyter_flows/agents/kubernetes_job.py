"""The Job manifest a Kubernetes agent creates for a flow run: template, checks, merging.

The template is, first found: the run config's ``job_template`` (a mapping or YAML text) or
``job_template_path`` (read by the agent: a local path or an fsspec URL), the agent's own
template, ``DEFAULT_JOB_TEMPLATE``. Onto it go, for the flow container (the one named
``flow``, else the first):

- the image: run config > template > agent ``--image``;
- ``args``: the flow-run command (the image's ENTRYPOINT, or the template's ``command``,
  stays);
- ``env``: as ``containers`` describes; a template variable read ``valueFrom`` a secret
  keeps its place above the agent's variables;
- resources, ``imagePullPolicy`` (run config > template);

and for the Job: its name, namespace, labels naming the flow and run (on the Job and its
pod), ``backoffLimit: 0`` and ``restartPolicy: Never`` (retries are the backend's to
decide, and a crashed run must end its Job), service account and image pull secrets (run
config > template > agent).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from jupyter_flows.agents.base import RunRefused
from jupyter_flows.agents.containers import REQUIRED_ENV, load_document

FLOW_CONTAINER = "flow"
DEFAULT_JOB_TEMPLATE: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"labels": {}},
    "spec": {
        "backoffLimit": 0,
        "template": {
            "metadata": {"labels": {}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": FLOW_CONTAINER}]},
        },
    },
}


def parse_template(value: Any, what: str) -> dict[str, Any]:
    """A Job template from a mapping or YAML text, checked; ``what`` names its source."""
    if isinstance(value, str):
        value = load_document(value, what)
    check_template(value, what)
    return copy.deepcopy(dict(value))


def check_template(job: Any, what: str) -> None:
    """Refuse templates Kubernetes would refuse, or that leave the agent nothing to fill."""
    if not isinstance(job, Mapping):
        raise RunRefused(f"{what}: expected a Job manifest (a mapping), got"
                         f" {type(job).__name__}")
    kind = job.get("kind", "Job")
    if kind != "Job":
        raise RunRefused(f"{what}: expected kind 'Job', got {kind!r}")
    api_version = job.get("apiVersion", "batch/v1")
    if api_version != "batch/v1":
        raise RunRefused(f"{what}: expected apiVersion 'batch/v1', got {api_version!r}")
    pod_spec = _mapping_at(job, ("spec", "template", "spec"), what)
    containers = pod_spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise RunRefused(
            f"{what}: the Job has no container in spec.template.spec.containers; add one"
            f" (e.g. '- name: {FLOW_CONTAINER}'), the agent fills in its image and command")
    for i, container in enumerate(containers):
        if not isinstance(container, Mapping) or not container.get("name"):
            raise RunRefused(f"{what}: spec.template.spec.containers[{i}] needs a name")


def flow_container(job: dict[str, Any]) -> dict[str, Any]:
    """The container that runs the flow: the one named ``flow``, else the first."""
    containers: list[dict[str, Any]] = job["spec"]["template"]["spec"]["containers"]
    for container in containers:
        if container.get("name") == FLOW_CONTAINER:
            return container
    return containers[0]


def template_env(container: Mapping[str, Any]) -> dict[str, str]:
    """The template's plain ``name: value`` variables of a container."""
    return {str(e["name"]): str(e.get("value", "")) for e in container.get("env") or []
            if isinstance(e, Mapping) and "name" in e and "valueFrom" not in e}


def build_job(template: Mapping[str, Any], *, name: str, namespace: str, image: str,
              command: list[str], env: Mapping[str, str], run_env: Mapping[str, str],
              labels: Mapping[str, str], annotations: Mapping[str, str],
              run_config: Mapping[str, Any], service_account: str | None = None,
              image_pull_secrets: list[str] | None = None) -> dict[str, Any]:
    """The Job to create. ``env`` is the container's whole environment (already merged with
    ``template_env``); ``run_env`` the run config's own, which beats ``valueFrom`` entries."""
    job = copy.deepcopy(dict(template))
    job["apiVersion"], job["kind"] = "batch/v1", "Job"
    metadata = job.setdefault("metadata", {})
    metadata.pop("generateName", None)
    metadata.update(name=name, namespace=namespace)
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels}
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
    spec = job.setdefault("spec", {})
    spec["backoffLimit"] = 0
    pod_template = spec.setdefault("template", {})
    pod_metadata = pod_template.setdefault("metadata", {})
    pod_metadata["labels"] = {**(pod_metadata.get("labels") or {}), **labels}
    pod_metadata["annotations"] = {**(pod_metadata.get("annotations") or {}), **annotations}
    pod_spec = pod_template.setdefault("spec", {})
    pod_spec["restartPolicy"] = "Never"

    account = run_config.get("service_account_name") or pod_spec.get("serviceAccountName") \
        or service_account
    if account:
        pod_spec["serviceAccountName"] = account
    secrets = run_config.get("image_pull_secrets")
    if secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in secrets]
    elif not pod_spec.get("imagePullSecrets") and image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in image_pull_secrets]

    container = flow_container(job)
    container["image"] = image
    container["args"] = list(command)
    if run_config.get("image_pull_policy"):
        container["imagePullPolicy"] = run_config["image_pull_policy"]
    container["env"] = _env_entries(container.get("env") or [], env, run_env)
    _set_resources(container, run_config)
    return job


def _env_entries(template_entries: list[Any], env: Mapping[str, str],
                 run_env: Mapping[str, str]) -> list[dict[str, Any]]:
    beaten = set(run_env) | REQUIRED_ENV
    from_refs = [dict(e) for e in template_entries
                 if isinstance(e, Mapping) and "valueFrom" in e and e.get("name") not in beaten]
    ref_names = {e["name"] for e in from_refs}
    plain = [{"name": k, "value": v} for k, v in env.items() if k not in ref_names]
    return [*plain, *from_refs]


def _set_resources(container: dict[str, Any], run_config: Mapping[str, Any]) -> None:
    wanted = {("requests", "cpu"): run_config.get("cpu_request"),
              ("limits", "cpu"): run_config.get("cpu_limit"),
              ("requests", "memory"): run_config.get("memory_request"),
              ("limits", "memory"): run_config.get("memory_limit")}
    if all(v is None for v in wanted.values()):
        return
    resources = container.setdefault("resources", {})
    for (section, resource), value in wanted.items():
        if value is not None:
            # quantities travel as strings; a JSON number would be read as a float
            resources.setdefault(section, {})[resource] = str(value)


def _mapping_at(job: Mapping[str, Any], path: tuple[str, ...], what: str) -> Mapping[str, Any]:
    node: Any = job
    for depth, key in enumerate(path):
        node = node.get(key) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping):
            where = ".".join(path[: depth + 1])
            raise RunRefused(f"{what}: the Job has no {where} (a Job's pod template goes in"
                             " spec.template.spec)")
    return node
