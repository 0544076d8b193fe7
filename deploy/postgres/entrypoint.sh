#!/bin/sh
# First start: initdb, then create POSTGRES_USER (password POSTGRES_PASSWORD, SCRAM) and
# its database POSTGRES_DB. Every start: listen on the compose network with password
# authentication only.
set -eu
python3 /usr/local/lib/stack/stack_secrets.py POSTGRES_PASSWORD
: "${POSTGRES_USER:=airflow}" "${POSTGRES_DB:=airflow}"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp) && chown postgres "$pwfile"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  as_postgres "$bin/initdb" -D "$PGDATA" --auth-local=peer --auth-host=scram-sha-256 \
    --username=postgres --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  # The role and database are made over the local socket only, before the port opens.
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  as_postgres "$bin/psql" -v ON_ERROR_STOP=1 -q -d postgres \
    -v user="$POSTGRES_USER" -v db="$POSTGRES_DB" -v pw="$POSTGRES_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'pw')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
cat >"$PGDATA/pg_hba.conf" <<HBA
local all all peer
host all all 0.0.0.0/0 scram-sha-256
host all all ::/0 scram-sha-256
HBA
unset POSTGRES_PASSWORD
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" \
  -c listen_addresses='*' -c password_encryption=scram-sha-256 -c max_connections=200
