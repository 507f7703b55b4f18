#!/usr/bin/env bash
# Make this machine ready, with uv: `.venv/` and the project in it (editable).
#
#   bash scripts/bootstrap.sh run   # what `up` needs: the notebook and server extras, graphviz
#   bash scripts/bootstrap.sh dev   # every extra, graphviz, PostgreSQL, chromium, and the
#                                   # labextension's npm packages (lint, unit tests, its build)
#
# The JupyterLab extension is installed from its committed build (labextension/build/), so
# `run` needs no Node.js. `dev` checks that build against its sources: a stale one is rebuilt,
# and under CI (CI=true) it fails, since the commit should have carried the new build.
# A second run with nothing changed only says so.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup_lib.sh
source scripts/setup_lib.sh

profile=${1:-run}
case $profile in
    run) extras=notebook,server ;;
    dev) extras=dev ;;
    *) echo "bootstrap: unknown profile '$profile' (expected 'run' or 'dev')" >&2; exit 2 ;;
esac

say "bootstrap ($profile): system packages"
need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz) # the notebooks' DAG pictures
if [ "$profile" = dev ]; then
    # a PostgreSQL server for the backend's PostgreSQL tests (SQLite needs nothing)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
    # the browser tests drive Debian's chromium (never `playwright install`)
    [ -x /usr/bin/chromium ] || need_apt+=(chromium)
    # the Docker tests start their own dockerd and build their base image with debootstrap;
    # the Git storage tests make and serve repositories with git (git http-backend)
    command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
    command -v git >/dev/null 2>&1 || need_apt+=(git)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    apt_install "${need_apt[@]}"
else
    say "graphviz$([ "$profile" = dev ] && echo ", PostgreSQL, chromium") already installed"
fi

if [ "$profile" = dev ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "bootstrap: the dev set-up needs Node.js 20+ and npm (the labextension's lint," \
             "unit tests and build)" >&2
        exit 1
    fi
    say "labextension: npm install (eslint, vitest and the build tools)"
    # `npm ci` fails on this registry (see ENVIRONMENT.md): install from the committed lock
    (cd labextension && with_heartbeat "running npm install" npm install --no-audit --no-fund)
    say "labextension: is the committed build current?"
    ci=()
    [ "${CI:-}" = true ] && ci=(--ci)
    python3 scripts/labextension_build.py ensure "${ci[@]}"
fi

setup_uv
if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $PYTHON"
    "$UV" venv --seed --python "$PYTHON" .venv
fi
want=$( (cat pyproject.toml scripts/bootstrap.sh labextension/build/stamp.json
         python3 scripts/labextension_build.py digest) | sha256sum | cut -c1-16)
# dev installs a superset of run, so either stamp answers for run
if [ "$(cat ".venv/.jupyter-flows-$profile" 2>/dev/null || true)" = "$want" ] ||
        { [ "$profile" = run ] && [ "$(cat .venv/.jupyter-flows-dev 2>/dev/null || true)" = "$want" ]; }; then
    say "the project and its $extras extras are installed already (.venv)"
    exit 0
fi
say "installing jupyter-flows[$extras] into .venv (editable) with uv"
# --compile-bytecode: uv, unlike pip, leaves .py files uncompiled, and where
# PYTHONDONTWRITEBYTECODE is set (these machines set it) every process would compile each
# module it imports again: a flow-run process spent ~1 s of its start doing that
with_heartbeat "installing jupyter-flows[$extras]" \
    "$UV" pip install --compile-bytecode --python .venv/bin/python -e ".[$extras]"
# the project itself is installed editable (its sources are not in site-packages)
.venv/bin/python -m compileall -q jupyter_flows >/dev/null
.venv/bin/python -c "import jupyter_flows" # fails loudly if the install did not work
if ! cmp -s labextension/build/labextension/package.json \
        .venv/share/jupyter/labextensions/jupyter-flows/package.json; then
    echo "bootstrap: the JupyterLab extension did not reach .venv/share/jupyter/labextensions;" \
         "see the install's output above" >&2
    exit 1
fi
echo "$want" >".venv/.jupyter-flows-$profile"
say "done: .venv has jupyter-flows[$extras] (commands in .venv/bin, e.g. .venv/bin/jupyter-flows)"
