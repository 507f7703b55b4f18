#!/usr/bin/env bash
# The main job on a fresh machine: install, then start the embedded backend and a local
# agent, and run the demo flow through them (on a local Dask cluster). Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/jupyter-flows up "$@"
