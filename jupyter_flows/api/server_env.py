"""How a server process is told its settings: the environment variables it reads.

These names are the contract between the server (:mod:`jupyter_flows.server.settings`) and
whatever starts it (:mod:`jupyter_flows.local_backend`, a container, systemd), so they live
here, below both.
"""

from __future__ import annotations

DEFAULT_DATABASE_URL = "sqlite:///~/.jupyter-flows/backend.db"

#: Environment variable for each setting read by :meth:`Settings.from_env`.
ENV_VARS: dict[str, str] = {
    "database_url": "JUPYTER_FLOWS_DATABASE_URL",
    "host": "JUPYTER_FLOWS_SERVER_HOST",
    "port": "JUPYTER_FLOWS_SERVER_PORT",
    "api_key": "JUPYTER_FLOWS_API_KEY",
    "lease_timeout": "JUPYTER_FLOWS_LEASE_TIMEOUT",
    "sweep_interval": "JUPYTER_FLOWS_SWEEP_INTERVAL",
    "start_timeout": "JUPYTER_FLOWS_START_TIMEOUT",
    "agent_timeout": "JUPYTER_FLOWS_AGENT_TIMEOUT",
    "claim_max_wait": "JUPYTER_FLOWS_CLAIM_MAX_WAIT",
    "claim_poll_interval": "JUPYTER_FLOWS_CLAIM_POLL_INTERVAL",
    "sqlite_busy_timeout": "JUPYTER_FLOWS_SQLITE_BUSY_TIMEOUT",
    "stream_keepalive": "JUPYTER_FLOWS_STREAM_KEEPALIVE",
    "stream_recheck_interval": "JUPYTER_FLOWS_STREAM_RECHECK_INTERVAL",
    "scheduler_interval": "JUPYTER_FLOWS_SCHEDULER_INTERVAL",
    "schedule_horizon": "JUPYTER_FLOWS_SCHEDULE_HORIZON",
    "schedule_max_runs": "JUPYTER_FLOWS_SCHEDULE_MAX_RUNS",
    "missed_runs": "JUPYTER_FLOWS_MISSED_RUNS",
    "max_body_bytes": "JUPYTER_FLOWS_MAX_BODY_BYTES",
    "max_json_depth": "JUPYTER_FLOWS_MAX_JSON_DEPTH",
}
