"""Which storage a flow run can load its code from, on each platform an agent runs it on.

=================  ======  =================================  ===========================
run config         S3      Local storage; Git storage of a    Docker storage
                           repository on local disk
=================  ======  =================================  ===========================
LocalRun           yes     yes (the agent's disk)             no: the flow is in an image
DockerRun          yes     only with that directory mounted   yes (registry_url, or built
                           into the container at the same     on the agent's Docker host)
                           path (agent ``--volume`` or
                           ``host_config`` binds)
KubernetesRun      yes     no: a pod sees none of the         only with registry_url: a
                           registering machine's disk         cluster pulls from a registry
ECSRun             yes     no: the same                       only with registry_url
UniversalRun       yes     decided by the agent that claims it, as above
=================  ======  =================================  ===========================

Git storage of a remote repository works everywhere (the image needs
``jupyter-flows[git]``). S3 inside a container also needs boto3 in the image and AWS
credentials (an IAM role, or the environment). ``check_storage_for_run_config`` answers at
registration, where the agent's mounts are unknown (so a DockerRun with Local storage
passes); the agents ask ``storage_problem`` again at launch, with their own mounts, and
fail a run that slipped through with the same message.

With Docker storage the agents run the storage's image, so a run config's ``image`` must
be unset or that same image (``image_conflict``): a different one is refused at
registration and at launch rather than silently running one of the two.
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
    conflict = image_conflict(storage_config, _run_config_image(run_config))
    if conflict is not None:
        return conflict
    platform = _PLATFORM.get(kind)
    if platform is None:
        return None
    if platform == "docker":  # mounts are the agent's: it checks Local storage at launch
        return storage_problem(storage_config, platform, mounts=None, at_registration=True)
    return storage_problem(storage_config, platform)


def image_conflict(storage_config: Mapping[str, Any] | None, image: str | None,
                   field: str = "the run config's image") -> str | None:
    """Why a run config ``image`` conflicts with the flow's Docker storage, or None."""
    storage = dict(storage_config or {})
    if not image or str(storage.get("type", "")).lower() != "docker":
        return None
    from jupyter_flows.storage.docker import image_of

    built = image_of(storage)
    if built == image:
        return None
    what = f"image {built}" if built else "an image (its tag is chosen when it is built)"
    return (f"the flow is stored with Docker storage in {what}, but {field} is {image!r}:"
            " leave the run config's image unset (the agent runs the storage's image) or"
            " set it to that same image")


def storage_problem(storage_config: Mapping[str, Any] | None, platform: str, *,
                    mounts: Iterable[str] | None = None,
                    at_registration: bool = False) -> str | None:
    """Why a run on ``platform`` ("local", "docker", "kubernetes", "ecs") cannot load a
    flow stored with ``storage_config``, or None.

    ``mounts`` are the container paths a Docker container gets from its host at the same
    path (``/srv/flows`` for a ``/srv/flows:/srv/flows`` volume). ``at_registration``: the
    Docker agent's mounts are not known yet, so paths on local disk are not judged.
    """
    storage = dict(storage_config or {})
    kind = str(storage.get("type", "")).lower()
    if kind == "docker":
        return _docker_storage_problem(storage, platform)
    if kind in ("git", "github"):
        repo = str(storage.get("repo") or "")
        local = repo.removeprefix("file://") if repo.startswith(("/", "file://")) else None
        if local is None or platform == "local" or (platform == "docker" and at_registration):
            return None
        return _disk_problem(f"in the Git repository {local}", local, platform, mounts,
                             remedy="a repository URL the run can reach")
    if kind != "local" or platform == "local" or (platform == "docker" and at_registration):
        return None  # S3 works anywhere with credentials; unknown kinds are not ours to judge
    location = str(storage.get("location") or storage.get("path") or storage.get("directory")
                   or "")
    return _disk_problem("with Local storage", location, platform, mounts,
                         remedy="S3 storage")


def _docker_storage_problem(storage: dict[str, Any], platform: str) -> str | None:
    from jupyter_flows.storage.docker import image_of

    image = image_of(storage) or "an image"
    if platform == "local":
        return (f"the flow is stored in Docker image {image} (Docker storage), which a"
                " LocalRun cannot load (it runs outside any image): use DockerRun, or"
                " another storage")
    if platform in ("kubernetes", "ecs") and not storage.get("registry_url"):
        name = _NAMES[platform]
        return (f"the flow is stored in Docker image {image}, which stays on the Docker host"
                f" that built it (Docker storage without registry_url), and {_article(name)}"
                f" {name} pulls images from a registry: set Docker(registry_url=...)")
    return None


def _article(name: str) -> str:
    return "an" if name[:1] in "AEIOU" else "a"


def _disk_problem(how: str, location: str, platform: str, mounts: Iterable[str] | None, *,
                  remedy: str) -> str | None:
    where = f" ({location})" if location and how.startswith("with") else ""
    if platform == "docker":
        if location and any(_covers(mount, location) for mount in mounts or ()):
            return None
        if how.startswith("with"):
            folder = posixpath.dirname(location) if location else "the flow's directory"
        else:
            folder = location
        return (f"the flow is stored {how}{where}, which a Docker container can read only"
                f" from a volume: start the Docker agent with --volume {folder}:{folder} (or"
                f" add that bind to DockerRun.host_config), or register the flow with"
                f" {remedy}")
    name = _NAMES.get(platform, platform)
    return (f"the flow is stored {how}{where}, which {_article(name)} {name} cannot read (its"
            f" container sees none of this machine's disk); register the flow with {remedy}"
            " instead")


def _covers(mount: str, location: str) -> bool:
    mount = posixpath.normpath(mount)
    location = posixpath.normpath(location)
    return location == mount or location.startswith(mount.rstrip("/") + "/")


def _run_config_image(run_config: Any) -> str | None:
    if run_config is None:
        return None
    image = (run_config.get("image") if isinstance(run_config, Mapping)
             else getattr(run_config, "image", None))
    return str(image) if image else None


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
