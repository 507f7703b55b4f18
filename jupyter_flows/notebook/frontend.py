"""What the JupyterLab extension tells the kernel about its notebook: the file's path and the
current source of each ``%%task`` cell, by cell id.

The kernel compares those sources with the registered cells: a cell edited since it was
registered is *stale* (``%flow run`` says so and runs the registered code; the DAG marks it),
and a registered cell whose notebook cell was deleted, or no longer starts with ``%%task``,
leaves its flow (with a note) at the next ``%%task`` or ``%flow`` command.

The channel is a comm (target ``jupyter_flows.notebook``), not a silent execute: it carries
JSON rather than code run in the user's namespace, adds nothing to the history, the execution
count or the outputs, and shell messages are handled in order, so the snapshot the extension
sends when a cell is scheduled arrives before that cell's execute request. The kernel opens
one comm when the extension loads (a frontend with the target answers on it); a frontend that
connects later (a reloaded page) finds that comm with a comm_info request and opens its own.
Without the extension (plain IPython, nbclient, another frontend) no snapshot arrives and
nothing changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from jupyter_flows.notebook.flows import TaskCell

__all__ = ["COMM_TARGET", "CellStatus", "FrontendLink", "NotebookSnapshot", "cell_status",
           "task_parts"]

COMM_TARGET = "jupyter_flows.notebook"
_log = logging.getLogger("jupyter_flows.notebook")


class CellSource(BaseModel):
    """One code cell of the notebook: its id, and its source when it is a ``%%task`` cell."""

    id: str
    source: str | None = None


class NotebookSnapshot(BaseModel):
    """The message the extension sends: the notebook's path and every code cell."""

    path: str | None = None
    cells: list[CellSource]


def task_parts(source: str) -> tuple[str, str] | None:
    """``(line, body)`` of a ``%%task`` cell's source, as IPython hands them to the magic
    (leading blank lines dropped); None when the source is not a ``%%task`` cell."""
    lines = source.splitlines(keepends=True)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    first = lines[0].rstrip("\r\n")
    name, _, line = first.partition(" ")
    if name != "%%task":
        return None
    return line, "".join(lines[1:])


def _same(cell: TaskCell, source: str) -> bool:
    parts = task_parts(source)
    return parts is not None and (parts[0].strip(), parts[1].rstrip()) == (
        cell.line.strip(), cell.body.rstrip())


@dataclass
class CellStatus:
    """Registered cells that differ from the notebook the extension last described."""

    edited: list[TaskCell] = field(default_factory=list)
    gone: list[tuple[TaskCell, str]] = field(default_factory=list)  # (cell, why it left)


def cell_status(cells: Iterable[TaskCell], snapshot: NotebookSnapshot | None) -> CellStatus:
    """Compare the registered cells (those with a cell id) with ``snapshot``."""
    status = CellStatus()
    if snapshot is None:
        return status
    sources = {cell.id: cell.source for cell in snapshot.cells}
    for cell in cells:
        if cell.cell_id is None:
            continue  # registered without a frontend cell id: nothing to compare
        if cell.cell_id not in sources:
            status.gone.append((cell, "its notebook cell was deleted"))
        elif task_parts(sources[cell.cell_id] or "") is None:
            status.gone.append((cell, "its notebook cell is no longer a %%task cell"))
        elif not _same(cell, sources[cell.cell_id] or ""):
            status.edited.append(cell)
    return status


class FrontendLink:
    """The kernel's end of the comm: keeps the latest snapshot the extension sent."""

    def __init__(self) -> None:
        self.snapshot: NotebookSnapshot | None = None
        self._lock = threading.Lock()
        self._comms: list[Any] = []

    @property
    def path(self) -> str | None:
        snapshot = self.snapshot
        return snapshot.path if snapshot is not None else None

    def receive(self, data: Any) -> None:
        """Take a snapshot message; a malformed one is logged and ignored."""
        try:
            snapshot = NotebookSnapshot.model_validate(data)
        except ValidationError as exc:
            _log.warning("jupyter-flows: ignored a notebook snapshot from the frontend: %s", exc)
            return
        with self._lock:
            self.snapshot = snapshot

    def attach(self, shell: Any) -> bool:
        """In an ipykernel kernel: register the comm target and open the kernel's comm.
        Returns whether it did (False elsewhere, e.g. a terminal IPython)."""
        if getattr(shell, "kernel", None) is None:
            return False
        try:
            import comm
        except ImportError:
            return False
        manager = comm.get_comm_manager()
        manager.register_target(COMM_TARGET, self._opened)
        self._watch(comm.create_comm(target_name=COMM_TARGET, data={"version": 1}))
        return True

    def _opened(self, channel: Any, message: dict[str, Any]) -> None:
        self._watch(channel)
        data = message.get("content", {}).get("data")
        if data:
            self.receive(data)

    def _watch(self, channel: Any) -> None:
        self._comms.append(channel)
        channel.on_msg(lambda message: self.receive(message.get("content", {}).get("data")))
        channel.on_close(lambda _message: self._comms.remove(channel)
                         if channel in self._comms else None)
