"""UniversalRun: a run config any agent may launch, on its own platform's defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from jupyter_flows.run_configs.base import RunConfig


class UniversalRun(RunConfig):
    """Run on whichever agent picks the run up (filtered by labels), with its defaults.

    For flows that do not care where they run; only ``env`` and ``labels`` are set.
    """

    type: Literal["universal"] = Field(default="universal", description="Always 'universal'.")
