# Shared helpers for the test-bed scripts. Sourced, not run.
STATE="${STATE:-$PWD/.testbed}"
mkdir -p "$STATE/logs" "$STATE/started"

log() { printf '[testbed] %s\n' "$*" >&2; }
die() { printf '[testbed] error: %s\n' "$*" >&2; exit 1; }

apt_updated=""
# need_pkg CMD PACKAGE...: install Debian packages when CMD is missing.
need_pkg() {
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [ -x "/usr/sbin/$cmd" ] && return 0
  log "installing $* (Debian packages)"
  if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >>"$STATE/logs/apt.log" 2>&1 || die "apt-get install $* failed, see $STATE/logs/apt.log"
}

# wait_for DESCRIPTION SECONDS COMMAND...: retry COMMAND until it succeeds.
wait_for() {
  local what=$1 limit=$2; shift 2
  local i
  for ((i = 0; i < limit * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "$what did not come up within ${limit}s"
}

# mark_started NAME PID: remember that this script started NAME, so `stop` stops it.
mark_started() { echo "$2" >"$STATE/started/$1"; }
