"""``python -m jupyter_flows.storage.healthcheck PAYLOAD FLOW_NAME``: the last step of a
Docker storage build, which loads the flow in the image it will run in.

Exits 1 with the loader's message when the flow cannot be loaded there (a module the image
lacks, a Python version cloudpickle cannot bridge), so registration fails with that
message instead of the flow's first run.
"""

from __future__ import annotations

import sys
from pathlib import Path


def check(location: str, flow_name: str) -> str:
    """Load the payload at ``location``; returns a one-line report, raises on failure."""
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.errors import StorageError
    from jupyter_flows.storage.payload import load_payload

    flow = load_payload(Path(location).read_bytes(), location)
    if not isinstance(flow, Flow) or flow.name != flow_name:
        raise StorageError(f"{location} holds {flow!r}, not flow {flow_name!r}")
    return (f"healthcheck: flow {flow_name!r} loads in this image ({len(flow.tasks)} tasks,"
            f" Python {sys.version.split()[0]})")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(check(argv[0], argv[1]))
    except Exception as exc:
        print(f"healthcheck: flow {argv[1]!r} cannot be loaded in this image:"
              f" {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
