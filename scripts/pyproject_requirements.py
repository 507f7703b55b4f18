"""Print the requirements of jupyter-flows with some extras, one per line, from pyproject.toml.

The Dockerfile installs these before it copies the source, so an image's dependency layer is
rebuilt only when pyproject.toml changes; the tests download the same list into a wheelhouse.

    python scripts/pyproject_requirements.py pyproject.toml git,aws [--build]

``--build`` adds the build system's requirements (to install the project without build
isolation, offline).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib


def requirements(pyproject: Path, extras: list[str], build: bool = False) -> list[str]:
    """The project's dependencies plus those of ``extras`` (self-references expanded)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data["project"]
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    self_ref = re.compile(rf"^{re.escape(project['name'])}\[(?P<extras>[^\]]+)\]$")
    out: list[str] = list(project.get("dependencies", []))
    seen: set[str] = set()
    todo = [e.strip() for e in extras if e.strip()]
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        if extra not in optional:
            raise SystemExit(f"pyproject_requirements: no extra {extra!r} in {pyproject}"
                             f" (known: {', '.join(sorted(optional))})")
        seen.add(extra)
        for requirement in optional[extra]:
            nested = self_ref.match(requirement.replace(" ", ""))
            if nested:
                todo.extend(nested["extras"].split(","))
            else:
                out.append(requirement)
    if build:
        out.extend(data["build-system"]["requires"])
    return list(dict.fromkeys(out))


def main(argv: list[str]) -> None:
    args = [a for a in argv if a != "--build"]
    if not args:
        raise SystemExit(__doc__)
    extras = args[1].split(",") if len(args) > 1 else []
    print("\n".join(requirements(Path(args[0]), extras, build="--build" in argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
