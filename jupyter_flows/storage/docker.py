"""Docker storage: the flow is built into an image, which the container agents then run.

As in Prefect 1.x, ``flow.register()`` with ``Docker(...)`` storage writes a Dockerfile
(``dockerfile_text``): the base image (or the user's Dockerfile), ``env_vars``, ``files``,
``python_dependencies`` (which may name wheels among the files), the flow's payload under
``directory``,
``extra_dockerfile_commands`` and a healthcheck step that loads the flow inside the build,
so a flow that cannot be loaded in that image fails registration with the build's error
rather than failing its first run. The image is built with docker-py and pushed when
``registry_url`` is given (``docker_build``); the storage config then names the image, and
the Docker, Kubernetes and ECS agents run the flow in it (``image_of``).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shlex
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from jupyter_flows.errors import StorageError
from jupyter_flows.storage.base import Storage
from jupyter_flows.storage.payload import Payload, slugify

# Docker's reference grammar, simplified: lowercase path components; tags of word chars
_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)"
                   r"[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HEALTHCHECK_MODULE = "jupyter_flows.storage.healthcheck"


def default_base_image() -> str:
    """The image the project's Dockerfile builds, by the tag the README gives it."""
    from jupyter_flows import __version__

    return f"jupyter-flows:{__version__}"


class Docker(Storage):
    """Store the flow inside a Docker image built at registration.

    ``base_image`` (default ``jupyter-flows:<version>``, built from the project's
    Dockerfile) or ``dockerfile`` (a path; its folder is the build context) is the start;
    the image is ``[registry_url/]image_name:image_tag`` (name default: the flow's name as
    a slug; tag default: a hash of everything that went into the image). Without
    ``registry_url`` the image stays on the Docker host that built it (``base_url``, else
    ``DOCKER_HOST``), which only a Docker agent on that host can run.
    """

    type: Literal["docker"] = "docker"
    registry_url: str | None = None
    base_image: str | None = None
    dockerfile: str | None = None
    python_dependencies: list[str] = Field(default_factory=list)
    image_name: str | None = None
    image_tag: str | None = None
    env_vars: dict[str, str] = Field(default_factory=dict)
    files: dict[str, str] = Field(
        default_factory=dict, description="Local paths (files or folders) -> absolute paths"
        " in the image.")
    extra_dockerfile_commands: list[str] = Field(default_factory=list)
    directory: str = Field(default="/opt/flows",
                           description="Where in the image the flow's payload goes.")
    path: str | None = Field(default=None, description="With stored_as_script: the script"
                             " that builds the flow.")
    ignore_healthchecks: bool = False
    base_url: str | None = Field(default=None, description="The Docker Engine that builds.")
    build_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra arguments of docker-py's images.build"
        " (network_mode, buildargs, ...).")

    @field_validator("image_name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError(f"expected a Docker image name of lowercase letters, digits and"
                             f" separators (. _ - /), got {value!r}")
        return value

    @field_validator("image_tag")
    @classmethod
    def _check_tag(cls, value: str | None) -> str | None:
        if value is not None and not _TAG.match(value):
            raise ValueError(f"expected a Docker tag of at most 128 letters, digits, '_', '.'"
                             f" and '-', not starting with '.' or '-', got {value!r}")
        return value

    @field_validator("env_vars")
    @classmethod
    def _check_env(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return value

    @field_validator("files")
    @classmethod
    def _check_files(cls, value: dict[str, str]) -> dict[str, str]:
        for source, target in value.items():
            if not posixpath.isabs(target):
                raise ValueError(f"{source!r} goes to {target!r}, which is not an absolute"
                                 " path in the image")
        return value

    @field_validator("directory")
    @classmethod
    def _check_directory(cls, value: str) -> str:
        if not posixpath.isabs(value):
            raise ValueError(f"expected an absolute path in the image, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_start(self) -> Docker:
        if self.base_image and self.dockerfile:
            raise ValueError("give base_image or dockerfile, not both (a Dockerfile names"
                             " its own base in FROM)")
        return self

    # ------------------------------------------------------------------- naming
    @property
    def image(self) -> str | None:
        """The image's full reference, once it has a tag (set by the build)."""
        if not self.image_tag or not self.image_name:
            return None
        name = f"{self.image_name}:{self.image_tag}"
        return f"{self.registry_url.rstrip('/')}/{name}" if self.registry_url else name

    def describe(self, location: str) -> str:
        return f"{location} in image {self.image or '(not built yet)'}"

    def exists(self, location: str) -> bool:
        return Path(location).is_file()

    # --------------------------------------------------------------- Dockerfile
    def payload_path(self, payload: Payload) -> str:
        return posixpath.join(self.directory, slugify(payload.flow_name), payload.file_name)

    def dockerfile_text(self, payload: Payload, files: dict[str, str]) -> str:
        """The Dockerfile that builds the image; ``files`` maps context names to image
        paths (the flow's payload is ``flow.payload`` in the context)."""
        if self.dockerfile:
            try:
                start = Path(self.dockerfile).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise StorageError(f"Docker.dockerfile {self.dockerfile!r} cannot be read:"
                                   f" {exc.strerror or exc}") from None
            lines = [start.rstrip(), ""]
        else:
            lines = [f"FROM {self.base_image or default_base_image()}"]
        for name, value in self.env_vars.items():
            lines.append(f"ENV {name}={json.dumps(value)}")
        # files first, so python_dependencies may name a wheel or a package among them
        for name, target in files.items():
            lines.append(f"COPY {json.dumps([name, target])}")
        if self.python_dependencies:
            packages = " ".join(shlex.quote(p) for p in self.python_dependencies)
            lines.append(f"RUN python -m pip install --no-cache-dir {packages}")
        location = self.payload_path(payload)
        lines.append(f"COPY {json.dumps(['flow.payload', location])}")
        lines.extend(self.extra_dockerfile_commands)
        if not self.ignore_healthchecks:
            # the flow must load in the image it will run in: checked now, in the build
            check = ["python", "-m", HEALTHCHECK_MODULE, location, payload.flow_name]
            lines.append(f"RUN {json.dumps(check)}")
        return "\n".join(lines) + "\n"

    def default_tag(self, dockerfile: str, payload: Payload, files: dict[str, Path]) -> str:
        """A tag from everything that goes into the image: the same inputs, the same tag."""
        digest = hashlib.sha256(dockerfile.encode())
        digest.update(payload.digest.encode())
        for name, source in sorted(files.items()):
            digest.update(name.encode())
            for path in sorted(source.rglob("*")) if source.is_dir() else [source]:
                if path.is_file():
                    digest.update(str(path.relative_to(source)).encode())
                    digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    # -------------------------------------------------------------- storage API
    def _write(self, payload: Payload) -> str:
        from jupyter_flows.storage.docker_build import build_and_push

        if self.image_name is None:
            self.image_name = slugify(payload.flow_name)
        build_and_push(self, payload)
        return self.payload_path(payload)

    def _read(self, location: str) -> bytes:
        try:
            return Path(location).read_bytes()
        except FileNotFoundError:
            raise StorageError(
                f"no flow at {location}: Docker storage keeps the flow inside image"
                f" {self.image or '(never built)'}, and this process does not run in it"
                " (a Docker, Kubernetes or ECS agent runs it there)") from None
        except OSError as exc:
            raise StorageError(f"cannot read the flow at {self.describe(location)}: {exc}"
                               ) from None

    def _script_path(self) -> str | None:
        return self.path

    def _script_field(self) -> str:
        return "path"


def image_of(storage_config: dict[str, Any] | None) -> str | None:
    """The image a Docker-stored flow is in, from its storage config (None otherwise)."""
    config = dict(storage_config or {})
    if str(config.get("type", "")).lower() != "docker":
        return None
    name, tag = config.get("image_name"), config.get("image_tag")
    if not name or not tag:
        return None
    registry = config.get("registry_url")
    return f"{str(registry).rstrip('/')}/{name}:{tag}" if registry else f"{name}:{tag}"
