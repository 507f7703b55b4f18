"""The Prefect 1.x compatibility suite: each test states, in its docstring, the documented
Prefect behaviour it checks. Task code lives in ``compat_tasks`` so that worker processes
can import it: this folder goes on PYTHONPATH before any cluster starts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
os.environ["PYTHONPATH"] = os.pathsep.join([HERE, *filter(None, [os.environ.get("PYTHONPATH")])])
if HERE not in sys.path:
    sys.path.insert(0, HERE)
