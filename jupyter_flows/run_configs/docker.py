"""DockerRun: run a flow in a container started by a Docker agent."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from jupyter_flows.run_configs.base import RunConfig
from jupyter_flows.run_configs.fields import ImageRef, JsonObject

Port = Annotated[int, Field(ge=1, le=65535)]


class DockerRun(RunConfig):
    """Run the flow in a Docker container on the agent's Docker host."""

    type: Literal["docker"] = Field(default="docker", description="Always 'docker'.")
    image: ImageRef | None = Field(
        default=None,
        description="Image to run the flow in. Default: the storage's image, or the agent's.",
        examples=["python:3.11-slim"],
    )
    ports: list[Port] | None = Field(
        default=None, description="Container ports to expose.", examples=[[8080]]
    )
    host_config: JsonObject | None = Field(
        default=None,
        description="Docker host config options (docker-py's create_host_config arguments), "
        "e.g. volume binds or memory limits.",
        examples=[{"mem_limit": "2g"}],
    )
