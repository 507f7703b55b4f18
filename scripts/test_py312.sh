#!/usr/bin/env bash
# The cell-analysis tests again under Python 3.12, whose syntax (PEP 695 type parameters and
# aliases) the main run's interpreter may not parse. The run uses its own venv, .venv-py312/,
# with the project's core dependencies, IPython (for the magics rows) and pytest, installed
# with uv; the project itself comes from this tree through PYTHONPATH.
# Without a Python 3.12 (on PATH, through pyenv or uv) it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup_lib.sh
source scripts/setup_lib.sh
setup_uv >/dev/null # quiet: bootstrap has said which uv and indexes are used

find_python312() {
    local candidate
    for candidate in "${PYTHON312:-}" python3.12 \
            "$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-${HOME:-}/.pyenv}")"/versions/3.12*/bin/python3.12 \
            "$("$UV" python find 3.12 2>/dev/null || true)"; do
        # pyenv puts shims on PATH that fail unless 3.12 is selected: try each one for real
        if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' \
                >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if ! python312=$(find_python312); then
    echo "py312: skipped, no Python 3.12 found (tried \$PYTHON312, python3.12 on PATH, pyenv's" \
         "versions and 'uv python find 3.12'); the 3.12-only cell-analysis rows did not run"
    exit 0
fi
venv=.venv-py312
stamp=$venv/.installed
want=$( (echo "$python312"; cat pyproject.toml) | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "py312: making $venv with $python312"
    rm -rf "$venv"
    "$UV" venv --quiet --python "$python312" "$venv"
    # the core dependencies, read from pyproject.toml, plus what the cell-analysis tests use
    mapfile -t deps < <("$venv/bin/python" -c '
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
wanted = ("ipython", "pytest", "pytest-timeout")
print("\n".join(project["dependencies"]))
print("\n".join(d for d in extras["notebook"] + extras["test"] if d.startswith(wanted)))')
    "$UV" pip install --quiet --compile-bytecode --python "$venv/bin/python" "${deps[@]}"
    echo "$want" > "$stamp"
fi
echo "py312: $("$venv/bin/python" --version)"
# pyproject's addopts turn on nbval, which this run does not install; the rest of its pytest
# settings (warnings as errors, the timeout) apply
PYTHONPATH="$PWD" "$venv/bin/python" -m pytest -p no:cacheprovider -o addopts="" \
    --strict-markers -ra tests/test_cell_analysis.py tests/test_cell_analysis_symtable.py "$@"
