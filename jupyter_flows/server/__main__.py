"""``python -m jupyter_flows.server``: run the backend (the CLI's ``server start`` does the same).

Options override the ``JUPYTER_FLOWS_*`` environment variables listed in
:mod:`jupyter_flows.server.settings`.
"""

from __future__ import annotations

import argparse
import sys

from jupyter_flows.errors import ServerConfigError
from jupyter_flows.server.app import serve
from jupyter_flows.server.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_flows.server",
                                     description="Run the jupyter-flows backend.")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--database-url")
    parser.add_argument("--api-key")
    parser.add_argument("--lease-timeout", type=float)
    parser.add_argument("--sweep-interval", type=float)
    parser.add_argument("--log-level")
    args = parser.parse_args(argv)
    settings = Settings.from_env(**vars(args))
    try:
        serve(settings)
    except ServerConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
