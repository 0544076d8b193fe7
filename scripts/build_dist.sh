#!/usr/bin/env bash
# A wheel of every workspace package in OUT_DIR (default dist/), built by uv one member
# at a time with the pinned build backend: the same sources give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
uv=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
export UV_SYSTEM_CERTS=1
"$uv" build --quiet --all-packages --wheel --clear --out-dir "$out" \
  --build-constraints scripts/build-constraints.txt
rm -f "$out/.gitignore"  # uv's own; the repository's .gitignore covers dist/
ls "$out"/*.whl
