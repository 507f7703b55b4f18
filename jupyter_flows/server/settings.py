"""The backend server's settings: where the database lives, where to listen, and timeouts.

Timeouts and the guarantees they give:

* ``lease_timeout`` (30 s): a claimed run's lease lasts this long after its last heartbeat.
  The agent and the flow-run process heartbeat every ``lease_timeout / 3`` or so.
* ``sweep_interval`` (5 s): how often the liveness sweeper looks for expired leases. A dead
  run is therefore marked Crashed within ``lease_timeout + sweep_interval`` of its last
  heartbeat.
* ``start_timeout`` (300 s): a claimed run that is not Running this long after its claim
  goes back to Scheduled without using a retry, and its old lease is refused (a claim
  whose lease expires first goes back the same way, sooner).
* ``agent_timeout`` (60 s): an agent is *online* while its last heartbeat (or claim, which
  counts as one) is younger than this. Agents long-poll for at most ``claim_max_wait``
  (30 s), so a polling agent never looks offline.
* ``max_body_bytes`` (16 MiB) and ``max_json_depth`` (64): limits on a request body, checked
  before it is parsed into the wire models (:mod:`jupyter_flows.server.limits`).
* ``claim_poll_interval`` (0.5 s): a waiting claim re-checks the database this often, for
  runs created by another server process; runs created through this process wake it at once,
  and a claim whose agent has a run due sooner than that sleeps only until its start.

The scheduler (:mod:`jupyter_flows.server.scheduler`):

* ``scheduler_interval`` (10 s): how often it tops up every active schedule's runs.
* ``schedule_horizon`` (3600 s) and ``schedule_max_runs`` (10): each flow with an active
  schedule has its next runs up to this far ahead, at most this many of them.
* ``missed_runs`` (``skip``): what a pass does about times that passed while no scheduler
  made their runs (the backend was down): ``skip`` them, or run the ``latest`` of them once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from jupyter_flows.api.bounds import JSON_DEPTH_MAX
from jupyter_flows.api.server_env import DEFAULT_DATABASE_URL, ENV_VARS

__all__ = ["DEFAULT_DATABASE_URL", "ENV_VARS", "Settings"]


class Settings(BaseModel):
    """Everything the server needs; build one with :meth:`from_env` or by keyword."""

    database_url: str = Field(DEFAULT_DATABASE_URL,
                              description="SQLAlchemy URL: sqlite:///PATH or "
                                          "postgresql+psycopg://USER@HOST:PORT/DB")
    host: str = "127.0.0.1"
    port: int = Field(4200, ge=0, le=65535)
    api_key: str | None = Field(None, description="if set, /api requests need "
                                                  "'Authorization: Bearer KEY'")
    lease_timeout: float = Field(30.0, gt=0, description="seconds a lease outlives its "
                                                         "last heartbeat")
    sweep_interval: float = Field(5.0, gt=0, description="seconds between liveness sweeps")
    start_timeout: float = Field(300.0, gt=0, description="seconds a claimed run may stay "
                                 "Submitted before it goes back to Scheduled (no retry used)")
    agent_timeout: float = Field(60.0, gt=0, description="an agent is online while its last "
                                                         "heartbeat is younger than this")
    claim_max_wait: float = Field(30.0, ge=0, description="cap on a claim's ?wait=")
    claim_poll_interval: float = Field(0.5, gt=0, description="fallback re-check of a "
                                                              "waiting claim")
    sqlite_busy_timeout: int = Field(5000, ge=0, description="SQLite busy_timeout in ms; "
                                                             "the server also retries")
    stream_keepalive: float = Field(15.0, gt=0, description="seconds between keep-alive "
                                                            "comments on an event stream")
    stream_recheck_interval: float = Field(5.0, gt=0, description="an event stream also "
                                           "re-reads the database this often (for writes by "
                                           "another server process on one SQLite file)")
    scheduler_interval: float = Field(10.0, gt=0, description="seconds between scheduler "
                                                              "passes")
    schedule_horizon: float = Field(3600.0, gt=0, description="seconds ahead the scheduler "
                                                              "makes runs")
    schedule_max_runs: int = Field(10, ge=1, le=1000, description="upcoming scheduled runs "
                                                                  "per flow, at most")
    missed_runs: Literal["skip", "latest"] = Field(
        "skip", description="times missed while the backend was down: 'skip' them, or run "
                            "the 'latest' of them once")
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="a larger request "
                                "body is refused with 413")
    max_json_depth: int = Field(JSON_DEPTH_MAX, ge=4, le=200, description="a request body "
                                "nested deeper is refused with 422 (responses are serialized "
                                "with a recursion limit, so keep it well under 250)")
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``JUPYTER_FLOWS_*`` variables (see ``ENV_VARS``), then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {field: env[var] for field, var in ENV_VARS.items()
                                  if env.get(var)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def database_kind(self) -> str:
        """``sqlite`` or ``postgresql`` (the dialect part of the URL)."""
        return self.database_url.split(":", 1)[0].split("+", 1)[0]

    def resolved_database_url(self) -> str:
        """The URL with ``~`` expanded in a SQLite path (whose folder is created)."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix) or self.database_url == prefix + ":memory:":
            return self.database_url
        path = Path(self.database_url[len(prefix):]).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(path)
