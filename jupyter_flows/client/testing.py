"""A minimal agent for tests and benchmarks of a real backend (see ``server.testing``)."""

from __future__ import annotations

import threading

import httpx

from jupyter_flows.client.client import Client


def finishing_agent(url: str, name: str, labels: list[str], stop: threading.Event,
                    claimed: list[str], errors: list[BaseException],
                    transport: httpx.BaseTransport | None = None, wait: float = 0.5) -> None:
    """A minimal agent loop (a thread target): claim, set Running, set Success, repeat
    until ``stop`` is set and nothing is left; claimed run ids go to ``claimed``."""
    try:
        with Client(url, transport=transport) as client:
            agent = client.register_agent(name, labels=labels)
            while True:
                claim = client.claim(agent.id, wait=wait)
                if claim is None:
                    if stop.is_set():
                        return
                    continue
                lease = claim.lease.lease_id
                claimed.append(claim.flow_run.id)
                client.set_flow_run_state(claim.flow_run.id, "Running", lease_id=lease)
                client.set_flow_run_state(claim.flow_run.id, "Success", lease_id=lease)
    except BaseException as exc:  # reported to the test thread
        errors.append(exc)
