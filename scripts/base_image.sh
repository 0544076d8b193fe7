#!/usr/bin/env bash
# Make sure a Python 3.11 base image for the task images exists and print its name.
# With a registry: python:3.11-slim. Without one: a Debian bookworm tree made by
# debootstrap and imported, so everything builds offline.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

LOCAL_BASE="data-collection-base-os:bookworm"
REGISTRY_BASE="python:3.11-slim"

if [ -n "${BASE_IMAGE:-}" ]; then echo "$BASE_IMAGE"; exit 0; fi
for img in "$REGISTRY_BASE" "$LOCAL_BASE"; do
  if docker image inspect "$img" >/dev/null 2>&1; then echo "$img"; exit 0; fi
done
if timeout 20 docker pull -q "$REGISTRY_BASE" >/dev/null 2>&1; then echo "$REGISTRY_BASE"; exit 0; fi

log "no registry answers: building $LOCAL_BASE with debootstrap (about a minute)"
need_pkg debootstrap debootstrap
mirror=$(awk '/^URIs:/{print $2; exit} /^deb /{print $2; exit}' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d "${TMPDIR:-/tmp}/base-rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,tzdata \
  bookworm "$root" "$mirror" >"$STATE/logs/debootstrap.log" 2>&1 \
  || die "debootstrap failed, see $STATE/logs/debootstrap.log"
# Keep the image small: no apt lists, docs or caches.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
       "$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
  -c 'CMD ["python3"]' - "$LOCAL_BASE" >/dev/null
echo "$LOCAL_BASE"
