"""Building (and pushing) a Docker storage image with docker-py, at registration.

The build context is a temporary folder: the user's Dockerfile's folder when there is
one, each of ``files`` under a numbered name, the flow's payload as ``flow.payload``, and
the generated Dockerfile. A failed step (the healthcheck that loads the flow included)
raises ``StorageError`` with the step's output.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_flows.errors import StorageError

if TYPE_CHECKING:
    from jupyter_flows.storage.docker import Docker
    from jupyter_flows.storage.payload import Payload

BUILD_LOG_TAIL = 40


def docker_client(base_url: str | None) -> Any:
    try:
        import docker
    except ImportError:
        raise StorageError("Docker storage needs the docker SDK: "
                           "pip install 'jupyter-flows[docker]'") from None
    try:
        return docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
    except docker.errors.DockerException as exc:
        where = base_url or "DOCKER_HOST or the local socket"
        raise StorageError(f"Docker storage cannot reach the Docker Engine at {where}: {exc}"
                           ) from None


def build_and_push(storage: Docker, payload: Payload) -> str:
    """Build the image of ``payload`` (setting ``storage.image_tag`` when unset), push it
    when ``storage.registry_url`` is set; returns the image reference."""
    client = docker_client(storage.base_url)
    try:
        with tempfile.TemporaryDirectory(prefix="jupyter-flows-image-") as folder:
            context = Path(folder)
            if storage.dockerfile:
                shutil.copytree(Path(storage.dockerfile).expanduser().resolve().parent,
                                context, dirs_exist_ok=True)
            sources: dict[str, Path] = {}
            targets: dict[str, str] = {}
            for i, (source, target) in enumerate(storage.files.items()):
                path = Path(source).expanduser()
                if not path.exists():
                    raise StorageError(f"Docker.files: {source!r} does not exist")
                name = f"jupyter-flows-files/{i}"
                (context / name).parent.mkdir(parents=True, exist_ok=True)
                if path.is_dir():
                    shutil.copytree(path, context / name)
                else:
                    shutil.copy2(path, context / name)
                sources[name], targets[name] = path, target
            (context / "flow.payload").write_bytes(payload.data)
            text = storage.dockerfile_text(payload, targets)
            dockerfile = context / "jupyter-flows.Dockerfile"
            dockerfile.write_text(text, encoding="utf-8")
            if storage.image_tag is None:
                storage.image_tag = storage.default_tag(text, payload, sources)
            image = storage.image
            assert image is not None
            _build(client, context, dockerfile.name, image, payload.flow_name,
                   storage.build_kwargs)
        if storage.registry_url:
            _push(client, image)
        return image
    finally:
        client.close()


def _build(client: Any, context: Path, dockerfile: str, image: str, flow_name: str,
           build_kwargs: dict[str, Any]) -> None:
    from docker.errors import APIError, BuildError

    options = {"rm": True, "forcerm": True, **build_kwargs}
    try:
        client.images.build(path=str(context), dockerfile=dockerfile, tag=image, **options)
    except BuildError as exc:
        output = "".join(str(line.get("stream") or line.get("error") or "")
                         for line in exc.build_log).rstrip().splitlines()
        tail = "\n".join(output[-BUILD_LOG_TAIL:])
        raise StorageError(f"building image {image} for flow {flow_name!r} failed:"
                           f" {exc.msg}\n{tail}") from None
    except (APIError, TypeError) as exc:
        raise StorageError(f"building image {image} for flow {flow_name!r} failed: {exc}"
                           ) from None


def _push(client: Any, image: str) -> None:
    from docker.errors import APIError
    from docker.utils import parse_repository_tag

    repository, tag = parse_repository_tag(image)
    try:
        for event in client.images.push(repository, tag=tag, stream=True, decode=True):
            if isinstance(event, dict) and event.get("error"):
                raise StorageError(f"pushing image {image} failed: {event['error']}")
    except APIError as exc:
        raise StorageError(f"pushing image {image} failed: {exc.explanation or exc}"
                           ) from None
