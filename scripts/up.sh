#!/usr/bin/env bash
# The main job on a fresh machine: install what it needs (uv; no Node.js, no test tools), then
# start the embedded backend and a local agent, run the demo flow through them (on a local
# Dask cluster), and open JupyterLab on the example notebooks with the jupyter-flows panel on
# that backend. Ctrl-C stops it all. Extra arguments go to `jupyter-flows up`
# (e.g. --exit-after-demo, --port, --lab-port).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh run
echo "[setup] starting: .venv/bin/jupyter-flows up --lab --notebook-dir notebooks $*"
exec .venv/bin/jupyter-flows up --lab --notebook-dir notebooks "$@"
