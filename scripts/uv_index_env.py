"""Print the UV_* environment that makes uv use the package indexes pip is configured with.

uv reads no pip.conf, so on a machine whose pip points at a mirror, local indexes or a
find-links folder, uv alone would resolve against a different set of packages (or fail).
This asks pip for its effective configuration (`pip config list`: the config files and the
PIP_* variables) and prints one KEY=VALUE line per setting uv has an equivalent for;
bootstrap exports those that the user has not set already.

    python3 scripts/uv_index_env.py        # e.g. UV_INDEX=file:///opt/pypi/simple

Only the standard library is used; without pip it prints nothing.
"""

from __future__ import annotations

import ast
import subprocess
import sys

#: pip option -> uv variable, and how uv separates several values.
UV_VARIABLES = {
    "index-url": ("UV_DEFAULT_INDEX", " "),
    "extra-index-url": ("UV_INDEX", " "),
    "find-links": ("UV_FIND_LINKS", ","),
    "constraint": ("UV_CONSTRAINT", " "),
    "trusted-host": ("UV_INSECURE_HOST", " "),
    "cert": ("SSL_CERT_FILE", None),
    "timeout": ("UV_HTTP_TIMEOUT", None),
    "default-timeout": ("UV_HTTP_TIMEOUT", None),
}
#: Later scopes win, as in pip: config files' [global], then their [install], then PIP_* vars.
SCOPES = ("global", "install", ":env:")


def pip_settings(listing: str) -> dict[str, str]:
    """``pip config list`` output (``scope.key='value'`` lines) as {key: value}, the way
    ``pip install`` sees it."""
    found: dict[str, dict[str, str]] = {scope: {} for scope in SCOPES}
    for line in listing.splitlines():
        name, sep, raw = line.partition("=")
        scope, dot, key = name.rpartition(".")
        if not (sep and dot) or scope not in found:
            continue
        try:
            value = ast.literal_eval(raw)
        except (SyntaxError, ValueError):
            continue
        found[scope][key.replace("_", "-")] = str(value)
    merged: dict[str, str] = {}
    for scope in SCOPES:
        merged.update(found[scope])
    return merged


def uv_environment(settings: dict[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for option, (variable, separator) in UV_VARIABLES.items():
        value = settings.get(option, "").strip()
        if value:
            env[variable] = separator.join(value.split()) if separator else value
    if settings.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        env["UV_NO_INDEX"] = "1"
    if "UV_INDEX" in env or "UV_FIND_LINKS" in env:
        # pip takes the best version found on any index; uv's default takes the first index
        # that has the package at all, which would pin packages to a partial local mirror
        env["UV_INDEX_STRATEGY"] = "unsafe-best-match"
    return env


def main() -> int:
    try:
        listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                                 capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return 0  # no pip here: uv's defaults are all there is to follow
    for variable, value in uv_environment(pip_settings(listing)).items():
        print(f"{variable}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
