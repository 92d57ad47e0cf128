#!/usr/bin/env bash
# Packs the per-platform NativeAOT tool (issue 17 item 5): the pointer package NtkFast.Cli.Native and the
# RID-specific NtkFast.Cli.Native.linux-x64 (the AOT binary), installs it with `dotnet tool install` into a
# temporary tool path from the local packages only, runs it (version, one kernel, one bad input) and prints
# both package sizes and the installed size. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
pkgs="$work/packages"
log="$work/pack.log"
echo "packing NtkFast.Cli.Native (pointer + linux-x64) ..."
if ! dotnet pack src/NtkFast.Cli -c Release -p:NtkNativeTool=true -o "$pkgs" >"$log" 2>&1 \
   || ! dotnet pack src/NtkFast.Cli -c Release -p:NtkNativeTool=true -r linux-x64 -o "$pkgs" >>"$log" 2>&1; then
  grep -E "error|warning" "$log" | sort -u | head -20; echo "pack failed"; exit 1
fi
ls -l "$pkgs"/*.nupkg | awk '{printf "  %s  %.1f KB\n", $NF, $5/1024}'
if ! dotnet tool install --tool-path "$work/tool" --add-source "$pkgs" NtkFast.Cli.Native >"$work/install.log" 2>&1; then
  tail -20 "$work/install.log"; echo "tool install failed"; exit 1
fi
echo "installed: $(du -sh "$work/tool" | cut -f1)"
ntk="$work/tool/ntk"
fails=0
"$ntk" --version || fails=$((fails + 1))
printf '1,0\n0.6,0.8\n-1,0\n' > "$work/x.csv"
if "$ntk" kernel --x "$work/x.csv" --depth 4 --activation relu --out-ntk "$work/t.npy" && [ -s "$work/t.npy" ]; then echo "ok   kernel"; else echo "FAIL kernel"; fails=$((fails + 1)); fi
"$ntk" kernel --x "$work/x.csv" --dept 4 --activation relu --out-ntk "$work/u.npy" 2>"$work/err"; rc=$?
if [ $rc -eq 2 ] && [ ! -e "$work/u.npy" ] && grep -q "did you mean --depth" "$work/err"; then echo "ok   typo: $(cat "$work/err")"; else echo "FAIL typo (exit $rc)"; fails=$((fails + 1)); fi
[ $fails -eq 0 ] && echo "native tool package: all checks passed"
exit $fails
