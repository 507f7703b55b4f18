#!/usr/bin/env bash
# Source this to start a throwaway PostgreSQL on 127.0.0.1 for the tests:
#   source scripts/postgres.sh && start_test_postgres
# It exports JUPYTER_FLOWS_TEST_POSTGRES_URL; stop_test_postgres stops it and removes it.
# Without PostgreSQL's server programs it says so and the PostgreSQL tests skip.

start_test_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "postgres: no PostgreSQL server found; the PostgreSQL tests will be skipped"
        return 0
    fi
    JF_PG_DIR=$(mktemp -d /tmp/jupyter-flows-pg.XXXXXX)
    local port
    port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    local as=()
    if [ "$(id -u)" = 0 ]; then  # initdb refuses to run as root
        chown postgres "$JF_PG_DIR"
        as=(su postgres -c)
    else
        as=(bash -c)
    fi
    "${as[@]}" "$bin/initdb -A trust --no-sync -D $JF_PG_DIR/data" >/dev/null
    "${as[@]}" "$bin/pg_ctl -D $JF_PG_DIR/data -o '-c listen_addresses=127.0.0.1 -p $port -k $JF_PG_DIR' -l $JF_PG_DIR/log -w start" >/dev/null
    export JUPYTER_FLOWS_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "postgres: test server on 127.0.0.1:$port"
}

stop_test_postgres() {
    if [ -n "${JF_PG_DIR:-}" ]; then
        local bin
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        if [ "$(id -u)" = 0 ]; then
            su postgres -c "$bin/pg_ctl -D $JF_PG_DIR/data -m fast -w stop" >/dev/null 2>&1 || true
        else
            "$bin/pg_ctl" -D "$JF_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$JF_PG_DIR"
        unset JF_PG_DIR
    fi
}
