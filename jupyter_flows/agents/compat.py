"""Which storage a flow run can load its code from, on each platform an agent runs it on.

=================  ============  ====================================================
run config         S3 storage    Local storage
=================  ============  ====================================================
LocalRun           yes           yes (the agent's disk)
DockerRun          yes           only with the flow's directory mounted into the
                                 container at the same path (agent ``--volume`` or
                                 ``host_config`` binds)
KubernetesRun      yes           no: a pod sees none of the registering machine's disk
ECSRun             yes           no: a task sees none of the registering machine's disk
UniversalRun       yes           decided by the agent that claims it, as above
=================  ============  ====================================================

S3 inside a container also needs boto3 in the image and AWS credentials (an IAM role, or
the environment). ``check_storage_for_run_config`` answers at registration, where the
agent's mounts are unknown (so a DockerRun with Local storage passes); the agents ask
``storage_problem`` again at launch, with their own mounts, and fail a run that slipped
through with the same message.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

# platform of each run config type; UniversalRun runs on whatever claims it
_PLATFORM = {"local": "local", "docker": "docker", "kubernetes": "kubernetes", "ecs": "ecs"}
_NAMES = {"docker": "DockerRun", "kubernetes": "KubernetesRun", "ecs": "ECSRun"}


def check_storage_for_run_config(storage_config: Mapping[str, Any] | None,
                                 run_config: Any) -> str | None:
    """Why a flow stored with ``storage_config`` cannot run with ``run_config``, or None.

    ``run_config`` is a RunConfig or its JSON dict. Only combinations that can never work
    are refused here; a DockerRun with Local storage depends on the Docker agent's
    volumes, so its agent checks it at launch.
    """
    kind = _run_config_type(run_config)
    platform = _PLATFORM.get(kind)
    if platform is None or platform == "docker":
        return None
    return storage_problem(storage_config, platform)


def storage_problem(storage_config: Mapping[str, Any] | None, platform: str, *,
                    mounts: Iterable[str] | None = None) -> str | None:
    """Why a run on ``platform`` ("local", "docker", "kubernetes", "ecs") cannot load a
    flow stored with ``storage_config``, or None.

    ``mounts`` are the container paths a Docker container gets from its host at the same
    path (``/srv/flows`` for a ``/srv/flows:/srv/flows`` volume).
    """
    storage = dict(storage_config or {})
    if str(storage.get("type", "")).lower() != "local" or platform == "local":
        return None  # S3 works anywhere with credentials; unknown kinds are not ours to judge
    location = str(storage.get("location") or storage.get("path") or storage.get("directory")
                   or "")
    where = f" ({location})" if location else ""
    if platform == "docker":
        if location and any(_covers(mount, location) for mount in mounts or ()):
            return None
        folder = posixpath.dirname(location) if location else "the flow's directory"
        return (f"the flow is stored with Local storage{where}, which a Docker container can"
                f" read only from a volume: start the Docker agent with --volume"
                f" {folder}:{folder} (or add that bind to DockerRun.host_config), or register"
                " the flow with S3 storage")
    name = _NAMES.get(platform, platform)
    article = "an" if name[:1] in "AEIOU" else "a"
    return (f"the flow is stored with Local storage{where}, which {article} {name} cannot read (its"
            f" container sees none of this machine's disk); register the flow with S3"
            " storage instead")


def _covers(mount: str, location: str) -> bool:
    mount = posixpath.normpath(mount)
    location = posixpath.normpath(location)
    return location == mount or location.startswith(mount.rstrip("/") + "/")


def _run_config_type(run_config: Any) -> str:
    if run_config is None:
        return "universal"
    if isinstance(run_config, Mapping):
        kind = run_config.get("type") or "universal"
    else:
        kind = getattr(run_config, "type", None) or "universal"
    kind = str(kind)
    # Prefect-style class names ("KubernetesRun") are accepted by run_config_from_config too
    aliases = {"LocalRun": "local", "DockerRun": "docker", "KubernetesRun": "kubernetes",
               "ECSRun": "ecs", "UniversalRun": "universal"}
    return aliases.get(kind, kind)
