#!/usr/bin/env bash
# The main job on a fresh machine: install, then start the embedded backend and a local
# agent, run the demo flow through them (on a local Dask cluster), and open JupyterLab on the
# example notebooks with the jupyter-flows panel on that backend. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/jupyter-flows up --lab --notebook-dir notebooks "$@"
