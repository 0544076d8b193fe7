#!/usr/bin/env bash
# The compose stack (docker-compose.yml) on one machine, offline-capable.
#
#   scripts/compose.sh install            install docker-compose (Debian's, 1.29) if missing
#   scripts/compose.sh init-env [FILE]    write FILE (default .env) with random secrets
#   scripts/compose.sh prepare [--online] what the build needs: wheels (pinned from
#                                         uv.lock), SSH keys, task image archives
#   scripts/compose.sh build              prepare, then docker-compose build
#   scripts/compose.sh up [--celery]      build, start, wait until every service is healthy
#   scripts/compose.sh down [-v]          stop (and with -v delete the volumes)
#   scripts/compose.sh status             containers and their health
#   scripts/compose.sh test               the compose integration tests
#   scripts/compose.sh dc ARGS...         docker-compose with this stack's files and env
#
# Environment: COMPOSE_ENV_FILE (default .env), TASK_IMAGES (default: every task image
# under images/ but base and testing: the task images the exec-host loads), UV (path of uv).
# --online skips the third-party wheels: the images then pip-install the same pinned
# versions from the package index (for machines whose containers reach PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

export UV_SYSTEM_CERTS=1
UV=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
ENV_FILE=${COMPOSE_ENV_FILE:-.env}
default_task_images() {
  local dir name
  for dir in images/*/; do
    name=$(basename "$dir")
    case $name in base|testing) continue ;; esac
    [ -f "$dir/Dockerfile" ] && printf '%s ' "$name"
  done
}
TASK_IMAGES=${TASK_IMAGES:-$(default_task_images)}

clog() { printf '[compose] %s\n' "$*" >&2; }

# env_value NAME DEFAULT: NAME from the env file (not sourced: values may hold JSON).
env_value() {
  local value=""
  [ -f "$ENV_FILE" ] && value=$(sed -n "s/^$1=//p" "$ENV_FILE" | tail -1)
  echo "${value:-$2}"
}

need_compose() {
  need_pkg docker-compose docker-compose
  docker-compose version --short 2>/dev/null | grep -q '^1\.29\.' \
    || clog "warning: tested with docker-compose 1.29, found $(docker-compose version --short 2>/dev/null)"
  [ -f "$ENV_FILE" ] || die "$ENV_FILE is missing: run 'scripts/compose.sh init-env' (or copy .env.example and fill it)"
}

dc() { docker-compose --env-file "$ENV_FILE" -f docker-compose.yml "$@"; }

init_env() {
  local target=${1:-.env}
  [ ! -e "$target" ] || die "$target exists; remove it first to generate new secrets"
  python3 - "$target" <<'PY'
import base64, os, re, secrets, sys
text = open(".env.example").read()
def fresh(match):
    name = match.group(1)
    if name == "AIRFLOW_FERNET_KEY":
        value = base64.urlsafe_b64encode(os.urandom(32)).decode()
    else:
        value = secrets.token_hex(24)
    return f"{name}={value}"
text = re.sub(r"^([A-Z_]+)=change-me$", fresh, text, flags=re.M)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "w") as fh:
    fh.write(text)
PY
  clog "wrote $target with random secrets (admin login: admin / the AIRFLOW_ADMIN_PASSWORD in it)"
}

# requirements PACKAGE...: the pinned third-party requirements of PACKAGEs (stdout).
# --all-extras: heartbeat-operator's optional `celery` extra (the CeleryExecutor's
# provider) goes into the Airflow image once the lock has it.
requirements() {
  "$UV" export --quiet --frozen $(printf -- '--package %s ' "$@") --all-extras --no-dev \
    --no-hashes --no-emit-workspace --no-header --no-annotate
}

# wheels IMAGE PACKAGE...: deploy/IMAGE/wheels (third-party, rebuilt only when the pins
# change) and deploy/IMAGE/packages (our workspace packages, rebuilt every time; the
# builds are reproducible, so Docker's layer cache still hits when nothing changed).
wheels() {
  local image=$1; shift
  local wheels="deploy/$image/wheels" packages="deploy/$image/packages"
  mkdir -p "$wheels" "$packages"
  requirements "$@" >"$wheels/requirements.new"
  if [ "$image" = airflow ]; then
    # Airflow's metadata database driver: psycopg 3, pinned by the lock like the rest.
    requirements database-task | grep -E '^psycopg(-binary)?==' >>"$wheels/requirements.new"
  fi
  if [ "${ONLINE:-}" = 1 ]; then
    find "$wheels" -name '*.whl' -delete
    rm -f "$wheels/.complete"
    mv "$wheels/requirements.new" "$wheels/requirements.txt"
  elif cmp -s "$wheels/requirements.new" "$wheels/requirements.txt" && [ -f "$wheels/.complete" ]; then
    rm -f "$wheels/requirements.new"
  else
    clog "building third-party wheels for $image (pinned from uv.lock)"
    find "$wheels" -name '*.whl' -delete
    rm -f "$wheels/.complete"
    mv "$wheels/requirements.new" "$wheels/requirements.txt"
    # Fetch python-version-conditional wheels regardless of this host's Python: the
    # image's 3.11.x may need what this host's does not (async-timeout below 3.11.3).
    sed -E "/python_(full_)?version/s/ *;.*$//" "$wheels/requirements.txt" >"$wheels/fetch.txt"
    python3 -m pip wheel --quiet --no-deps -r "$wheels/fetch.txt" -w "$wheels" \
      >>"$STATE/logs/compose-wheels.log" 2>&1 \
      || die "pip wheel for $image failed, see $STATE/logs/compose-wheels.log"
    rm -f "$wheels/fetch.txt"
    touch "$wheels/.complete"
  fi
  # Built elsewhere and moved: uv drops a `.gitignore` into its output folder.
  local out member
  out=$(mktemp -d "${TMPDIR:-/tmp}/compose-packages.XXXXXX")
  for member in $("$UV" export --quiet --frozen $(printf -- '--package %s ' "$@") --no-dev \
      --no-hashes --only-emit-workspace --no-header --no-annotate | sed -n 's#^-e \./##p; s#^\./##p'); do
    "$UV" build --quiet --wheel --out-dir "$out" "$member" 2>>"$STATE/logs/compose-wheels.log" \
      || { rm -rf "$out"; die "uv build of $member failed, see $STATE/logs/compose-wheels.log"; }
  done
  find "$packages" -name '*.whl' -delete
  mv "$out"/*.whl "$packages/" && rm -rf "$out"
}

ssh_keys() {
  local dir; dir=$(env_value STACK_SSH_DIR ./.cache/compose/ssh)
  mkdir -p "$dir/exec-host" "$dir/airflow" && chmod 700 "$dir"
  if [ ! -s "$dir/exec-host/exec_host_ed25519" ]; then
    clog "generating the SSH keys of the exec-host in $dir"
    ssh-keygen -q -t ed25519 -N '' -C compose-exec-host -f "$dir/exec-host/exec_host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C compose-airflow -f "$dir/airflow/id_ed25519"
  fi
  cp "$dir/airflow/id_ed25519.pub" "$dir/exec-host/authorized_keys"
  cp "$dir/exec-host/exec_host_ed25519.pub" "$dir/airflow/exec_host_ed25519.pub"
}

# task_images: one `docker save` archive per task image, redone only when the image
# changed; the exec-host loads them into its own engine when it starts.
task_images() {
  local dir; dir=$(env_value TASK_IMAGES_DIR ./.cache/compose/task-images)
  mkdir -p "$dir"
  local name tag id missing=()
  for name in $TASK_IMAGES; do
    tag="data-collection-$name:latest"
    docker image inspect "$tag" >/dev/null 2>&1 || missing+=("$name")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    clog "building task images: ${missing[*]}"
    UV="$UV" bash scripts/build_images.sh base "${missing[@]}"
  fi
  local keep=()
  for name in $TASK_IMAGES; do
    tag="data-collection-$name:latest"
    id=$(docker image inspect --format '{{.Id}}' "$tag")
    keep+=("$name.tar" "$name.id")
    if [ "$(cat "$dir/$name.id" 2>/dev/null)" != "$id" ] || [ ! -s "$dir/$name.tar" ]; then
      clog "saving $tag for the exec-host"
      docker save -o "$dir/$name.tar.part" "$tag" && mv "$dir/$name.tar.part" "$dir/$name.tar"
      echo "$id" >"$dir/$name.id"
    fi
  done
  local file
  for file in "$dir"/*; do
    [ -e "$file" ] || continue
    [[ " ${keep[*]} " == *" $(basename "$file") "* ]] || rm -f "$file"
  done
}

prepare() {
  [ "${1:-}" = --online ] && ONLINE=1
  [ -x "$UV" ] || die "uv not found (set UV=...); 'make venv' installs it"
  docker info >/dev/null 2>&1 || die "the Docker engine does not answer ('make testbed' starts one)"
  wheels heartbeat-api heartbeat-api
  wheels airflow heartbeat-operator
  ssh_keys
  task_images
}

# base_image: BASE_IMAGE from the env file, or else python:3.11-slim when a registry
# answers, or else the offline Debian image scripts/base_image.sh builds.
base_image() {
  local wanted; wanted=$(env_value BASE_IMAGE "")
  if [ -z "$wanted" ]; then
    wanted=$(bash scripts/base_image.sh)
  elif ! docker image inspect "$wanted" >/dev/null 2>&1; then
    timeout 120 docker pull -q "$wanted" >/dev/null 2>&1 \
      || die "base image $wanted (BASE_IMAGE in $ENV_FILE) is not here and cannot be pulled; remove the line to build from an offline Debian image"
  fi
  export BASE_IMAGE=$wanted
}

build() {
  need_compose
  prepare "$@"
  base_image
  clog "building the stack's images"
  dc build >"$STATE/logs/compose-build.log" 2>&1 || { tail -30 "$STATE/logs/compose-build.log" >&2; die "docker-compose build failed, see $STATE/logs/compose-build.log"; }
}

# wait_healthy SECONDS: every container of the project healthy (one-shot ones exited 0).
# A service that exits non-zero, or that `restart: unless-stopped` has already restarted
# CRASH_RESTARTS times (a crash loop never turns "exited"), fails at once with its logs.
CRASH_RESTARTS=2
wait_healthy() {
  local limit=$1 project deadline bad crashed name
  project=$(env_value COMPOSE_PROJECT_NAME "$(basename "$PWD")")
  deadline=$((SECONDS + limit))
  while :; do
    bad=$(docker ps -a --filter "label=com.docker.compose.project=$project" --format '{{.Names}}' \
      | xargs -r docker inspect --format \
        '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' \
      | awk '!(($2 == "running" && $5 == "healthy" && $4 < '$CRASH_RESTARTS') || ($2 == "exited" && $3 == 0 && $5 == ""))')
    [ -n "$bad" ] || return 0
    crashed=$(echo "$bad" | awk '($2 == "exited" && $3 != 0) || $4 >= '$CRASH_RESTARTS' {print substr($1, 2)}')
    if [ -n "$crashed" ] || [ $SECONDS -ge $deadline ]; then
      echo "$bad" | awk '{print "  " substr($1, 2) ": " $2 ", exit code " $3 ", restarts " $4 ", health " ($5 == "" ? "-" : $5)}' >&2
      for name in $crashed; do
        clog "last lines of $name:"
        docker logs --tail 40 "$name" 2>&1 | sed 's/^/    /' >&2
      done
      die "the stack is not healthy (see 'scripts/compose.sh dc logs SERVICE')"
    fi
    sleep 2
  done
}

# The celery profile is on with --celery or when .env sets either of its two lines; the
# other one then follows, since workers without the executor (or the reverse) never run
# a task.
up() {
  local celery=""
  [ "${1:-}" = --celery ] && { celery=1; shift; }
  [ "$(env_value AIRFLOW_EXECUTOR LocalExecutor)" = CeleryExecutor ] && celery=1
  [[ ",$(env_value COMPOSE_PROFILES ""),"  == *,celery,* ]] && celery=1
  build "$@"
  if [ -n "$celery" ]; then
    export AIRFLOW_EXECUTOR=CeleryExecutor COMPOSE_PROFILES=celery
  else
    # Workers left from an earlier `up --celery` would still run the CeleryExecutor.
    COMPOSE_PROFILES=celery dc rm --stop --force airflow-worker-1 airflow-worker-2 >/dev/null 2>&1 || true
  fi
  dc up -d --remove-orphans
  wait_healthy 600
  clog "Airflow: http://$(env_value AIRFLOW_BIND 127.0.0.1):$(env_value AIRFLOW_PORT 8080) (user $(env_value AIRFLOW_ADMIN_USER admin), password AIRFLOW_ADMIN_PASSWORD in $ENV_FILE)"
}

down() {
  need_compose
  # Every profile, so the Celery workers go too.
  COMPOSE_PROFILES=celery dc down --remove-orphans "$@"
}

case "${1:-}" in
  install) need_pkg docker-compose docker-compose ;;
  init-env) shift; init_env "$@" ;;
  prepare) shift; prepare "$@" ;;
  build) shift; build "$@" ;;
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  status) need_compose; COMPOSE_PROFILES=celery dc ps ;;
  test) shift; exec .venv/bin/pytest tests/integration/compose "$@" ;;
  dc) shift; need_compose; dc "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
