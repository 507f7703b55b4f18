#!/usr/bin/env bash
# Make a fresh machine ready: system packages, .venv, and the project with every extra.
# Idempotent: a second run only reinstalls when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
# a PostgreSQL server for the backend's PostgreSQL tests (SQLite needs nothing)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "bootstrap: installing ${need_apt[*]} with apt-get"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "bootstrap: please install these system packages: ${need_apt[*]}" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    "${PYTHON:-python3}" -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -U pip
fi
stamp=.venv/.jupyter-flows-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "bootstrap: installing jupyter-flows[dev] into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 \
        | grep -v "^WARNING: Location" || true
    .venv/bin/python -c "import jupyter_flows" # fails loudly if the install did not work
    echo "$want" > "$stamp"
fi
