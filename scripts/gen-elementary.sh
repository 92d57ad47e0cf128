#!/usr/bin/env bash
# Regenerates the 128- and 512-bit copies of Elementary256.cs and ErrorFunction256.cs (same lane arithmetic).
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/src/NtkFast/Activations"
for f in Elementary ErrorFunction; do
for w in 128 512; do
  sed -e "s/Vector256/Vector$w/g" -e "s/Elementary256/Elementary$w/g" -e "s/ErrorFunction256/ErrorFunction$w/g" \
      -e "s|^// MASTER COPY.*|// GENERATED from Elementary256.cs by scripts/gen-elementary.sh — do not edit.|" \
      -e "/^\/\/ scripts\/gen-elementary.sh (/d" \
      "$dir/${f}256.cs" > "$dir/$f$w.cs"
done
done
