"""LocalRun: run a flow as a process on the agent's own machine."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from jupyter_flows.run_configs.base import RunConfig
from jupyter_flows.run_configs.fields import NonBlankStr


class LocalRun(RunConfig):
    """Run the flow as a subprocess of a local agent."""

    type: Literal["local"] = Field(default="local", description="Always 'local'.")
    working_dir: NonBlankStr | None = Field(
        default=None,
        description="Directory to start the flow run in, on the agent's machine; it must "
        "exist there. Default: the agent's working directory.",
        examples=["/srv/flows"],
    )
