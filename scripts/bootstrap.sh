#!/usr/bin/env bash
# Make a fresh machine ready: system packages, .venv, and the project with every extra.
# Idempotent: a second run only reinstalls when pyproject.toml or labextension/ changed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
# a PostgreSQL server for the backend's PostgreSQL tests (SQLite needs nothing)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
# the JupyterLab extension's browser tests drive Debian's chromium (never `playwright install`)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# the Docker tests start their own dockerd and build their base image with debootstrap;
# the Git storage tests make and serve repositories with git (git http-backend)
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v git >/dev/null 2>&1 || need_apt+=(git)
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
# pip builds the JupyterLab extension (labextension/, TypeScript) through hatch-jupyter-builder:
# `npm install` (with the committed package-lock.json) and `npm run build:prod` there
if ! command -v npm >/dev/null 2>&1; then
    echo "bootstrap: Node.js 20+ and npm are needed to build labextension/" >&2
    exit 1
fi
stamp=.venv/.jupyter-flows-installed
want=$(cat pyproject.toml labextension/package.json labextension/package-lock.json \
           $(find labextension/src labextension/style -type f | sort) | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "bootstrap: installing jupyter-flows[dev] into .venv"
    rm -rf labextension/build # the extension's sources changed: build it again
    # pip's exit status decides; only the noise about this machine's local indexes is dropped
    .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]" \
        2> >(grep -v "^WARNING: Location" >&2)
    .venv/bin/python -c "import jupyter_flows" # fails loudly if the install did not work
    if ! cmp -s labextension/build/labextension/package.json \
            .venv/share/jupyter/labextensions/jupyter-flows/package.json; then
        echo "bootstrap: the JupyterLab extension was not built; see pip's output above" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi
