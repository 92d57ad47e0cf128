#!/usr/bin/env bash
# Publishes the NativeAOT `ntk` and smoke-tests every command it lists: one real run each (tiny
# inputs written here as CSV), and one bad input each (exit 2, no output file). Exits non-zero on
# any failure. Needs clang + zlib1g-dev (installed by .ci/run).
set -uo pipefail
cd "$(dirname "$0")/.."
out=artifacts/aot
rm -rf "$out"
echo "publishing NativeAOT ntk ..."
if ! dotnet publish src/NtkFast.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out" > /tmp/aot-publish.log 2>&1; then
  grep -E "warning|error" /tmp/aot-publish.log | head -20; echo "AOT publish failed"; exit 1
fi
if grep -qE "warning (IL|IL3)[0-9]+" /tmp/aot-publish.log; then
  grep -E "warning (IL|IL3)[0-9]+" /tmp/aot-publish.log | head; echo "AOT publish has trim/AOT warnings"; exit 1
fi
ntk="$out/ntk"
echo "binary: $(du -h "$ntk" | cut -f1) ($(stat -c %s "$ntk") bytes)"
t0=$(date +%s%N); for i in $(seq 10); do "$ntk" version >/dev/null; done; t1=$(date +%s%N)
echo "start-up (ntk version, mean of 10): $(( (t1 - t0) / 10000000 )) ms"
"$ntk" version

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails=0; passes=0
ok()   { passes=$((passes + 1)); echo "ok   $*"; }
bad()  { fails=$((fails + 1)); echo "FAIL $*"; }
has()  { "$ntk" --help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1}' | grep -qx "$1"; }
run_ok() { local name=$1 file=$2; shift 2; if "$ntk" "$@" >"$work/$name.out" 2>"$work/$name.err" && [ -s "$file" ]; then ok "$name"; else bad "$name: $(head -2 "$work/$name.err")"; fi; }
run_bad() {
  local name=$1 file=$2; shift 2
  "$ntk" "$@" >/dev/null 2>"$work/$name.err"; local rc=$?
  if [ $rc -eq 2 ] && [ ! -e "$file" ] && [ "$(wc -l <"$work/$name.err")" -eq 1 ]; then ok "$name (exit 2: $(cat "$work/$name.err"))"
  else bad "$name: exit $rc, $(wc -l <"$work/$name.err") stderr lines, output exists: $([ -e "$file" ] && echo yes || echo no)"; fi
}

# Tiny data: 12 points in 3-D, one target column; a NaN file; a 2-column file (wrong width).
awk 'BEGIN{srand(7); for(i=0;i<12;i++){printf "%.6f,%.6f,%.6f\n", rand()-0.5, rand()-0.5, rand()-0.5}}' > "$work/X.csv"
awk -F, '{printf "%.6f\n", $1*$2+$3}' "$work/X.csv" > "$work/Y.csv"
head -5 "$work/X.csv" > "$work/XT.csv"
printf '0.1,nan,0.3\n0.2,0.1,0.0\n' > "$work/Xnan.csv"
printf '0.1,0.2\n0.3,0.4\n' > "$work/X2col.csv"

has version && { "$ntk" version >/dev/null && ok version || bad version; }
if has kernel; then
  run_ok kernel "$work/T.npy" kernel --x "$work/X.csv" --depth 3 --activation relu --out-ntk "$work/T.npy" --out-nngp "$work/S.npy"
  run_bad kernel-nan "$work/Tbad.npy" kernel --x "$work/Xnan.csv" --depth 3 --activation relu --out-ntk "$work/Tbad.npy"
fi
if has init; then
  run_ok init "$work/net.npz" init --widths 3,64,64,1 --activation relu --seed 1 --out "$work/net.npz"
  run_bad init-zero-width "$work/netbad.npz" init --widths 3,0,1 --activation relu --seed 1 --out "$work/netbad.npz"
fi
if has train; then
  run_ok train "$work/trained.npz" train --params "$work/net.npz" --x "$work/X.csv" --y "$work/Y.csv" --lr 1.0 --steps 20 --out "$work/trained.npz" --log "$work/loss.csv"
  run_bad train-width "$work/tbad.npz" train --params "$work/net.npz" --x "$work/X2col.csv" --y "$work/Y.csv" --lr 1.0 --steps 2 --out "$work/tbad.npz"
fi
if has empirical; then
  run_ok empirical "$work/E.npy" empirical --params "$work/net.npz" --x "$work/X.csv" --out-ntk "$work/E.npy" --out-nngp "$work/EN.npy"
  run_bad empirical-width "$work/Ebad.npy" empirical --params "$work/net.npz" --x "$work/X2col.csv" --out-ntk "$work/Ebad.npy"
  # Tiled / MPI routes of the AOT binary write the in-memory bytes (one network, and Monte Carlo).
  run_ok empirical-ooc "$work/Eo.npy" empirical --params "$work/net.npz" --x "$work/X.csv" --out-ntk "$work/Eo.npy" --out-of-core --tile 5 --quiet
  cmp -s "$work/E.npy" "$work/Eo.npy" && ok empirical-ooc-bytes || bad "empirical-ooc-bytes: differ from in-memory"
  if command -v mpirun >/dev/null; then
    mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2)
    "${mpi[@]}" "$ntk" empirical --params "$work/net.npz" --x "$work/X.csv" --out-ntk "$work/Em.npy" --tile 5 --quiet >/dev/null 2>&1 \
      && cmp -s "$work/E.npy" "$work/Em.npy" && ok empirical-mpirun-bytes || bad "empirical-mpirun-bytes"
    mc=(empirical --monte-carlo 3 --widths 3,16,1 --activation erf --seed 4 --x "$work/X.csv" --quiet)
    "$ntk" "${mc[@]}" --out-ntk "$work/M1.npy" --out-ntk-std "$work/M1s.npy" >/dev/null 2>&1
    "${mpi[@]}" "$ntk" "${mc[@]}" --out-ntk "$work/M2.npy" --out-ntk-std "$work/M2s.npy" >/dev/null 2>&1 \
      && cmp -s "$work/M1.npy" "$work/M2.npy" && cmp -s "$work/M1s.npy" "$work/M2s.npy" && ok empirical-mc-mpirun-bytes || bad "empirical-mc-mpirun-bytes"
  fi
fi
if has drift; then
  dh=$("$ntk" drift --help)
  echo "$dh" | grep -q -- "--out" && run_bad drift-bad "$work/drift.csv" drift --widths 0 --out "$work/drift.csv"
fi
if has predict; then
  run_ok predict "$work/P.npy" predict --x "$work/X.csv" --y "$work/Y.csv" --x-test "$work/XT.csv" --depth 3 --activation relu --time inf --out "$work/P.npy"
  run_bad predict-time "$work/Pbad.npy" predict --x "$work/X.csv" --y "$work/Y.csv" --x-test "$work/XT.csv" --depth 3 --activation relu --time -1 --out "$work/Pbad.npy"
fi
if has experiment; then
  run_ok experiment "$work/exp/summary.txt" experiment convergence --quick --quiet --out-dir "$work/exp"
  run_bad experiment-unknown "$work/exp2/summary.txt" experiment nosuch --out-dir "$work/exp2"
fi
has mpi-info && { "$ntk" mpi-info >/dev/null 2>&1 && ok mpi-info || bad mpi-info; }
echo "aot smoke: $passes passed, $fails failed"
[ $fails -eq 0 ]
