"""Valid wire payloads for tests that talk to the backend directly."""

from __future__ import annotations

from typing import Any


def spec_json(name: str = "f", tasks: tuple[str, ...] = (), edges: tuple[tuple[str, str], ...] = (),
              *, location: str | None = None, params: dict[str, bool] | None = None,
              **fields: Any) -> dict[str, Any]:
    """A flow spec as a client sends it: tasks by slug, edges as (upstream, downstream),
    parameters as name -> required."""
    parameters = [{"slug": p, "name": p, "type": "Parameter", "is_parameter": True,
                   "parameter": {"default": None, "required": required}}
                  for p, required in (params or {}).items()]
    spec: dict[str, Any] = {
        "name": name,
        "tasks": parameters + [{"slug": slug, "name": slug.rsplit("-", 1)[0], "type": "Task"}
                               for slug in tasks],
        "edges": [{"upstream": up, "downstream": down} for up, down in edges],
        **({"parameters": list(params)} if params else {}),
        **fields,
    }
    if location is not None:
        spec["code_location"] = location
    return spec
