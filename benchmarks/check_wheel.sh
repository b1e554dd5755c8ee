#!/usr/bin/env bash
# A user's first minutes, from a built wheel: build the sdist and wheel from a clean export of HEAD, install the
# wheel into a fresh venv (dependencies from this machine's site-packages, no network), then from an empty folder
# with no shared data run `aip distill --help`, the image and audio defaults at a tiny budget, and the README's
# Python example unchanged. Output: docs/logs/wheel-check.log (commit it).
#   bash benchmarks/check_wheel.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
log="$repo/docs/logs/wheel-check.log"
mkdir -p "$(dirname "$log")"
{
  echo "# $(date -u +%F) $(git -C "$repo" rev-parse --short HEAD), $(nproc)-core $(uname -m), no GPU"
  mkdir -p "$work/src" "$work/empty"
  git -C "$repo" archive HEAD | tar -x -C "$work/src"
  (cd "$work/src" && python -m build --no-isolation --outdir "$work/dist" >/dev/null 2>&1)
  ls "$work/dist" | sed 's/^/built: /'
  python -m venv --system-site-packages "$work/venv"
  "$work/venv/bin/pip" install -q --no-deps --no-index "$work"/dist/*.whl
  cd "$work/empty"
  export AIP_SHARED_DATA="$work/no-shared-data" AIP_CACHE_DIR="$work/cache" AIP_ZOO_DIR="$work/zoo"
  echo "\$ aip distill --help | head -12"
  "$work/venv/bin/aip" distill --help | head -12
  echo "\$ aip distill --epochs=1 --patches_per_epoch=512 --output_dir=runs/image"
  "$work/venv/bin/aip" distill --epochs=1 --patches_per_epoch=512 --output_dir=runs/image 2>&1 | grep -v "━" | grep -v "^$" | tail -4
  echo "\$ aip distill --modality=audio --epochs=1 --patches_per_epoch=512 --output_dir=runs/audio"
  "$work/venv/bin/aip" distill --modality=audio --epochs=1 --patches_per_epoch=512 --output_dir=runs/audio 2>&1 | grep -v "━" | grep -v "^$" | tail -4
  echo "\$ python readme_example.py   # the README's Python block, unchanged"
  python - "$repo/README.md" > readme_example.py <<'PY'
import re, sys
print(re.findall(r"^```python\n(.*?)^```", open(sys.argv[1]).read(), re.S | re.M)[0])
PY
  "$work/venv/bin/python" readme_example.py 2>&1 | grep -v "━" | grep -v "^$" | tail -2
  echo "ok: every step exited 0"
} > "$log" 2>&1
rm -rf "$work"
tail -3 "$log"
