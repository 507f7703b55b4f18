"""DockerAgent: runs each flow run in a container on a Docker host (DockerRun, UniversalRun).

For each claimed run it picks the image (Docker storage's image > run config > agent
``--image``), refuses images from registries outside its allow-list, pulls by its pull
policy (an image it cannot get fails the run with Docker's reason), creates a container
labelled with the flow and run (command ``python -m jupyter_flows execute flow-run ID``,
environment as ``containers`` describes, the run config's ``host_config`` and ``ports``,
the agent's volumes and networks, Docker's init process as PID 1 unless ``host_config``
says ``init: false``, so SIGTERM reaches the flow-run process and orphans are reaped),
starts it, and watches it (``docker_container``): a container that exits before its run
finished (non-zero exit, OOM kill, killed from outside) is reported on the run with
Docker's reason and the container's last output. ``stop_run`` stops a run's container on
request. Finished containers are removed unless ``remove=False``.
"""

from __future__ import annotations

import logging
import posixpath
from typing import TYPE_CHECKING, Any

from jupyter_flows.agents.base import RunRefused
from jupyter_flows.agents.containers import ContainerAgent, flow_run_command, registry_allowed
from jupyter_flows.agents.docker_container import DockerContainer
from jupyter_flows.errors import AgentConfigError

if TYPE_CHECKING:
    from jupyter_flows.api import Claim

_log = logging.getLogger("jupyter_flows.agent.docker")
PULL_POLICIES = ("always", "if-not-present", "never")
_DOCKER_LABEL = "io.jupyter-flows"
RUN_ID_LABEL = f"{_DOCKER_LABEL}.flow-run-id"


def docker_labels(labels: dict[str, str], flow_name: str) -> dict[str, str]:
    """Docker's reverse-DNS label keys; Docker allows any value, so the flow name is whole."""
    out = {f"{_DOCKER_LABEL}.{key.rpartition('/')[2]}": value for key, value in labels.items()}
    out[f"{_DOCKER_LABEL}.flow-name"] = flow_name
    return out


def same_path_mounts(volumes: list[str]) -> list[str]:
    """Container paths a volume spec list mounts from the same path on the host."""
    mounts = []
    for spec in volumes:
        parts = spec.split(":")
        if len(parts) >= 2 and parts[0].startswith("/") and \
                posixpath.normpath(parts[0]) == posixpath.normpath(parts[1]):
            mounts.append(parts[1])
    return mounts


def _binds_as_list(binds: Any) -> list[str]:
    """docker-py takes binds as ``["host:container:mode"]`` or ``{host: {bind, mode}}``."""
    if binds is None:
        return []
    if isinstance(binds, dict):
        out = []
        for host, spec in binds.items():
            if isinstance(spec, dict):
                out.append(f"{host}:{spec.get('bind', host)}:{spec.get('mode', 'rw')}")
            else:
                out.append(f"{host}:{spec}")
        return out
    return [str(b) for b in binds]


class DockerAgent(ContainerAgent):
    """Launches flow runs as Docker containers through the Docker Engine API."""

    type = "docker"
    run_config_types = ("docker", "universal")

    def __init__(self, *args: Any, base_url: str | None = None,
                 docker_client: Any = None, volumes: list[str] | None = None,
                 networks: list[str] | None = None, pull_policy: str = "if-not-present",
                 registries: list[str] | None = None, remove: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if pull_policy not in PULL_POLICIES:
            raise AgentConfigError(f"DockerAgent.pull_policy: expected one of"
                                   f" {', '.join(PULL_POLICIES)}, got {pull_policy!r}")
        self.base_url = base_url
        self._docker = docker_client
        self.volumes = list(volumes or [])
        self.networks = list(networks or [])
        self.pull_policy = pull_policy
        self.registries = list(registries or [])
        self.remove = remove

    @property
    def docker(self) -> Any:
        """The docker SDK client (``DOCKER_HOST`` and friends unless ``base_url`` is set)."""
        if self._docker is None:
            try:
                import docker
            except ImportError:
                raise RunRefused("the Docker agent needs the docker SDK: "
                                 "pip install 'jupyter-flows[docker]'") from None
            try:
                self._docker = (docker.DockerClient(base_url=self.base_url) if self.base_url
                                else docker.from_env())
            except docker.errors.DockerException as exc:
                where = self.base_url or "DOCKER_HOST or the local socket"
                raise RunRefused(f"cannot reach the Docker Engine at {where}: {exc}") from None
        return self._docker

    # ------------------------------------------------------------------ launch
    def launch(self, claim: Claim) -> DockerContainer:
        image = self.choose_image(claim, field="DockerRun.image")
        if not registry_allowed(image, self.registries):
            raise RunRefused(
                f"image {image!r} comes from a registry this Docker agent does not allow"
                f" (it allows {', '.join(self.registries)})")
        run_config = self.run_config(claim)
        host_config_args = dict(run_config.get("host_config") or {})
        binds = [*self.volumes, *_binds_as_list(host_config_args.pop("binds", None))]
        self.check_storage(claim, mounts=same_path_mounts(binds))
        api = self.docker.api
        self._pull(api, image)
        if binds:
            host_config_args["binds"] = binds
        host_config_args.setdefault("init", True)
        if self.networks:
            host_config_args.setdefault("network_mode", self.networks[0])
        try:
            host_config = api.create_host_config(**host_config_args)
        except TypeError as exc:
            raise RunRefused(f"DockerRun.host_config: {exc}") from None
        networking = None
        if self.networks:
            networking = api.create_networking_config(
                {self.networks[0]: api.create_endpoint_config()})
        ports = run_config.get("ports") or None
        name = f"jupyter-flows-{claim.flow_run.id[:12]}-{claim.lease.lease_id[:6]}"
        created = api.create_container(
            image, command=flow_run_command(claim.flow_run.id), name=name,
            environment=self.env_for(claim),
            labels=docker_labels(self.labels_for(claim), claim.flow.name),
            host_config=host_config, ports=ports, networking_config=networking)
        container_id = str(created["Id"])
        handle = DockerContainer(api, container_id, remove=self.remove)
        try:
            for network in self.networks[1:]:
                api.connect_container_to_network(container_id, network)
            api.start(container_id)
        except Exception:
            handle.cleanup()
            raise
        _log.info("flow run %s: container %s (%s) started", claim.flow_run.id,
                  container_id[:12], image)
        return handle

    def _pull(self, api: Any, image: str) -> None:
        from docker.errors import APIError, ImageNotFound
        from docker.utils import parse_repository_tag

        if self.pull_policy != "always":
            try:
                api.inspect_image(image)
                return
            except ImageNotFound:
                if self.pull_policy == "never":
                    raise RunRefused(
                        f"image {image!r} is not on the Docker host, and this agent's pull"
                        " policy is 'never': pull it there first, or start the agent with"
                        " --pull if-not-present") from None
        repository, tag = parse_repository_tag(image)
        _log.info("pulling %s", image)
        # a pull that fails fails the run: an image that does not exist, or a registry that
        # refuses this host, will not appear by starting the same run again
        try:
            for event in api.pull(repository, tag=tag or "latest", stream=True, decode=True):
                if isinstance(event, dict) and event.get("error"):
                    raise RunRefused(f"cannot pull image {image!r}: {event['error']}")
        except APIError as exc:
            raise RunRefused(f"image {image!r} is not on the Docker host and pulling it"
                             f" failed: {exc.explanation or exc}") from None

    # ----------------------------------------------------------------- stopping
    def stop_run(self, flow_run_id: str, grace: float = 10.0) -> bool:
        """Stop the container of a flow run: SIGTERM to its processes, SIGKILL after
        ``grace`` seconds. Finds the container among this agent's launched runs, else by
        its flow-run label (an agent restarted since it launched it). The watch loop then
        reports the run's end as a stop on request. False when no container was found."""
        launched = self.launched.get(flow_run_id)
        if launched is not None and isinstance(launched.handle, DockerContainer):
            handles = [launched.handle]
        else:
            found = self.docker.api.containers(
                all=True, filters={"label": f"{RUN_ID_LABEL}={flow_run_id}"})
            handles = [DockerContainer(self.docker.api, str(c["Id"]), remove=self.remove)
                       for c in found]
        for handle in handles:
            _log.info("flow run %s: stopping container %s (grace %.0f s)", flow_run_id,
                      handle.short_id, grace)
            handle.stop(grace)
        return bool(handles)
