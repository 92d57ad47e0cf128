#!/usr/bin/env bash
# Regenerates Elementary128.cs and Elementary512.cs from the master Elementary256.cs (same lane arithmetic).
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/src/NtkFast/Activations"
for w in 128 512; do
  sed -e "s/Vector256/Vector$w/g" -e "s/Elementary256/Elementary$w/g" \
      -e "s|^// MASTER COPY.*|// GENERATED from Elementary256.cs by scripts/gen-elementary.sh — do not edit.|" \
      -e "/^\/\/ scripts\/gen-elementary.sh (/d" \
      "$dir/Elementary256.cs" > "$dir/Elementary$w.cs"
done
