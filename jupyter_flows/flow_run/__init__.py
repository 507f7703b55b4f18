"""Running one flow run for an agent: the process an agent launches, its lease heartbeat, and
reporting task states and logs to the backend."""
