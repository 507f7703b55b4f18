"""``python -m jupyter_flows``: the command line (what agents launch)."""

from jupyter_flows.cli import main

main()
