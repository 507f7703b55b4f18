# shellcheck shell=bash
# What bootstrap.sh and test_py312.sh share (source it): progress lines, system packages, and
# uv, installed with pip when it is not on PATH and pointed at the indexes pip is set up with.
#
#   source scripts/setup_lib.sh
#   setup_uv                       # sets $UV
#   "$UV" pip install --python .venv/bin/python ...

JF_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}
UV_MIN_VERSION=0.5.0

say() { printf '[setup %3ds] %s\n' "$SECONDS" "$*"; }

# Run "$@". When the output is no terminal (a CI log, a pipe) the tools show no progress bars,
# so a line every 5 s says the step is still going; in a terminal they show their own.
with_heartbeat() {
    local label=$1
    shift
    if [ -t 1 ] && [ -t 2 ]; then
        "$@"
        return
    fi
    local start=$SECONDS rc=0 ticker
    (while sleep 5; do say "  ... still $label ($((SECONDS - start)) s)"; done) &
    ticker=$!
    "$@" || rc=$?
    kill "$ticker" 2>/dev/null || true
    wait "$ticker" 2>/dev/null || true
    return "$rc"
}

# Debian packages, installed with apt-get as root; otherwise the user is asked to.
apt_install() {
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" != 0 ]; then
        say "please install these system packages (as root): $*"
        return 0
    fi
    say "apt-get update, then apt-get install $*"
    with_heartbeat "running apt-get update" apt-get update -q
    DEBIAN_FRONTEND=noninteractive with_heartbeat "installing $*" \
        apt-get install -y -q "$@"
}

_uv_is_recent() {
    local version
    version=$("$1" --version 2>/dev/null | awk '{print $2}') || return 1
    [ -n "$version" ] &&
        [ "$(printf '%s\n' "$UV_MIN_VERSION" "$version" | sort -V | head -n 1)" = "$UV_MIN_VERSION" ]
}

# uv reads no pip.conf: export the UV_* equivalents of pip's index settings (local indexes,
# find-links, constraints, certificate), except those the user has set already.
_uv_follow_pip() {
    local line name
    while IFS= read -r line; do
        name=${line%%=*}
        if [ -z "${!name:-}" ]; then
            export "${line?}"
            say "uv: $line (as pip is configured)"
        fi
    done < <("$PYTHON" "$JF_SCRIPTS/uv_index_env.py")
}

setup_uv() {
    if [ -n "${UV:-}" ] && _uv_is_recent "$UV"; then
        :
    elif command -v uv >/dev/null 2>&1 && _uv_is_recent "$(command -v uv)"; then
        UV=$(command -v uv)
    else
        # a small venv of its own, shared by every clone of this user
        local tools=${JUPYTER_FLOWS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-flows/uv}
        if ! _uv_is_recent "$tools/bin/uv"; then
            say "installing uv with pip into $tools (no uv >= $UV_MIN_VERSION on PATH)"
            rm -rf "$tools"
            "$PYTHON" -m venv "$tools"
            with_heartbeat "installing uv" "$tools/bin/python" -m pip install \
                --disable-pip-version-check --progress-bar on "uv>=$UV_MIN_VERSION" \
                2> >(grep -v "^WARNING: Location" >&2)
        fi
        UV=$tools/bin/uv
    fi
    export UV
    export UV_PYTHON_DOWNLOADS=never # the interpreter is the machine's; downloads fail offline
    _uv_follow_pip
    say "using $("$UV" --version) at $UV"
}
