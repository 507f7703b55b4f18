#!/usr/bin/env bash
# The README's main command from a fresh clone of this repository's HEAD, timed:
#   bash benchmarks/setup.sh cold    # uv's cache and the bootstrapped uv are new (first time)
#   bash benchmarks/setup.sh warm    # both kept from the last cold run (a second clone)
#   bash benchmarks/setup.sh dev     # test.sh's install phase (bootstrap dev), cold, npm too
# Prints each output line with its time, then: seconds to the demo's first state line, the
# total, and the longest silence between two lines. The backend gets a free port and its own
# database, so a running `up` is not disturbed. System packages are not removed first: where
# graphviz (and for dev PostgreSQL and chromium) are installed, their apt step is skipped.
set -euo pipefail
mode=${1:-cold}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${JUPYTER_FLOWS_BENCH_DIR:-/tmp/jupyter-flows-setup-bench}
mkdir -p "$work"
clone=$(mktemp -d "$work/clone.XXXXXX")
git clone -q "$repo" "$clone"
export UV_CACHE_DIR=$work/uv-cache JUPYTER_FLOWS_TOOLS=$work/uv-tools
if [ "$mode" != warm ]; then
    rm -rf "$UV_CACHE_DIR" "$JUPYTER_FLOWS_TOOLS"
    export PIP_NO_CACHE_DIR=1 # pip only installs uv itself
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
case $mode in
    cold | warm) command=(bash scripts/up.sh --exit-after-demo --port "$port"
                          --db "sqlite:///$clone/bench-backend.db") ;;
    dev) export npm_config_cache=$work/npm-cache; rm -rf "$npm_config_cache"
         command=(bash scripts/bootstrap.sh dev) ;;
    *) echo "usage: $0 cold|warm|dev" >&2; exit 2 ;;
esac
cd "$clone"
"${command[@]}" 2>&1 | python3 -u -c '
import sys, time
start = last = time.monotonic()
first_state, silence = None, 0.0
for line in sys.stdin:
    now = time.monotonic()
    silence = max(silence, now - last)
    last = now
    if first_state is None and line.startswith("Scheduled:"):
        first_state = now - start
    print(f"{now - start:7.1f} {line}", end="")
end = time.monotonic()
state = "no state line" if first_state is None else f"first state line after {first_state:.1f} s"
print(f"\n{sys.argv[1]}: {state}; total {end - start:.1f} s; longest silence {silence:.1f} s")
' "$mode"
rm -rf "$clone"
