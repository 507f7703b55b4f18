"""``python -m jupyter_flows``: the command line (what agents launch).

``execute flow-run ID``, which every agent launches for each run, skips the command-line
framework: importing typer and rich cost a flow-run process ~0.2 s of its start, paid by
every run before its first task (scheduled-time -> Running lateness). It also starts with
the garbage collector off: the start-up's imports make only objects that live as long as
the process, and collecting while they are made was a quarter of the import time; the
flow-run code turns it back on (with those objects frozen) before the flow's tasks run.
"""

import gc
import sys


def _main() -> None:
    if sys.argv[1:3] == ["execute", "flow-run"] and len(sys.argv) == 4 \
            and not sys.argv[3].startswith("-"):
        gc.disable()
        from jupyter_flows.flow_run.execute import execute_flow_run_main

        sys.exit(execute_flow_run_main(sys.argv[3]))
    from jupyter_flows.cli import main

    main()


_main()
