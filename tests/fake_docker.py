"""A fake Docker Engine: the few Engine API endpoints the Docker agent uses, over HTTP, for
the unchanged docker SDK (``docker.DockerClient(base_url="tcp://127.0.0.1:PORT")``).

Kept only for what the real Docker Engine of these machines (``docker_engine``) cannot do:
pulls from a registry (none is reachable), user-defined networks and port publishing (it
runs without a bridge). Everything a container does is tested on the real engine.

Served: ``/version``, image inspect and pull (``images/create``), container create, start,
inspect, logs (multiplexed like a non-TTY container's) and remove, and network connect.
What a container does is scripted per image with ``Outcome``; an image whose outcome has
``execute=True`` really runs the container's command as a local process with the
container's environment (``python`` being this interpreter), so a run can go end to end.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from fake_http import FakeServer, Request, Response

V = r"/v[0-9.]+"


@dataclass
class Outcome:
    """How a container of an image ends: after ``polls`` inspections, with ``exit_code``."""

    exit_code: int = 0
    oom_killed: bool = False
    logs: list[str] = field(default_factory=list)
    polls: int = 1
    execute: bool = False
    error: str = ""


@dataclass
class Container:
    id: str
    name: str
    config: dict[str, Any]
    status: str = "created"
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""
    logs: list[str] = field(default_factory=list)
    inspections: int = 0
    outcome: Outcome = field(default_factory=Outcome)
    networks: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None


class FakeDocker(FakeServer):
    """State: ``images`` present, ``missing`` images a pull cannot find, ``outcomes`` per
    image, ``containers`` by id, ``created`` configs, ``removed`` ids, ``pulled`` images."""

    def __init__(self) -> None:
        super().__init__()
        self.images: set[str] = set()
        self.missing: set[str] = set()
        self.outcomes: dict[str, Outcome] = {}
        self.containers: dict[str, Container] = {}
        self.removed: list[str] = []
        self.pulled: list[str] = []
        self.created: list[dict[str, Any]] = []  # every container's config, kept on removal
        self.route("GET", "/version", self._version)
        self.route("GET", f"{V}/version", self._version)
        self.route("GET", f"{V}/images/(?P<name>.+)/json", self._inspect_image)
        self.route("POST", f"{V}/images/create", self._pull)
        self.route("POST", f"{V}/containers/create", self._create)
        self.route("POST", f"{V}/containers/(?P<id>[^/]+)/start", self._start)
        self.route("GET", f"{V}/containers/(?P<id>[^/]+)/json", self._inspect)
        self.route("GET", f"{V}/containers/(?P<id>[^/]+)/logs", self._logs)
        self.route("DELETE", f"{V}/containers/(?P<id>[^/]+)", self._remove)
        self.route("POST", f"{V}/networks/(?P<net>[^/]+)/connect", self._connect)

    @property
    def base_url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        for container in self.containers.values():
            if container.process is not None and container.process.poll() is None:
                container.process.kill()
                container.process.wait()
        super().stop()

    def only_container(self) -> Container:
        assert len(self.containers) == 1, self.containers
        return next(iter(self.containers.values()))

    # ------------------------------------------------------------------ handlers
    def _version(self, _: Request) -> Response:
        return Response(body={"ApiVersion": "1.45", "MinAPIVersion": "1.24",
                              "Version": "fake", "Os": "linux"})

    def _inspect_image(self, request: Request) -> Response:
        assert request.match is not None
        name = _normalize(request.match["name"])
        if name in self.images:
            return Response(body={"Id": f"sha256:{uuid.uuid4().hex}", "RepoTags": [name]})
        return Response(404, {"message": f"No such image: {name}"})

    def _pull(self, request: Request) -> Response:
        image = _normalize(f"{request.param('fromImage')}:{request.param('tag') or 'latest'}")
        self.pulled.append(image)
        if image in self.missing:
            repo = image.rsplit(":", 1)[0]
            return Response(404, {"message": f"pull access denied for {repo}, repository does"
                                             " not exist or may require 'docker login'"})
        self.images.add(image)
        lines = [{"status": f"Pulling from {image}"}, {"status": "Download complete"}]
        return Response(chunks=[_json_line(x) for x in lines])

    def _create(self, request: Request) -> Response:
        config = dict(request.body or {})
        image = _normalize(config.get("Image", ""))
        if image not in self.images:
            return Response(404, {"message": f"No such image: {image}"})
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        name = request.param("name") or cid[:12]
        container = Container(cid, name, config, outcome=self.outcomes.get(image, Outcome()))
        networking = (config.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
        container.networks = list(networking)
        self.containers[cid] = container
        self.created.append(config)
        return Response(201, {"Id": cid, "Warnings": []})

    def _start(self, request: Request) -> Response:
        container = self._get(request)
        if container is None:
            return Response(404, {"message": "No such container"})
        container.status = "running"
        if container.outcome.execute:
            self._execute(container)
        return Response(204)

    def _inspect(self, request: Request) -> Response:
        container = self._get(request)
        if container is None:
            return Response(404, {"message": "No such container"})
        outcome = container.outcome
        if container.status == "running" and not outcome.execute:
            container.inspections += 1
            if container.inspections >= outcome.polls:
                container.status = "exited"
                container.exit_code = outcome.exit_code
                container.oom_killed = outcome.oom_killed
                container.error = outcome.error
                container.logs = list(outcome.logs)
        host_config = dict(container.config.get("HostConfig") or {})
        return Response(body={
            "Id": container.id, "Name": f"/{container.name}",
            "Config": {**container.config, "Tty": False},
            "HostConfig": host_config,
            "State": {"Status": container.status, "Running": container.status == "running",
                      "ExitCode": container.exit_code, "OOMKilled": container.oom_killed,
                      "Error": container.error},
            "NetworkSettings": {"Networks": {n: {} for n in container.networks}},
        })

    def _logs(self, request: Request) -> Response:
        container = self._get(request)
        if container is None:
            return Response(404, {"message": "No such container"})
        tail = request.param("tail", "all")
        lines = container.logs if tail == "all" else container.logs[-int(tail or 0):]
        frames = b""
        for line in lines:
            data = (line + "\n").encode()
            frames += struct.pack(">BxxxL", 1, len(data)) + data
        return Response(raw=frames, content_type="application/vnd.docker.raw-stream")

    def _remove(self, request: Request) -> Response:
        container = self._get(request)
        if container is None:
            return Response(404, {"message": "No such container"})
        if container.status == "running" and request.param("force") not in ("1", "True",
                                                                            "true"):
            return Response(409, {"message": "cannot remove a running container"})
        if container.process is not None and container.process.poll() is None:
            container.process.kill()
        del self.containers[container.id]
        self.removed.append(container.id)
        return Response(204)

    def _connect(self, request: Request) -> Response:
        assert request.match is not None
        container = self.containers.get((request.body or {}).get("Container", ""))
        if container is None:
            return Response(404, {"message": "No such container"})
        container.networks.append(request.match["net"])
        return Response(200)

    # ------------------------------------------------------------------- helpers
    def _get(self, request: Request) -> Container | None:
        assert request.match is not None
        key = request.match["id"]
        for container in self.containers.values():
            if key in (container.id, container.name) or container.id.startswith(key):
                return container
        return None

    def _execute(self, container: Container) -> None:
        """Run the command here, as the container would, and exit when it does."""
        command = list(container.config.get("Cmd") or [])
        if command and command[0] == "python":
            command[0] = sys.executable
        env = dict(os.environ)  # the "image": this machine's Python and packages
        for pair in container.config.get("Env") or []:
            key, _, value = pair.partition("=")
            env[key] = value
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        container.process = process

        def wait() -> None:
            out, _ = process.communicate()
            with self.lock:
                container.logs = out.decode("utf-8", "replace").splitlines()
                container.exit_code = process.returncode
                container.status = "exited"

        threading.Thread(target=wait, daemon=True).start()


def _normalize(image: str) -> str:
    return image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"


def _json_line(value: Any) -> bytes:
    import json

    return json.dumps(value).encode() + b"\r\n"
