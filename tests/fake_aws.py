"""AWS for the agent tests: moto's server on 127.0.0.1 (real HTTP for unchanged boto3).

moto moves an ECS task one step towards STOPPED each time it is described; ``moto_server``
turns that off, so a task runs until ``stop_task``, as a real one runs until it ends.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import free_port

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": REGION}


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server process; yields its URL."""
    port = free_port()
    executable = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen([str(executable), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.05)
        reset(url)
        yield url
    finally:
        stop_processes(process, timeout=10)


def reset(url: str) -> None:
    """Forget every resource, and keep ECS tasks RUNNING until stopped."""
    httpx.post(f"{url}/moto-api/reset").raise_for_status()
    httpx.post(f"{url}/moto-api/state-manager/set-transition", json={
        "model_name": "ecs::task",
        "transition": {"progression": "manual", "times": 1_000_000}}).raise_for_status()


def client_options(url: str) -> dict[str, Any]:
    return {"endpoint_url": url, "region_name": REGION}


def aws_env(url: str) -> dict[str, str]:
    """Environment for processes (flow runs) that reach this moto: S3 through s3fs and boto3."""
    return {**CREDENTIALS, "AWS_ENDPOINT_URL": url}


def boto(service: str, url: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")

