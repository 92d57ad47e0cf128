"""NtkFast from Python: infinite-width NTK/NNGP kernels, empirical NTKs of MLPs and kernel regression at
training time t, through libntkfast.so (the NativeAOT C ABI, include/ntkfast.h) with ctypes and numpy.
No compiled extension: build the library with scripts/build-native.sh (or point NTKFAST_LIB at it).

    import numpy as np, ntkfast
    X = np.random.default_rng(0).standard_normal((100, 5))
    theta, sigma = ntkfast.kernel(X, depth=4, activation="relu", kind="both")   # 100 x 100 each

Conventions are those of docs/design.md §1 (NTK parameterisation, beta = 0.1, weight_std = 1 by default;
rows are points). Every failure of the library raises NtkError with its message.
"""
from __future__ import annotations

import ctypes
import math
import os
from typing import Sequence

import numpy as np

from . import _lib

__all__ = [
    "NtkError", "kernel", "arch_kernel", "empirical_kernel", "predict", "init_params", "parameter_count",
    "activations", "version", "runtime_info", "set_threads", "get_threads",
]

OK, ERR_COMPUTE, ERR_ARGUMENT = 0, 1, 2


class NtkError(RuntimeError):
    """A call failed. ``status`` is 2 (bad argument: shapes, NaN, names, files) or 1 (the computation
    failed, e.g. a singular kernel at t = inf); ``str(e)`` is the library's one-line message."""

    def __init__(self, message: str, status: int = ERR_ARGUMENT):
        super().__init__(message)
        self.status = status


def _check(status: int) -> None:
    if status != OK:
        raise NtkError(_lib.last_error(), status)


def _ptr(a: np.ndarray | None):
    return None if a is None else a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def _matrix(a, name: str) -> np.ndarray:
    """A C-contiguous float64 copy/view of a 2-D array (rows = points)."""
    m = np.ascontiguousarray(a, dtype=np.float64)
    if m.ndim != 2:
        raise NtkError(f"{name} must be 2-D (points x features), got shape {m.shape}")
    return m


def _kind(kind: str) -> tuple[bool, bool]:
    if kind not in ("ntk", "nngp", "both"):
        raise NtkError(f"kind must be 'ntk', 'nngp' or 'both', got {kind!r}")
    return kind in ("ntk", "both"), kind in ("nngp", "both")


def _result(kind: str, ntk, nngp):
    return ntk if kind == "ntk" else nngp if kind == "nngp" else (ntk, nngp)


def _widths(widths: Sequence[int]) -> np.ndarray:
    w = np.ascontiguousarray(widths, dtype=np.int64)
    if w.ndim != 1:
        raise NtkError(f"widths must be a list of layer widths n0, ..., nL, got shape {w.shape}")
    return w


def _iptr(a: np.ndarray):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))


def version() -> str:
    """The library version, e.g. '0.1.0'."""
    return _lib.lib().ntk_version().decode()


def runtime_info() -> str:
    """Version, .NET runtime, SIMD path in use and thread count."""
    return _lib.read_string(_lib.lib().ntk_runtime_info)


def activations() -> list[str]:
    """The activation names accepted ('leaky_relu[:A]' means 'leaky_relu' or e.g. 'leaky_relu:0.2')."""
    return _lib.read_string(_lib.lib().ntk_activations).split(",")


def set_threads(threads: int) -> None:
    """Largest number of threads a computation uses (0 = the number of processors). Results do not depend on it."""
    _check(_lib.lib().ntk_set_threads(int(threads)))


def get_threads() -> int:
    return int(_lib.lib().ntk_get_threads())


def kernel(X, X2=None, *, depth: int, activation: str = "relu", beta: float = 0.1, weight_std: float = 1.0,
           kind: str = "ntk", trainable_from: int = 0, quadrature_degree: int | None = None):
    """Infinite-width NTK Θ(L) and/or NNGP Σ(L) of the rows of X (n x d) against those of X2 (m x d;
    None = X itself, computed as a symmetric kernel). kind: 'ntk' or 'nngp' (an n x m array) or 'both'
    (the tuple (ntk, nngp)). trainable_from=K: the NTK of a network whose first K weight layers are frozen.
    quadrature_degree: for activations without a closed-form dual, the polar quadrature rule with that many
    nodes per piece instead of the default (an error for closed-form activations)."""
    want_ntk, want_nngp = _kind(kind)
    x = _matrix(X, "X")
    x2 = None if X2 is None else _matrix(X2, "X2")
    if x2 is not None and x2.shape[1] != x.shape[1]:
        raise NtkError(f"X2 has {x2.shape[1]} features per point but X has {x.shape[1]}")
    n, d = x.shape
    m = n if x2 is None else x2.shape[0]
    ntk = np.empty((n, m)) if want_ntk else None
    nngp = np.empty((n, m)) if want_nngp else None
    _check(_lib.lib().ntk_kernel_ex(
        _ptr(x), n, d, _ptr(x2), m, d, d,
        _int(depth, "depth"), _text(activation, "activation"), float(beta), float(weight_std),
        _int(trainable_from, "trainable_from"), 0 if quadrature_degree is None else _int(quadrature_degree, "quadrature_degree"),
        _ptr(ntk), m, _ptr(nngp), m))
    return _result(kind, ntk, nngp)


def parameter_count(widths: Sequence[int]) -> int:
    """Number of parameters of an MLP with widths n0 (inputs), ..., nL (outputs)."""
    w = _widths(widths)
    count = ctypes.c_int64(0)
    _check(_lib.lib().ntk_mlp_parameter_count(_iptr(w), len(w), ctypes.byref(count)))
    return count.value


def init_params(widths: Sequence[int], seed: int = 0) -> np.ndarray:
    """θ iid N(0, 1) from the seed, the same values as `ntk init --seed SEED`. Layout: W0 (n1 x n0,
    row-major), b0 (n1), W1, b1, ... concatenated (the arrays of an `ntk init` .npz, flattened)."""
    w = _widths(widths)
    p = np.empty(parameter_count(w))
    _check(_lib.lib().ntk_mlp_init(_iptr(w), len(w), int(seed) & (2**64 - 1), _ptr(p), len(p)))
    return p


def _images(a, name: str) -> np.ndarray:
    """A C-contiguous float64 array of images: N x H x W x C, N x L x C (H = 1) or N x d (H = W = 1)."""
    m = np.ascontiguousarray(a, dtype=np.float64)
    if m.ndim == 2:
        m = m.reshape(m.shape[0], 1, 1, m.shape[1])
    elif m.ndim == 3:
        m = m.reshape(m.shape[0], 1, m.shape[1], m.shape[2])
    elif m.ndim != 4:
        raise NtkError(f"{name} must be N x H x W x C, N x L x C or N x d, got shape {m.shape}")
    return m


def arch_kernel(X, X2=None, *, arch: str, beta: float = 0.1, weight_std: float = 1.0, kind: str = "ntk"):
    """Infinite-width NTK and/or NNGP of a network built from layers, as `ntk kernel --arch`, e.g.
    arch="conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1", on images X (N x H x W x C, channels
    last; or N x L x C, or N x d) against X2 (None = X). kind as for kernel()."""
    want_ntk, want_nngp = _kind(kind)
    x = _images(X, "X")
    x2 = None if X2 is None else _images(X2, "X2")
    if x2 is not None and x2.shape[1:] != x.shape[1:]:
        raise NtkError(f"X2 images are {x2.shape[1:]} but X images are {x.shape[1:]}")
    n, h, w, c = x.shape
    m = n if x2 is None else x2.shape[0]
    ntk = np.empty((n, m)) if want_ntk else None
    nngp = np.empty((n, m)) if want_nngp else None
    _check(_lib.lib().ntk_arch_kernel(
        _text(arch, "arch"), float(beta), float(weight_std),
        _ptr(x), n, _ptr(x2), m, h, w, c,
        _ptr(ntk), m, _ptr(nngp), m))
    return _result(kind, ntk, nngp)


def empirical_kernel(X, X2=None, *, params, widths: Sequence[int] | None = None, activation: str = "relu",
                     beta: float = 0.1, weight_std: float = 1.0, kind: str = "ntk"):
    """Empirical (finite-width) NTK Θ̂ — the trace over outputs divided by nL — and/or the empirical NNGP of
    an MLP on X (n x n0) against X2 (m x n0; None = X).
    params: a path to an `ntk init`/`ntk train` .npz (widths, activation, beta and weight_std are then read
    from the file and the other arguments must be left out), or a 1-D array of all parameters in the layout
    of init_params with ``widths`` given. kind as for kernel()."""
    want_ntk, want_nngp = _kind(kind)
    x = _matrix(X, "X")
    x2 = None if X2 is None else _matrix(X2, "X2")
    if x2 is not None and x2.shape[1] != x.shape[1]:
        raise NtkError(f"X2 has {x2.shape[1]} features per point but X has {x.shape[1]}")
    n, d = x.shape
    m = n if x2 is None else x2.shape[0]
    ntk = np.empty((n, m)) if want_ntk else None
    nngp = np.empty((n, m)) if want_nngp else None
    lib = _lib.lib()
    if isinstance(params, (str, bytes, os.PathLike)):
        if widths is not None:
            raise NtkError("widths is read from the parameter file; leave it out with params=path")
        _check(lib.ntk_empirical_kernel_npz(
            os.fsencode(params), d, _ptr(x), n, d, _ptr(x2), m, d, _ptr(ntk), m, _ptr(nngp), m))
    else:
        if widths is None:
            raise NtkError("widths (n0, ..., nL) is needed with a parameter array")
        w = _widths(widths)
        p = np.ascontiguousarray(params, dtype=np.float64)
        if p.ndim != 1:
            raise NtkError(f"params must be a 1-D array (see init_params), got shape {p.shape}")
        if len(w) >= 1 and w[0] != d:
            raise NtkError(f"X has {d} features per point but the network has n0 = {w[0]} inputs")
        _check(lib.ntk_empirical_kernel(
            _iptr(w), len(w), _text(activation, "activation"), float(beta), float(weight_std), _ptr(p), len(p),
            _ptr(x), n, d, _ptr(x2), m, d, _ptr(ntk), m, _ptr(nngp), m))
    return _result(kind, ntk, nngp)


def predict(K_train, K_test, Y, t: float = math.inf, *, ridge: float = 0.0, nngp=None):
    """Mean output at the test points of the infinitely wide network trained by gradient descent for time t
    (steps x learning rate; inf = kernel regression) on targets Y, with f_0 = 0:
        K_test K_train^-1 (I - exp(-t K_train / n)) Y.
    K_train: Θ(X, X) (n x n). K_test: Θ(X*, X) (m x n). Y: n x k (or n: the result is then 1-D).
    ridge >= 0 adds ridge * mean(diag K_train) to the diagonal.
    nngp=(S_train, S_test, S_test_diag), the NNGP kernels Σ(X, X), Σ(X*, X) and the diagonal Σ(x*_i, x*_i),
    also returns the variance over initialisations (m,): the result is then (mean, variance)."""
    kt = _matrix(K_train, "K_train")
    kx = _matrix(K_test, "K_test")
    y = np.ascontiguousarray(Y, dtype=np.float64)
    vector = y.ndim == 1
    if vector:
        y = y.reshape(-1, 1)
    if y.ndim != 2:
        raise NtkError(f"Y must be 1-D or 2-D (points x outputs), got shape {y.shape}")
    n = kt.shape[0]
    if kt.shape != (n, n):
        raise NtkError(f"K_train must be square, got shape {kt.shape}")
    m = kx.shape[0]
    if kx.shape[1] != n:
        raise NtkError(f"K_test has {kx.shape[1]} columns but K_train has {n} points")
    if y.shape[0] != n:
        raise NtkError(f"Y has {y.shape[0]} rows but K_train has {n} points")
    k = y.shape[1]
    mean = np.empty((m, k))
    st = sx = sd = var = None
    if nngp is not None:
        try:
            s_train, s_test, s_diag = nngp
        except (TypeError, ValueError):
            raise NtkError("nngp must be the tuple (S_train, S_test, S_test_diag)") from None
        st = _matrix(s_train, "S_train")
        sx = _matrix(s_test, "S_test")
        sd = np.ascontiguousarray(s_diag, dtype=np.float64).reshape(-1)
        if st.shape != (n, n):
            raise NtkError(f"S_train must be {n} x {n} like K_train, got shape {st.shape}")
        if sx.shape != (m, n):
            raise NtkError(f"S_test must be {m} x {n} like K_test, got shape {sx.shape}")
        if sd.shape != (m,):
            raise NtkError(f"S_test_diag must have {m} entries (one per test point), got {sd.shape[0]}")
        var = np.empty(m)
    _check(_lib.lib().ntk_predict(
        _ptr(kt), n, n, _ptr(kx), m, n, _ptr(y), k, k, float(t), float(ridge), _ptr(mean), k,
        _ptr(st), n, _ptr(sx), n, _ptr(sd), _ptr(var)))
    if vector:
        mean = mean[:, 0]
    return mean if var is None else (mean, var)


def _int(v, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise NtkError(f"{name} must be an integer, got {v!r}")
    v = int(v)
    if not -2**31 <= v < 2**31:
        raise NtkError(f"{name} = {v}: out of range")
    return v


def _text(s, name: str) -> bytes:
    if not isinstance(s, str):
        raise NtkError(f"{name} must be a string, got {s!r}")
    return s.encode("utf-8")
