#!/bin/bash
# CNTK (3 × conv 3×3 SAME relu + GAP + dense) on 28×28 MNIST: ntk kernel --arch against scripts/cntk_numpy.py
# on the same ROWS × N block of the same digits, in one run (the machine is shared: compare the ratio).
# usage: bench/cntk-vs-numpy.sh [N=40] [ROWS=2]
set -euo pipefail
N=${1:-40}; ROWS=${2:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 - "$TMP" "$N" <<'PY'
import gzip, sys, numpy as np
d, n = sys.argv[1], int(sys.argv[2])
with gzip.open('/work/shared/data/mnist10k/images-idx3-ubyte.gz') as f:
    img = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n] / 255.0
np.save(d + '/x.npy', img[..., None])
PY
SPEC="conv:32,3x3 relu conv:32,3x3 relu conv:32,3x3 relu gap dense:1"
NTK="dotnet $ROOT/src/NtkFast.Cli/bin/Release/net10.0/ntk.dll"
s=$(date +%s.%N); $NTK kernel --arch "$SPEC" --x "$TMP/x.npy" --rows 0:$ROWS --out-ntk "$TMP/t.npy"; e=$(date +%s.%N)
echo "ntk --arch: $(echo "$e - $s" | bc) s for $ROWS×$N pairs (+ $((ROWS + N)) self pairs, start-up included)"
/usr/bin/python3 "$ROOT/scripts/cntk_numpy.py" --x "$TMP/x.npy" --rows 0:$ROWS --layers 3 --out-ntk "$TMP/tn.npy"
/usr/bin/python3 -c "import numpy as np,sys; a=np.load('$TMP/t.npy'); b=np.load('$TMP/tn.npy'); print('max rel diff', abs(a-b).max()/abs(b).max())"
