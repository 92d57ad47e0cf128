#!/usr/bin/python3
"""The peer of `ntk kernel` for relu: np.load -> arc-cosine kernel recursion -> np.save.

Usage: /usr/bin/python3 scripts/numpy_kernel.py X.npy DEPTH OUT_NTK.npy OUT_NNGP.npy [BETA] [WEIGHT_STD]

Vectorised numpy (float64) as a Python user would write it (design.md section 1, NTK
parameterisation): Sigma1 = sw^2 X X^T / d + b^2, then per layer the relu arc-cosine
expectations with theta = arccos(clip(cos)). Prints one line of timings:
load/compute/save seconds, so a bench script can compare compute-only and whole-process.
Run it with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset to let OpenBLAS pick its own kernels.
"""
import sys
import time

import numpy as np


def relu_kernels(x, depth, beta, sw):
    n, d = x.shape
    w2, b2 = sw * sw, beta * beta
    sig = (w2 / d) * (x @ x.T) + b2          # Sigma(1), N x N (a GEMM, as numpy users write it)
    ntk = sig.copy()
    for _ in range(1, depth):
        diag = np.sqrt(np.diag(sig))
        norm = np.outer(diag, diag)
        cos = np.clip(sig / norm, -1.0, 1.0)
        theta = np.arccos(cos)
        ess = norm * (np.sin(theta) + (np.pi - theta) * cos) / (2.0 * np.pi)
        edd = (np.pi - theta) / (2.0 * np.pi)
        sig = w2 * ess + b2
        ntk = ntk * (w2 * edd) + sig
    return ntk, sig


def main(argv):
    if len(argv) < 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    xp, depth, out_ntk, out_nngp = argv[1], int(argv[2]), argv[3], argv[4]
    beta = float(argv[5]) if len(argv) > 5 else 0.1
    sw = float(argv[6]) if len(argv) > 6 else 1.0
    t0 = time.perf_counter()
    x = np.load(xp).astype(np.float64, copy=False)
    t1 = time.perf_counter()
    ntk, sig = relu_kernels(x, depth, beta, sw)
    t2 = time.perf_counter()
    np.save(out_ntk, ntk)
    np.save(out_nngp, sig)
    t3 = time.perf_counter()
    print(f"numpy load {t1 - t0:.3f} s compute {t2 - t1:.3f} s save {t3 - t2:.3f} s total {t3 - t0:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
