"""The committed build of the JupyterLab extension, and whether it matches its sources.

`labextension/build/labextension/` is committed, with `labextension/build/stamp.json` holding
a digest of the build's inputs (package.json, the lock file, tsconfig.json, src/, style/) and
one of the build's output. An install then needs no Node.js: the wheel's build hook (this
module's `build_hook`, named in pyproject.toml) rebuilds only when the inputs' digest differs
from the stamp's. Git keeps no file times, so freshness is decided by content, not mtime.

    python3 scripts/labextension_build.py check      # exit 1 (saying why) when stale
    python3 scripts/labextension_build.py build      # npm install + npm run build:prod + stamp
    python3 scripts/labextension_build.py ensure     # build when stale; with --ci, fail then
    python3 scripts/labextension_build.py digest     # the sources' digest

Only the standard library is used: bootstrap runs this before any venv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: What `npm run build:prod` reads; anything else in labextension/ (tests, lint config) is not
#: part of the build.
INPUT_FILES = ("package.json", "package-lock.json", "tsconfig.json")
INPUT_DIRS = ("src", "style")
OUTPUT_DIR = Path("build") / "labextension"
STAMP = Path("build") / "stamp.json"


def _files(base: Path, names: Iterable[str], dirs: Iterable[str]) -> list[Path]:
    found = [base / name for name in names if (base / name).is_file()]
    for folder in dirs:
        found += [path for path in (base / folder).rglob("*") if path.is_file()]
    return sorted(found, key=lambda path: path.relative_to(base).as_posix())


def _digest(base: Path, files: list[Path]) -> str:
    """sha256 over each file's path (relative to ``base``) and bytes, in path order."""
    digest = hashlib.sha256()
    for path in files:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(base).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def inputs_digest(extension: Path) -> str:
    return _digest(extension, _files(extension, INPUT_FILES, INPUT_DIRS))


def output_digest(extension: Path) -> str:
    return _digest(extension, _files(extension, (), (str(OUTPUT_DIR),)))


@dataclass(frozen=True)
class Status:
    fresh: bool
    reason: str


def status(extension: Path) -> Status:
    """Is the committed build the one its sources make (as far as the stamp can tell)?"""
    stamp_path = extension / STAMP
    if not (extension / OUTPUT_DIR / "package.json").is_file():
        return Status(False, f"{OUTPUT_DIR}/package.json is missing")
    try:
        stamp = json.loads(stamp_path.read_text())
    except (OSError, ValueError) as exc:
        return Status(False, f"{STAMP} cannot be read ({exc})")
    if stamp.get("inputs") != inputs_digest(extension):
        return Status(False, "the sources (src/, style/, package.json, package-lock.json, "
                             f"tsconfig.json) changed since {OUTPUT_DIR}/ was built")
    if stamp.get("output") != output_digest(extension):
        return Status(False, f"{OUTPUT_DIR}/ differs from what {STAMP} records (edited or "
                             "partly checked out?)")
    return Status(True, f"{OUTPUT_DIR}/ matches its sources")


def write_stamp(extension: Path) -> None:
    stamp = {"inputs": inputs_digest(extension), "output": output_digest(extension),
             "written_by": "scripts/labextension_build.py after `npm run build:prod`"}
    (extension / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")


def build(extension: Path) -> None:
    """npm install (with the committed lock file) and the production build, then the stamp."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            f"labextension: {status(extension).reason}, and building it needs Node.js 20+ "
            "and npm, which are not on PATH. Install them, or use a commit whose "
            "labextension/build/ is current.")
    for command in ([npm, "install", "--no-audit", "--no-fund"], [npm, "run", "build:prod"]):
        print(f"labextension: {' '.join(command[1:])}", flush=True)
        subprocess.run(command, cwd=extension, check=True)
    write_stamp(extension)
    print(f"labextension: built {OUTPUT_DIR}/ and wrote {STAMP}", flush=True)


def build_hook(target_name: str, version: str, path: str = "labextension", **_: Any) -> None:
    """hatch-jupyter-builder's build function: rebuild only when the committed build is stale.
    ``path`` (the extension's folder) is relative to the project, where hatch runs this."""
    extension = Path(path).resolve()
    current = status(extension)
    if current.fresh:
        print(f"labextension: {current.reason}; using it as committed", flush=True)
        return
    print(f"labextension: {current.reason}; rebuilding", flush=True)
    build(extension)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("check", "build", "ensure", "digest"))
    parser.add_argument("--ci", action="store_true",
                        help="with ensure: a stale build fails (after rebuilding it)")
    parser.add_argument("--extension", type=Path, default=ROOT / "labextension",
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    extension: Path = args.extension
    if args.command == "build":
        build(extension)
        return 0
    if args.command == "digest":
        print(inputs_digest(extension))
        return 0
    current = status(extension)
    print(f"labextension: {current.reason}", flush=True)
    if current.fresh or args.command == "check":
        return 0 if current.fresh else 1
    build(extension)
    if args.ci:
        print("labextension: the committed build was stale. Rebuild it (python3 "
              "scripts/labextension_build.py build) and commit labextension/build/ with the "
              "source change.", file=sys.stderr, flush=True)
        return 1
    print("labextension: rebuilt; commit labextension/build/ together with your source change",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
