"""Finding the flows a Python script builds (``jupyter-flows register PATH``)."""

from __future__ import annotations

from pathlib import Path

from jupyter_flows.core.flow import Flow
from jupyter_flows.errors import StorageError
from jupyter_flows.storage.payload import run_script


def flows_in_script(path: str | Path) -> list[Flow]:
    """Run the script as a fresh module and return the flows it leaves in its namespace."""
    script = Path(path)
    try:
        source = script.read_text()
    except OSError as exc:
        raise StorageError(f"cannot read script {script}: {exc.strerror}") from None
    namespace = run_script(source, str(script.resolve()), script.stem)
    return list({id(v): v for v in namespace.values() if isinstance(v, Flow)}.values())
