"""Valid wire payloads for tests that talk to the backend directly."""

from __future__ import annotations

from typing import Any


def spec_json(name: str = "f", tasks: tuple[str, ...] = (), edges: tuple[tuple[str, str], ...] = (),
              *, location: str | None = None, **fields: Any) -> dict[str, Any]:
    """A flow spec as a client sends it: tasks by slug, edges as (upstream, downstream)."""
    spec: dict[str, Any] = {
        "name": name,
        "tasks": [{"slug": slug, "name": slug.rsplit("-", 1)[0], "type": "Task"}
                  for slug in tasks],
        "edges": [{"upstream": up, "downstream": down} for up, down in edges],
        **fields,
    }
    if location is not None:
        spec["code_location"] = location
    return spec
