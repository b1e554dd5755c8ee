#!/usr/bin/env bash
# Runs every example at its default (small) size and keeps its output: docs/logs/examples/<name>.log, the
# source of the times and results in examples/README.md.   bash benchmarks/run_examples.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/docs/logs/examples"
mkdir -p "$out"
work=$(mktemp -d)
cd "$work"
for script in "$repo"/examples/*.py; do
  name=$(basename "$script" .py)
  start=$(date +%s)
  python "$script" --output_dir="$work/$name" > "$out/$name.raw" 2>&1
  status=$?
  { echo "# python examples/$name.py   ($(date -u +%F), $(git -C "$repo" rev-parse --short HEAD), $(nproc)-core $(uname -m), no GPU)"
    grep -v "━" "$out/$name.raw" | grep -v "^$" | grep -v "^[IWE]0000 " | sed "s|$work/|<work>/|g" | tail -25
    echo "# exit status $status, wall $(( $(date +%s) - start )) s"; } > "$out/$name.log"
  rm -f "$out/$name.raw"
  echo "$name: exit $status, $(( $(date +%s) - start )) s"
done
rm -rf "$work"
