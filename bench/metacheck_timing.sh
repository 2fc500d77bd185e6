#!/usr/bin/env bash
# Time `python -m metacheck` per check: cold (first run in a fresh clone: no __pycache__,
# fresh sf HOME) then warm, and print the size of .venv and node_modules.
# Usage: bench/metacheck_timing.sh [PROJECT_DIR]   (default: this checkout; needs its
# .venv and node_modules, which the clone borrows by symlink, and ../shared beside it)
set -euo pipefail
SRC=$(cd "${1:-$(dirname "$0")/..}" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
git clone -q "$SRC" "$WORK/main"
ln -s "$(cd "$SRC/.." && pwd)/shared" "$WORK/shared"
ln -s "$SRC/.venv" "$WORK/main/.venv"
ln -s "$SRC/node_modules" "$WORK/main/node_modules"
cd "$WORK/main"

run() {
  local start end
  start=$(date +%s.%N)
  .venv/bin/python -m metacheck --corpus ../shared/corpus/flows --json >"$WORK/$1.json" || true
  end=$(date +%s.%N)
  .venv/bin/python - "$WORK/$1.json" "$1" "$start" "$end" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
checks = result["checks"]
parts = ", ".join(f"{name} {c['seconds']:.2f} s" for name, c in checks.items())
files = len(checks["schema"]["files"])
wall = float(sys.argv[4]) - float(sys.argv[3])
print(f"{sys.argv[2]:5}: wall {wall:.2f} s ({parts}); {files} files, ok={result['ok']}")
PY
}

run cold
run warm
run warm
du -sh "$SRC/.venv" "$SRC/node_modules"
