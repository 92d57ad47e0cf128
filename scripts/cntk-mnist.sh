#!/usr/bin/env bash
# CNTK vs MLP NTK on MNIST digits, kernel regression at t = inf (issue 16): prints the commands' own timings
# and test accuracies. Usage: scripts/cntk-mnist.sh [TRAIN=2000] [TEST=1000] [SMALL=300]
#   - 28×28: 3 × conv 3×3 SAME relu + flatten (diagonal recursion) against a depth-3 relu MLP, TRAIN/TEST digits;
#   - 14×14 (2×2 means): the same convs + gap (full pixel-pair recursion) against + flatten, SMALL/SMALL digits.
# Needs numpy (/usr/bin/python3) to cut the IDX files into .npy; writes into a temporary folder.
set -euo pipefail
train=${1:-2000}; test=${2:-1000}; small=${3:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
ntk=${NTK:-"dotnet $root/src/NtkFast.Cli/bin/Release/net10.0/ntk.dll"}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$root/../shared/data/mnist10k" "$work" "$train" "$test" "$small" <<'PY'
import gzip, sys, numpy as np
src, out, ntr, nte, ns = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
def idx(name, off):
    with gzip.open(f"{src}/{name}") as f: return np.frombuffer(f.read(), dtype=np.uint8, offset=off)
x = idx("images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1).astype(np.float64) / 255
y = idx("labels-idx1-ubyte.gz", 8).astype(np.int64)
assert ntr + nte <= len(x) and ns <= ntr
np.save(f"{out}/xtr.npy", x[:ntr]); np.save(f"{out}/ytr.npy", y[:ntr])
np.save(f"{out}/xte.npy", x[ntr:ntr + nte]); np.save(f"{out}/yte.npy", y[ntr:ntr + nte])
np.save(f"{out}/ftr.npy", x[:ntr].reshape(ntr, -1)); np.save(f"{out}/fte.npy", x[ntr:ntr + nte].reshape(nte, -1))
s = x.reshape(-1, 14, 2, 14, 2, 1).mean(axis=(2, 4))
np.save(f"{out}/str.npy", s[:ns]); np.save(f"{out}/sytr.npy", y[:ns])
np.save(f"{out}/ste.npy", s[ntr:ntr + ns]); np.save(f"{out}/syte.npy", y[ntr:ntr + ns])
PY
cd "$work"
conv="conv:32,3x3,same relu conv:32,3x3,same relu conv:32,3x3,same relu"
run() { local what=$1; shift; local t0=$SECONDS; $ntk "$@"; echo "  ($what: $((SECONDS - t0)) s)"; }
echo "== 28x28, $train train / $test test: CNTK ($conv flatten) =="
run "train kernel" kernel --x xtr.npy --arch "$conv flatten dense:1" --out-ntk K.npy --quiet
run "test kernel" kernel --x xte.npy --x2 xtr.npy --arch "$conv flatten dense:1" --out-ntk KX.npy --quiet
$ntk predict --kernel-train K.npy --kernel-test KX.npy --y ytr.npy --labels --y-test yte.npy --out p.npy
echo "== 28x28, $train train / $test test: MLP NTK, depth 3 relu =="
run "predict" predict --x ftr.npy --y ytr.npy --x-test fte.npy --depth 3 --activation relu --labels --y-test yte.npy --out pm.npy
for readout in gap flatten; do
  echo "== 14x14, $small train / $small test: CNTK ($conv $readout) =="
  run "train kernel" kernel --x str.npy --arch "$conv $readout dense:1" --out-ntk G.npy --quiet
  run "test kernel" kernel --x ste.npy --x2 str.npy --arch "$conv $readout dense:1" --out-ntk GX.npy --quiet
  $ntk predict --kernel-train G.npy --kernel-test GX.npy --y sytr.npy --labels --y-test syte.npy --out g.npy
done
