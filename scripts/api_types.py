"""The JupyterLab extension's TypeScript types of the backend's wire payloads, generated.

`labextension/openapi.json` is the backend's OpenAPI document as the server's app serves it;
`labextension/src/api.gen.ts` is what openapi-typescript makes of it. Both are committed:
`tests/test_api_types.py` fails when the document drifts from the server, and the
extension's own tests fail when the TypeScript drifts from the document.

    .venv/bin/python scripts/api_types.py            # write both (after changing a wire model)
    .venv/bin/python scripts/api_types.py --check    # exit 1 when the document is stale
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "labextension"
DOCUMENT = EXTENSION / "openapi.json"
GENERATED = EXTENSION / "src" / "api.gen.ts"


def openapi_document() -> dict[str, Any]:
    """The server's OpenAPI document; the app is built on a throwaway database, so neither
    the user's backend file nor its schema revision is touched."""
    import tempfile

    from jupyter_flows.server.app import create_app
    from jupyter_flows.server.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        return create_app(Settings(database_url=f"sqlite:///{tmp}/openapi.db")).openapi()


def document_text() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def generate() -> None:
    DOCUMENT.write_text(document_text())
    # the same command the extension's drift test runs (labextension/test/apiTypes.test.ts)
    subprocess.run(["node", "scripts/api-types.mjs", "openapi.json", "src/api.gen.ts"],
                   cwd=EXTENSION, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only say whether openapi.json matches the server")
    args = parser.parse_args(argv)
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != document_text():
            print(f"{DOCUMENT.relative_to(ROOT)} is stale: run "
                  f"`.venv/bin/python scripts/api_types.py`", file=sys.stderr)
            return 1
        return 0
    generate()
    print(f"wrote {DOCUMENT.relative_to(ROOT)} and {GENERATED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
