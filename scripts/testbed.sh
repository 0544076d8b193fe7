#!/usr/bin/env bash
# The local test bed of real services: a Docker engine, an SSH execution host,
# Redis, PostgreSQL, MariaDB, an image registry, and the offline base image.
#   scripts/testbed.sh start [COMPONENT...]  start what is missing, reuse what runs
#                                            (idempotent); all components by default
#   scripts/testbed.sh stop     stop what this script started, nothing else
#   scripts/testbed.sh status   print what runs where
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SSH_PORT=${SSH_PORT:-2222}
SSH_PORT_2=${SSH_PORT_2:-2223}
SSH_DIR="$STATE/ssh"
# Not 5000: Debian's docker-registry package configures a service of its own there.
REGISTRY_PORT=${REGISTRY_PORT:-5055}
REGISTRY_DIR="$STATE/registry"
COMPONENTS="docker sshd redis postgres mariadb registry chromium base-image"

alive() { [ -f "$STATE/started/$1" ] && kill -0 "$(cat "$STATE/started/$1")" 2>/dev/null; }

start_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  need_pkg dockerd docker.io
  log "starting the Docker engine"
  # Debian's package may have left a stale pid file behind.
  rm -f /var/run/docker.pid
  nohup dockerd >"$STATE/logs/dockerd.log" 2>&1 &
  mark_started dockerd $!
  wait_for "dockerd (see $STATE/logs/dockerd.log)" 60 docker info
}

# start_sshd NAME PORT: an SSH execution host on 127.0.0.1:PORT (key auth only).
# Two of them (sharing this machine's Docker engine) let tests place runs on
# several hosts.
start_sshd() {
  local name=$1 port=$2
  if alive "$name"; then return 0; fi
  need_pkg sshd openssh-server openssh-client
  mkdir -p "$SSH_DIR" && chmod 700 "$SSH_DIR"
  [ -f "$SSH_DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C testbed-host -f "$SSH_DIR/host_ed25519"
  [ -f "$SSH_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C testbed-user -f "$SSH_DIR/id_ed25519"
  cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys" && chmod 600 "$SSH_DIR/authorized_keys"
  local key; key=$(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519.pub")
  echo "[127.0.0.1]:$SSH_PORT $key" >"$SSH_DIR/known_hosts"
  echo "[127.0.0.1]:$SSH_PORT_2 $key" >>"$SSH_DIR/known_hosts"
  cat >"$SSH_DIR/$name.conf" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $SSH_DIR/host_ed25519
PidFile $SSH_DIR/$name.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowStreamLocalForwarding yes
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp internal-sftp
CFG
  mkdir -p /run/sshd
  rm -f "$SSH_DIR/$name.pid"
  "$(command -v sshd || echo /usr/sbin/sshd)" -f "$SSH_DIR/$name.conf" -E "$STATE/logs/$name.log"
  wait_for "$name on 127.0.0.1:$port" 10 test -s "$SSH_DIR/$name.pid"
  mark_started "$name" "$(cat "$SSH_DIR/$name.pid")"
  wait_for "$name on 127.0.0.1:$port" 10 ssh -p "$port" -i "$SSH_DIR/id_ed25519" \
    -o UserKnownHostsFile="$SSH_DIR/known_hosts" -o BatchMode=yes root@127.0.0.1 true
}

start_redis() {
  if redis-cli -p 6379 ping 2>/dev/null | grep -q PONG; then return 0; fi
  need_pkg redis-server redis-server
  log "starting Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --pidfile "$STATE/redis.pid" --logfile "$STATE/logs/redis.log" --dir "$STATE"
  wait_for "redis" 10 test -s "$STATE/redis.pid"
  mark_started redis "$(cat "$STATE/redis.pid")"
}

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  need_pkg pg_ctlcluster postgresql
  log "starting PostgreSQL on 127.0.0.1:5432"
  local ver; ver=$(ls /etc/postgresql | sort -V | tail -1)
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  # The tests connect as postgres without a password over loopback.
  grep -q 'testbed trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust # testbed trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  wait_for "postgresql" 30 pg_isready -q -h 127.0.0.1 -p 5432
  mark_started postgres "$(head -1 "/var/run/postgresql/$ver-main.pid")"
  psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 \
    || psql -q -h 127.0.0.1 -U postgres -c "create database test"
}

start_mariadb() {
  if mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then return 0; fi
  need_pkg mariadbd mariadb-server
  log "starting MariaDB on 127.0.0.1:3306"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  nohup /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 >"$STATE/logs/mariadb.log" 2>&1 &
  mark_started mariadb $!
  wait_for "mariadb" 30 mariadb-admin -h 127.0.0.1 -u root ping
  # Root over TCP with an empty password, as the tests expect.
  mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; CREATE DATABASE IF NOT EXISTS test;" 2>/dev/null || true
}

# An image registry on 127.0.0.1:REGISTRY_PORT (Debian's docker-registry, distribution
# 2.8) with htpasswd auth: user `testbed`, a generated password; the address and login
# are in $REGISTRY_DIR/credentials.json for the tests. The engine pulls from a loopback
# registry over plain HTTP without extra settings.
start_registry() {
  if alive registry; then return 0; fi
  need_pkg docker-registry docker-registry
  need_pkg htpasswd apache2-utils
  need_pkg curl curl
  mkdir -p "$REGISTRY_DIR/storage" && chmod 700 "$REGISTRY_DIR"
  # One password for the life of the state dir; never on a command line.
  [ -s "$REGISTRY_DIR/password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$REGISTRY_DIR/password")
  local password; password=$(cat "$REGISTRY_DIR/password")
  htpasswd -Bic "$REGISTRY_DIR/htpasswd" testbed <"$REGISTRY_DIR/password" 2>/dev/null
  (umask 077; printf '{"address": "127.0.0.1:%s", "username": "testbed", "password": "%s"}\n' \
    "$REGISTRY_PORT" "$password" >"$REGISTRY_DIR/credentials.json")
  cat >"$REGISTRY_DIR/config.yml" <<CFG
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
  secret: $(head -c 24 /dev/urandom | base64)
auth:
  htpasswd:
    realm: testbed-registry
    path: $REGISTRY_DIR/htpasswd
CFG
  log "starting the image registry on 127.0.0.1:$REGISTRY_PORT"
  nohup docker-registry serve "$REGISTRY_DIR/config.yml" >"$STATE/logs/registry.log" 2>&1 &
  mark_started registry $!
  # It answers /v2/ with 401 until a client logs in: up.
  wait_for "registry (see $STATE/logs/registry.log)" 15 registry_answers
}

registry_answers() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REGISTRY_PORT/v2/")" = 401 ]
}

start_component() {
  case "$1" in
    docker) start_docker ;;
    sshd) start_sshd sshd "$SSH_PORT"; start_sshd sshd2 "$SSH_PORT_2" ;;
    redis) start_redis ;;
    postgres) start_postgres ;;
    mariadb) start_mariadb ;;
    registry) start_registry ;;
    # Browser tests (the crawler's render mode, the live view) drive Debian's Chromium.
    chromium) need_pkg chromium chromium ;;
    base-image) bash scripts/base_image.sh >"$STATE/base_image" ;;
    *) die "unknown component $1 (one of: $COMPONENTS)" ;;
  esac
}

status() {
  printf '%-16s %s\n' \
    "docker" "$(docker info --format '{{.ServerVersion}} ({{.Driver}})' 2>/dev/null || echo down)" \
    "ssh host" "$(alive sshd && echo "root@127.0.0.1:$SSH_PORT key $SSH_DIR/id_ed25519" || echo down)" \
    "ssh host 2" "$(alive sshd2 && echo "root@127.0.0.1:$SSH_PORT_2 (same engine)" || echo down)" \
    "redis" "$(redis-cli ping >/dev/null 2>&1 && echo 127.0.0.1:6379 || echo down)" \
    "postgresql" "$(pg_isready -q -h 127.0.0.1 2>/dev/null && echo 127.0.0.1:5432 || echo down)" \
    "mariadb" "$(mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && echo 127.0.0.1:3306 || echo down)" \
    "registry" "$(alive registry && echo "127.0.0.1:$REGISTRY_PORT (login in $REGISTRY_DIR/credentials.json)" || echo down)" \
    "base image" "$(cat "$STATE/base_image" 2>/dev/null || echo none)"
  local name
  for name in $(ls "$STATE/started" 2>/dev/null); do
    alive "$name" && printf '%-16s started by the test bed (pid %s)\n' "$name" "$(cat "$STATE/started/$name")"
  done
  return 0
}

stop() {
  local name pid
  for name in $(ls "$STATE/started" 2>/dev/null); do
    pid=$(cat "$STATE/started/$name")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping $name (pid $pid)"
      if [ "$name" = postgres ]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop || true
      elif [ "$name" = dockerd ]; then
        # Containers of the test bed go with their engine.
        docker ps -q --filter label=heartbeat.execution_id | xargs -r docker rm -f >/dev/null 2>&1 || true
        kill "$pid"
      else
        kill "$pid"
      fi
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/started/$name"
  done
}

case "${1:-start}" in
  start)
    shift || true
    for component in ${*:-$COMPONENTS}; do start_component "$component"; done
    ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start [COMPONENT...]|stop|status (components: $COMPONENTS)" ;;
esac
