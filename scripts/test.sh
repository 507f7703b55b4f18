#!/usr/bin/env bash
# Run every check: lint, types and the whole test suite (what CI runs). Extra arguments go
# to pytest, e.g. `bash scripts/test.sh -m "not slow"` for the quick part. Its bootstrap
# installs every extra and checks the committed JupyterLab extension build against its
# sources (under CI a stale build fails the run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check .
echo "== mypy"; mypy
echo "== labextension: eslint and unit tests"
(cd labextension && npm run --silent lint && npm test --silent)
# before the main run, so that its summary stays the last line of the output
echo "== pytest under Python 3.12: cell analysis (PEP 695 syntax)"
bash scripts/test_py312.sh -q
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
trap stop_test_postgres EXIT
start_test_postgres
# a root shell on Linux can run our own dockerd: there the Docker tests must run, not skip
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then
    export JUPYTER_FLOWS_REQUIRE_DOCKER=1
fi
echo "== pytest"
pytest "$@"
