#!/usr/bin/env bash
# The main job on a fresh machine: install, then run the demo flow on a local Dask cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/jupyter-flows demo "$@"
