"""The default flow of a notebook's ``%%task`` cells: named after the notebook's file.

Every notebook used to put its cells into one flow called "notebook", so a second notebook
became a new version of the first one's flow. The kernel learns its notebook's file from,
most current first: the JupyterLab extension (which follows renames), VS Code's
``__vsc_ipynb_file__``, ipykernel's ``__session__`` and ``JPY_SESSION_NAME`` (which
jupyter_server sets for the kernels it starts). Without any (plain IPython, nbclient) the
name is "notebook", as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

__all__ = ["DEFAULT_FLOW", "DefaultFlow", "default_flow", "notebook_file"]

DEFAULT_FLOW = "notebook"
_NOTEBOOK_SUFFIX = ".ipynb"


@dataclass(frozen=True)
class DefaultFlow:
    """The flow cells without ``--flow`` go to, and the file it is named after (if known)."""

    name: str
    notebook: str | None = None  # the notebook's file name

    def hint(self) -> str:
        """Which name was used and how to choose another, for ``%flow list`` and ``submit``."""
        if self.notebook is not None:
            why = f", named after the notebook {self.notebook}"
        else:
            why = ": this kernel does not know its notebook's file name"
        return (f"cells without --flow go to flow {self.name!r}{why}; choose another name"
                " with %%task --flow NAME")


def notebook_file(user_ns: Mapping[str, Any], frontend_path: str | None = None,
                  environ: Mapping[str, str] | None = None) -> str | None:
    """The path of the kernel's notebook, from the most current source that knows it."""
    env = os.environ if environ is None else environ
    for candidate in (frontend_path, user_ns.get("__vsc_ipynb_file__"),
                      user_ns.get("__session__"), env.get("JPY_SESSION_NAME")):
        if isinstance(candidate, str) and candidate.endswith(_NOTEBOOK_SUFFIX):
            return candidate
    return None


def default_flow(path: str | None) -> DefaultFlow:
    """``sales.ipynb`` -> flow ``sales``; no notebook file -> ``notebook``."""
    if path is None:
        return DefaultFlow(DEFAULT_FLOW)
    name = PurePath(path.replace("\\", "/")).name
    stem = name[: -len(_NOTEBOOK_SUFFIX)].strip()
    return DefaultFlow(stem, name) if stem else DefaultFlow(DEFAULT_FLOW)
