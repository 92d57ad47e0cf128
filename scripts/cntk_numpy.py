#!/usr/bin/python3
"""Vectorised numpy CNTK (Arora et al. 2019) of `L × (conv:C,KxK,same relu) gap dense:1`, NTK parameterisation.

The same recursion as NtkFast.Architectures (docs/notes/arch.md), written independently for the benchmark
and as a cross-check: pixel-pair covariances S[p, p'] of a batch of image pairs as (B, H, W, H, W) arrays,
convolution = the mean over the filter's taps of zero-padded shifted slices, the closed-form relu duals.

usage: /usr/bin/python3 scripts/cntk_numpy.py --x X.npy [--x2 X2.npy] [--layers 3] [--filter 3]
           [--weight-std 1] [--beta 0.1] [--rows a:b] [--batch 8] --out-ntk T.npy [--out-nngp S.npy]
Prints one line: seconds, pairs, seconds per pair.
"""
import argparse
import sys
import time

import numpy as np


def relu_dual(s, va, vb):
    """E[relu(u)relu(v)] and E[relu'(u)relu'(v)] for variances va (…, H, W, 1, 1), vb (…, 1, 1, H, W), covariance s."""
    prod = np.sqrt(va * vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(prod > 0, s / prod, 0.0)
    rho = np.clip(rho, -1.0, 1.0)
    th = np.arccos(rho)
    k = prod / (2 * np.pi) * (np.sin(th) + (np.pi - th) * rho)
    kd = (np.pi - th) / (2 * np.pi)
    return k, kd


def conv(s, f, w2, b2):
    """Mean over the f×f taps of s(p + δ, p' + δ), zero outside (SAME), times σw², plus β²."""
    h, w = s.shape[1], s.shape[2]
    p = f // 2
    sp = np.pad(s, ((0, 0), (p, f - 1 - p), (p, f - 1 - p), (p, f - 1 - p), (p, f - 1 - p)))
    acc = np.zeros_like(s)
    for dh in range(f):
        for dw in range(f):
            acc += sp[:, dh:dh + h, dw:dw + w, dh:dh + h, dw:dw + w]
    return (w2 / (f * f)) * acc


def pair_kernels(xa, xb, va, vb, layers, f, w2, b2, record):
    """xa, xb: (B, H, W, C). va, vb: lists of per-layer variances (B, H, W) (filled when record)."""
    c = xa.shape[-1]
    s = np.einsum("bhwc,bklc->bhwkl", xa, xb) / c
    t = np.zeros_like(s)
    for l in range(layers):
        s_new = conv(s, f, w2, b2) + b2
        t = conv(t, f, w2, b2) + s_new
        s = s_new
        if record:
            h, w = s.shape[1], s.shape[2]
            d = s.reshape(s.shape[0], h * w, h * w)[:, np.arange(h * w), np.arange(h * w)].reshape(-1, h, w)
            va.append(d)
            vb.append(d)
        k, kd = relu_dual(s, va[l][:, :, :, None, None], vb[l][:, None, None, :, :])
        s, t = k, t * kd
    sg = w2 * s.mean(axis=(1, 2, 3, 4)) + b2
    tg = w2 * t.mean(axis=(1, 2, 3, 4)) + sg
    return sg, tg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--x", required=True)
    ap.add_argument("--x2")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--filter", type=int, default=3)
    ap.add_argument("--weight-std", type=float, default=1.0)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--rows")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--out-ntk")
    ap.add_argument("--out-nngp")
    a = ap.parse_args()
    x = np.load(a.x).astype(np.float64)
    x2 = x if a.x2 is None else np.load(a.x2).astype(np.float64)
    if x.ndim == 3:
        x = x[..., None]
        x2 = x2[..., None]
    r0, r1 = 0, x.shape[0]
    if a.rows:
        lo, hi = a.rows.split(":")
        r0, r1 = int(lo or 0), int(hi or x.shape[0])
    w2, b2 = a.weight_std ** 2, a.beta ** 2
    t0 = time.perf_counter()

    def variances(imgs):
        out = [[] for _ in range(a.layers)]
        for b0 in range(0, imgs.shape[0], a.batch):
            xb = imgs[b0:b0 + a.batch]
            va = []
            pair_kernels(xb, xb, va, [], a.layers, a.filter, w2, b2, True)
            for l in range(a.layers):
                out[l].append(va[l])
        return [np.concatenate(o) for o in out]

    var_r = variances(x[r0:r1])
    var_c = var_r if (a.x2 is None and r0 == 0 and r1 == x.shape[0]) else variances(x2)
    n, m = r1 - r0, x2.shape[0]
    ii, jj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    sig = np.zeros(n * m)
    ntk = np.zeros(n * m)
    for b0 in range(0, ii.size, a.batch):
        i, j = ii[b0:b0 + a.batch], jj[b0:b0 + a.batch]
        va = [v[i] for v in var_r]
        vb = [v[j] for v in var_c]
        s, t = pair_kernels(x[r0 + i], x2[j], va, vb, a.layers, a.filter, w2, b2, False)
        sig[b0:b0 + a.batch] = s
        ntk[b0:b0 + a.batch] = t
    dt = time.perf_counter() - t0
    if a.out_ntk:
        np.save(a.out_ntk, ntk.reshape(n, m))
    if a.out_nngp:
        np.save(a.out_nngp, sig.reshape(n, m))
    print(f"numpy cntk: {dt:.3f} s, {n * m} pairs, {dt / (n * m) * 1e3:.3f} ms/pair")


if __name__ == "__main__":
    sys.exit(main())
