#!/usr/bin/env bash
# Scale-out measurements for docs/notes/mpi.md: parallel efficiency of `mpirun -np 2` (1 thread per rank)
# against one process with 2 threads, out-of-core against in-memory, and the disk's write speed.
# Usage: scripts/bench-mpi.sh [N] [d] [depth] [reps] [outdir]   (defaults 4096 784 4 3 /tmp)
# KIND=empirical measures `ntk empirical` instead: one float64 network d,W,…,W,1 (depth weight layers,
# hidden width WIDTH, default 512; relu) from `ntk init --seed 1`, plus `--monte-carlo MC` (default 4)
# networks of that architecture: one process with 2 threads vs mpirun -np 2 with 1 thread per rank (MC=0: skip).
# Needs: a Release build (dotnet build -c Release), Open MPI (scripts/install-openmpi.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-4096}; D=${2:-784}; L=${3:-4}; REPS=${4:-3}; OUT=${5:-/tmp}
NTK="dotnet $(pwd)/src/NtkFast.Cli/bin/Release/net10.0/ntk.dll"
MPIRUN="mpirun --allow-run-as-root --oversubscribe --bind-to none"
X="$OUT/ntk-bench-x-$N-$D.npy"
# Points: uniform in [-1, 1), written as a float64 .npy by a tiny header + /dev/urandom-free generator.
python3 - "$X" "$N" "$D" <<'PY'
import struct, sys, random
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (n, d)
pad = 64 - (10 + len(hdr) + 1) % 64
hdr = hdr + " " * (pad % 64) + "\n"
rng = random.Random(1)
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(struct.pack("<%dd" % (n * d), *[rng.uniform(-1, 1) for _ in range(n * d)]))
PY
KIND=${KIND:-kernel}
if [ "$KIND" = empirical ]; then
  WIDTHS=$D; for _ in $(seq $((L - 1))); do WIDTHS="$WIDTHS,${WIDTH:-512}"; done; WIDTHS="$WIDTHS,1"
  NET="$OUT/ntk-bench-net.npz"
  $NTK init --widths "$WIDTHS" --activation relu --seed 1 --out "$NET"
  ARGS="empirical --params $NET --x $X --quiet"
  MCARGS="empirical --monte-carlo ${MC:-4} --widths $WIDTHS --activation relu --seed 1 --x $X --quiet"
else
  ARGS="kernel --x $X --depth $L --activation relu --quiet"
fi
# Wall and CPU seconds (user+sys of the process and all its children, i.e. every rank under mpirun):
# on a shared, loaded machine wall time mostly measures the neighbours; CPU time still shows overheads.
t() { /usr/bin/time -f "%e %U %S" -o /tmp/ntk-bench-time "$@" >/dev/null; awk '{printf "%.2f %.2f\n", $1, $2 + $3}' /tmp/ntk-bench-time; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run() {
  local label=$1; shift; local w=() c=()
  for _ in $(seq "$REPS"); do read -r a b < <(t "$@"); w+=("$a"); c+=("$b"); done
  printf "%-52s wall %7.2f s  cpu %7.2f s   (wall runs: %s)\n" "$label" \
    "$(printf '%s\n' "${w[@]}" | median)" "$(printf '%s\n' "${c[@]}" | median)" "${w[*]}"
}

echo "$KIND: N=$N d=$D depth=$L relu${WIDTHS:+ widths $WIDTHS}, NTK only, $REPS runs each (median); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for dir in ${DIRS:-/dev/shm "$OUT"}; do
  O="$dir/ntk-bench-out.npy"
  echo "-- output in $dir"
  run "in-memory, 1 process, 2 threads"                   env NTKFAST_THREADS=2 $NTK $ARGS --out-ntk "$O"
  run "out-of-core (auto tile), 1 process, 2 threads"      env NTKFAST_THREADS=2 $NTK $ARGS --out-ntk "$O" --out-of-core
  run "out-of-core (tile 1024), 1 process, 2 threads"      env NTKFAST_THREADS=2 $NTK $ARGS --out-ntk "$O" --tile 1024
  run "mpirun -np 2 (auto tile), 1 thread per rank"        env NTKFAST_THREADS=1 $MPIRUN -np 2 -x NTKFAST_THREADS $NTK $ARGS --out-ntk "$O"
  run "mpirun -np 2 (tile 1024), 1 thread per rank"        env NTKFAST_THREADS=1 $MPIRUN -np 2 -x NTKFAST_THREADS $NTK $ARGS --out-ntk "$O" --tile 1024
  if [ "$KIND" = empirical ] && [ "${MC:-4}" != 0 ]; then
    run "monte-carlo ${MC:-4}, 1 process, 2 threads"          env NTKFAST_THREADS=2 $NTK $MCARGS --out-ntk "$O"
    run "monte-carlo ${MC:-4}, mpirun -np 2, 1 thread per rank" env NTKFAST_THREADS=1 $MPIRUN -np 2 -x NTKFAST_THREADS $NTK $MCARGS --out-ntk "$O"
  fi
  rm -f "$O"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- disk write speed of $OUT (dd, 1 GiB, fdatasync)"
dd if=/dev/zero of="$OUT/ntk-dd-test" bs=1M count=1024 conv=fdatasync 2>&1 | tail -1
rm -f "$OUT/ntk-dd-test" "$X" ${NET:+"$NET"}
