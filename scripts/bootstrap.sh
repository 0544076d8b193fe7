#!/usr/bin/env bash
# Make sure uv is there and .venv matches uv.lock. Prints uv's path.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_SYSTEM_CERTS=1
UV_VERSION=0.13.8
uv=$(command -v uv || true)
[ -n "$uv" ] || { [ -x "$HOME/.local/bin/uv" ] && uv="$HOME/.local/bin/uv"; } || true
if [ -z "$uv" ]; then
  echo "[bootstrap] installing uv $UV_VERSION" >&2
  python3 -m pip install --quiet --user "uv==$UV_VERSION" >&2
  uv="$HOME/.local/bin/uv"
fi
"$uv" sync --quiet --frozen --all-packages --python 3.11 >&2
echo "$uv"
