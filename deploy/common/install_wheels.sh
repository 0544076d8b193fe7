#!/bin/sh
# install_wheels.sh DIR: install DIR/requirements.txt (pinned from uv.lock by
# scripts/compose.sh prepare) into /opt/venv: from the wheels in DIR when there are any
# (offline builds), else from the package index.
set -eu
dir=$1
if [ ! -f "$dir/requirements.txt" ]; then
  echo "no requirements.txt in the build's wheels folder: run scripts/compose.sh prepare first" >&2
  exit 1
fi
[ -x /opt/venv/bin/pip ] || python3 -m venv /opt/venv
if ls "$dir"/*.whl >/dev/null 2>&1; then
  /opt/venv/bin/pip install --no-cache-dir --no-index --find-links "$dir" -r "$dir/requirements.txt"
else
  /opt/venv/bin/pip install --no-cache-dir -r "$dir/requirements.txt"
fi
