#!/usr/bin/env bash
# Publishes the C ABI (src/NtkFast.Native, NativeAOT) to artifacts/native/libntkfast.so, then compiles
# examples/c/kernel.c against it with the system C compiler (warnings as errors) and runs it.
# Needs clang (or gcc) and zlib1g-dev, as the NativeAOT CLI does. Exits non-zero on any failure.
#   CC=gcc bash scripts/build-native.sh      choose the compiler (default: cc)
#   bash scripts/build-native.sh --bench     also time a tiny call through the C ABI
set -uo pipefail
cd "$(dirname "$0")/.."
out=artifacts/native
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "publishing NativeAOT libntkfast.so ..."
rm -rf "$out"
if ! dotnet publish src/NtkFast.Native -c Release -r linux-x64 -o "$out" >"$log" 2>&1; then
  grep -E "error|warning" "$log" | sort -u | head -20; echo "publish failed"; exit 1
fi
if grep -qE "warning (IL|IL3)[0-9]+" "$log"; then
  grep -E "warning (IL|IL3)[0-9]+" "$log" | sort -u | head; echo "publish has trim/AOT warnings"; exit 1
fi
lib="$out/libntkfast.so"
[ -f "$lib" ] || { echo "no $lib after publish"; exit 1; }
echo "library: $lib, $(du -h "$lib" | cut -f1) ($(stat -c %s "$lib") bytes)"

# Every function of the header is exported.
missing=0
for f in $(grep -oE '^[a-z_ ]*\*?ntk_[a-z_]+\(' include/ntkfast.h | grep -oE 'ntk_[a-z_]+'); do
  nm -D --defined-only "$lib" | grep -qE " T $f(@|$)" || { echo "not exported: $f"; missing=1; }
done
[ "$missing" -eq 0 ] || exit 1

cc=${CC:-cc}
exe="$out/kernel-example"
echo "compiling examples/c/kernel.c with $cc ..."
"$cc" -O2 -std=c11 -Wall -Wextra -Werror -Iinclude examples/c/kernel.c -L"$out" -lntkfast \
  -Wl,-rpath,'$ORIGIN' -lm -o "$exe" || { echo "C example failed to compile"; exit 1; }
"$exe" "$@" || { echo "C example failed"; exit 1; }
