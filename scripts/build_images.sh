#!/usr/bin/env bash
# Build the task images on the local Docker engine, offline.
#   scripts/build_images.sh [NAME...]   NAME: base, crawler-browser, or a folder of images/
# Python packages are built into wheels on the host and installed in the image from
# a local folder, so no image step needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

UV=${UV:-uv}
# Every folder images/NAME with a Dockerfile is an image: data-collection-NAME:latest from
# images/NAME/Dockerfile, installing the workspace package named in its pyproject.toml.
# Two are special: base (the SDK on the base OS) and crawler-browser (the crawler's
# Dockerfile.browser, tagged data-collection-crawler:browser).
declare -A TAG=([base]=data-collection-base:latest [crawler-browser]=data-collection-crawler:browser)
declare -A PKG=([base]=heartbeat-client [crawler-browser]=crawler-task)
declare -A DOCKERFILE=([base]=images/base/Dockerfile
                       [crawler-browser]=images/crawler/Dockerfile.browser)
all=(base)
for dir in images/*/; do
  name=$(basename "$dir")
  [ "$name" != base ] && [ -f "$dir/Dockerfile" ] && [ -f "$dir/pyproject.toml" ] || continue
  all+=("$name")
  TAG[$name]=data-collection-$name:latest
  PKG[$name]=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$dir/pyproject.toml" | head -1)
  DOCKERFILE[$name]=${dir%/}/Dockerfile
  [ "$name" = crawler ] && all+=(crawler-browser)
done

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")

base_os=$(bash scripts/base_image.sh)
build_root=.cache/build
mkdir -p "$build_root"

# wheels_for PACKAGE DIR: the package, the workspace packages it uses, and its
# third-party requirements, pinned as in uv.lock.
wheels_for() {
  local pkg=$1 dir=$2
  rm -rf "$dir" && mkdir -p "$dir"
  "$UV" export --quiet --frozen --package "$pkg" --no-dev --no-hashes --no-emit-workspace \
    --no-header --no-annotate -o "$dir/requirements.txt"
  local member
  for member in $("$UV" export --quiet --frozen --package "$pkg" --no-dev --no-hashes \
      --only-emit-workspace --no-header --no-annotate | sed -n 's#^-e \./##p; s#^\./##p'); do
    "$UV" build --quiet --wheel --out-dir "$dir" "$member" 2>>"$STATE/logs/build.log"
  done
  if [ -s "$dir/requirements.txt" ]; then
    python3 -m pip wheel --quiet --no-deps -r "$dir/requirements.txt" -w "$dir" \
      >>"$STATE/logs/build.log" 2>&1 || die "pip wheel for $pkg failed, see $STATE/logs/build.log"
  fi
  rm -f "$dir/requirements.txt"
}

for name in "${names[@]}"; do
  tag=${TAG[$name]:-}; [ -n "$tag" ] || die "unknown image '$name'"
  ctx="$build_root/$name"
  wheels_for "${PKG[$name]}" "$ctx/wheels"
  if [ "$name" = crawler-browser ]; then
    # playwright is locked as a dev dependency; the browser image needs it at run time.
    "$UV" export --quiet --frozen --only-group dev --no-hashes --no-header --no-annotate \
      | grep -iE '^(playwright|greenlet|pyee)==' >"$ctx/browser-requirements.txt"
    python3 -m pip wheel --quiet --no-deps -r "$ctx/browser-requirements.txt" -w "$ctx/wheels" \
      >>"$STATE/logs/build.log" 2>&1 || die "pip wheel of playwright failed, see $STATE/logs/build.log"
  fi
  base_arg=data-collection-base:latest
  [ "$name" = base ] && base_arg=$base_os
  extra=()
  [ -d "images/$name/files" ] && cp -r "images/$name/files" "$ctx/"
  log "building $tag (FROM $base_arg)"
  docker build --quiet -f "${DOCKERFILE[$name]}" --build-arg BASE_IMAGE="$base_arg" \
    "${extra[@]}" -t "$tag" "$ctx" >/dev/null 2>"$STATE/logs/build-$name.log" \
    || die "docker build of $tag failed, see $STATE/logs/build-$name.log"
done
docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep '^data-collection-' >&2 || true
