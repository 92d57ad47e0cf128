"""Tests of the ntkfast package through libntkfast.so, against references written here in numpy:
closed-form kernel recursions (relu arc-cosine, erf arcsine), a hand-written backward pass for empirical
NTKs, eigendecomposition formulas for the training dynamics, and the library's error contract."""
import ctypes
import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import ntkfast
from ntkfast import NtkError, _lib

RNG = np.random.default_rng(20261206)


# ---- independent references -----------------------------------------------------------------------

def relu_duals(a, b, c):
    """E[relu(u)relu(v)], E[relu'(u)relu'(v)] for (u, v) ~ N(0, [[a, c], [c, b]]) (Cho & Saul arc-cosine)."""
    s = np.sqrt(a * b)
    cos = np.clip(c / s, -1.0, 1.0)
    th = np.arccos(cos)
    return s / (2 * np.pi) * (np.sin(th) + (np.pi - th) * cos), (np.pi - th) / (2 * np.pi)


def erf_duals(a, b, c):
    """E[erf(u)erf(v)] = 2/π·arcsin(2c/√((1+2a)(1+2b))), E[erf'(u)erf'(v)] = 4/π / √((1+2a)(1+2b) − 4c²)."""
    q = (1 + 2 * a) * (1 + 2 * b)
    return 2 / np.pi * np.arcsin(2 * c / np.sqrt(q)), 4 / np.pi / np.sqrt(q - 4 * c * c)


def reference_kernels(x, x2, depth, duals, beta=0.1, sw=1.0):
    """Σ(L), Θ(L) by docs/design.md §1's recursion, in numpy."""
    d = x.shape[1]
    s12 = sw**2 * x @ x2.T / d + beta**2
    s11 = sw**2 * np.sum(x * x, 1) / d + beta**2
    s22 = sw**2 * np.sum(x2 * x2, 1) / d + beta**2
    theta = s12.copy()
    for _ in range(depth - 1):
        a, b = np.meshgrid(s11, s22, indexing="ij")
        e, ed = duals(a, b, s12)
        e11, _ = duals(s11, s11, s11)
        e22, _ = duals(s22, s22, s22)
        s12 = sw**2 * e + beta**2
        theta = theta * sw**2 * ed + s12
        s11, s22 = sw**2 * e11 + beta**2, sw**2 * e22 + beta**2
    return theta, s12


def unpack(params, widths):
    """W(l), b(l) views of the flat parameter vector (layout W0, b0, W1, b1, ...)."""
    out, p = [], 0
    for l in range(len(widths) - 1):
        nw = widths[l + 1] * widths[l]
        w = params[p:p + nw].reshape(widths[l + 1], widths[l])
        p += nw
        b = params[p:p + widths[l + 1]]
        p += widths[l + 1]
        out.append((w, b))
    assert p == len(params)
    return out


def gradients(params, widths, x, beta, sw, act, dact):
    """Per-point gradient of each output w.r.t. all parameters, by a hand-written backward pass: (n, nL, P)."""
    layers = unpack(params, widths)
    n, q = x.shape[0], widths[-1]
    grads = np.zeros((n, q, len(params)))
    for i in range(n):
        alphas, pre = [x[i]], []
        for l, (w, b) in enumerate(layers):
            h = sw / np.sqrt(widths[l]) * w @ alphas[-1] + beta * b
            pre.append(h)
            if l < len(layers) - 1:
                alphas.append(act(h))
        for k in range(q):
            delta = np.zeros(q)
            delta[k] = 1.0
            g, p = [], len(params)
            for l in reversed(range(len(layers))):
                w, b = layers[l]
                gw = np.outer(delta, sw / np.sqrt(widths[l]) * alphas[l])
                g.append((gw.ravel(), beta * delta))
                if l > 0:
                    delta = (sw / np.sqrt(widths[l]) * w.T @ delta) * dact(pre[l - 1])
            flat = np.concatenate([np.concatenate(pair) for pair in reversed(g)])
            assert flat.shape == (p,)
            grads[i, k] = flat
    return grads


relu = (lambda h: np.maximum(h, 0), lambda h: (h > 0).astype(float))


def numpy_predict(kt, kx, y, t):
    mu, v = np.linalg.eigh(kt)
    n = kt.shape[0]
    gains = 1 / mu if math.isinf(t) else -np.expm1(-t * mu / n) / mu
    return kx @ (v * gains) @ v.T @ y


# ---- library basics ---------------------------------------------------------------------------------

def test_version_and_info():
    assert ntkfast.version().count(".") == 2
    info = ntkfast.runtime_info()
    assert ntkfast.version() in info and "isa path" in info
    names = ntkfast.activations()
    assert "relu" in names and "erf" in names and "leaky_relu[:A]" in names


def test_library_found_in_order():
    assert _lib.path().name == "libntkfast.so"
    assert _lib.candidates()[-1].parts[-3:] == ("artifacts", "native", "libntkfast.so")
    # NTKFAST_LIB is honoured and never silently replaced by another copy.
    code = "import ntkfast\ntry:\n ntkfast.version()\nexcept OSError as e:\n print(e)"
    env = dict(os.environ, NTKFAST_LIB="/nonexistent/libntkfast.so",
               PYTHONPATH=os.path.dirname(os.path.dirname(ntkfast.__file__)))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "NTKFAST_LIB=/nonexistent/libntkfast.so: no such file" in out.stdout
    env["NTKFAST_LIB"] = str(_lib.path())
    out = subprocess.run([sys.executable, "-c", "import ntkfast; print(ntkfast.version())"], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ntkfast.version()


# ---- infinite-width kernels -------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1, 2, 5])
def test_relu_matches_arccosine_closed_form(depth):
    x = RNG.standard_normal((7, 4))
    x2 = RNG.standard_normal((5, 4))
    ntk, nngp = ntkfast.kernel(x, x2, depth=depth, activation="relu", beta=0.3, weight_std=1.4, kind="both")
    t_ref, s_ref = reference_kernels(x, x2, depth, relu_duals, beta=0.3, sw=1.4)
    np.testing.assert_allclose(ntk, t_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(nngp, s_ref, rtol=1e-12, atol=1e-14)


def test_erf_matches_arcsine_closed_form():
    x = RNG.standard_normal((6, 3))
    ntk, nngp = ntkfast.kernel(x, depth=4, activation="erf", kind="both")
    t_ref, s_ref = reference_kernels(x, x, 4, erf_duals)
    np.testing.assert_allclose(ntk, t_ref, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(nngp, s_ref, rtol=1e-11, atol=1e-14)


def test_readme_values():
    x = np.array([[1, 0], [0.6, 0.8], [-1, 0]], dtype=float)
    ntk, nngp = ntkfast.kernel(x, depth=4, activation="relu", beta=0.1, weight_std=1.0, kind="both")
    assert abs(ntk[0, 1] - 0.151732) < 5e-7 and abs(nngp[0, 1] - 0.066927) < 5e-7


def test_kinds_and_symmetry():
    x = RNG.standard_normal((20, 6))
    both = ntkfast.kernel(x, depth=3, activation="leaky_relu:0.2", kind="both")
    ntk = ntkfast.kernel(x, depth=3, activation="leaky_relu:0.2")
    nngp = ntkfast.kernel(x, depth=3, activation="leaky_relu:0.2", kind="nngp")
    assert np.array_equal(both[0], ntk) and np.array_equal(both[1], nngp)
    assert np.array_equal(ntk, ntk.T) and np.array_equal(nngp, nngp.T)
    # X against a copy of itself (the rectangular path) is bitwise the symmetric kernel.
    assert np.array_equal(ntkfast.kernel(x, x.copy(), depth=3, activation="leaky_relu:0.2"), ntk)


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh", "gelu", "elu:1.5", "sin"])
def test_nngp_is_positive_semidefinite(activation):
    x = RNG.standard_normal((30, 5))
    s, t = ntkfast.kernel(x, depth=3, activation=activation, kind="both")[::-1]
    for k in (s, t):
        ev = np.linalg.eigvalsh(k)
        assert ev[0] >= -1e-10 * ev[-1], (activation, ev[0], ev[-1])


def test_depth_one_is_linear_for_any_activation():
    x = RNG.standard_normal((4, 3))
    for act in ("relu", "tanh", "sign"):
        np.testing.assert_allclose(ntkfast.kernel(x, depth=1, activation=act, beta=0.5, weight_std=2.0),
                                   4.0 * x @ x.T / 3 + 0.25, rtol=1e-14)


def test_input_layouts_and_dtypes():
    x = RNG.standard_normal((9, 8))
    ref = ntkfast.kernel(x[:, ::2].copy(), depth=3)
    assert np.array_equal(ntkfast.kernel(x[:, ::2], depth=3), ref)                   # strided view
    assert np.array_equal(ntkfast.kernel(np.asfortranarray(x[:, ::2]), depth=3), ref)
    xf = x.astype(np.float32)
    np.testing.assert_array_equal(ntkfast.kernel(xf, depth=2), ntkfast.kernel(xf.astype(np.float64), depth=2))


def test_leading_dimensions_through_the_c_abi():
    """Padded rows (ld > d) in and out, and separate output leading dimensions."""
    x = RNG.standard_normal((5, 3))
    ref_t, ref_s = ntkfast.kernel(x, depth=3, kind="both")
    xp = np.full((5, 7), np.nan)           # the padding is never read (NaN would be rejected if it were)
    xp[:, :3] = x
    t = np.full((5, 8), -1.0)
    s = np.full((5, 6), -1.0)
    dp = ctypes.POINTER(ctypes.c_double)
    rc = _lib.lib().ntk_kernel(xp.ctypes.data_as(dp), 5, 7, None, 5, 0, 3, 3, b"relu", 0.1, 1.0,
                               t.ctypes.data_as(dp), 8, s.ctypes.data_as(dp), 6)
    assert rc == 0, _lib.last_error()
    assert np.array_equal(t[:, :5], ref_t) and np.array_equal(s[:, :5], ref_s)
    assert np.all(t[:, 5:] == -1.0) and np.all(s[:, 5:] == -1.0)


def test_threads_do_not_change_results():
    x = RNG.standard_normal((70, 4))
    before = ntkfast.get_threads()
    try:
        ntkfast.set_threads(1)
        one = ntkfast.kernel(x, depth=4, activation="gelu", kind="both")
        ntkfast.set_threads(2)
        two = ntkfast.kernel(x, depth=4, activation="gelu", kind="both")
    finally:
        ntkfast.set_threads(before)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])


def test_empty_inputs():
    assert ntkfast.kernel(np.zeros((0, 3)), depth=2).shape == (0, 0)
    assert ntkfast.kernel(np.ones((2, 3)), np.zeros((0, 3)), depth=2).shape == (2, 0)


# ---- empirical kernels ------------------------------------------------------------------------------

def test_parameters():
    widths = [3, 5, 2]
    assert ntkfast.parameter_count(widths) == 5 * 3 + 5 + 2 * 5 + 2
    p = ntkfast.init_params(widths, seed=7)
    assert p.shape == (32,) and np.array_equal(p, ntkfast.init_params(widths, seed=7))
    assert not np.array_equal(p, ntkfast.init_params(widths, seed=8))
    big = ntkfast.init_params([100, 100, 1], seed=1)
    assert abs(big.mean()) < 0.05 and abs(big.std() - 1) < 0.05


def test_empirical_matches_handwritten_backprop():
    widths = [3, 6, 4, 2]
    x = RNG.standard_normal((5, 3))
    x2 = RNG.standard_normal((4, 3))
    p = ntkfast.init_params(widths, seed=3)
    ntk, nngp = ntkfast.empirical_kernel(x, x2, params=p, widths=widths, activation="relu",
                                         beta=0.2, weight_std=1.3, kind="both")
    g1 = gradients(p, widths, x, 0.2, 1.3, *relu)
    g2 = gradients(p, widths, x2, 0.2, 1.3, *relu)
    full = np.einsum("ikp,jkp->ijk", g1, g2)                # Θ̂_kk(x_i, x2_j)
    np.testing.assert_allclose(ntk, full.mean(axis=2), rtol=1e-12, atol=1e-13)
    # Empirical NNGP: σw²/n(L−1)·α(L−1)·α'(L−1) + β².
    layers = unpack(p, widths)

    def last_hidden(z):
        a = z
        for l, (w, b) in enumerate(layers[:-1]):
            a = np.maximum(1.3 / np.sqrt(widths[l]) * a @ w.T + 0.2 * b, 0)
        return a
    np.testing.assert_allclose(nngp, 1.3**2 / widths[-2] * last_hidden(x) @ last_hidden(x2).T + 0.04, rtol=1e-12)


def test_empirical_converges_to_infinite_width():
    x = RNG.standard_normal((4, 3))
    widths = [3, 2048, 2048, 1]
    emp = ntkfast.empirical_kernel(x, params=ntkfast.init_params(widths, seed=5), widths=widths)
    ana = ntkfast.kernel(x, depth=3)
    assert np.abs(emp - ana).max() < 0.1 * np.abs(ana).max()
    assert np.array_equal(emp, emp.T)


def test_empirical_from_npz_file(tmp_path):
    widths = [2, 8, 3]
    p = ntkfast.init_params(widths, seed=11)
    arrays = {}
    for l, (w, b) in enumerate(unpack(p, widths)):
        arrays[f"W{l}"], arrays[f"b{l}"] = w, b
    path = tmp_path / "net.npz"
    np.savez(path, beta=np.float64(0.25), weight_std=np.float64(0.9), activation=np.array("tanh"), **arrays)
    x = RNG.standard_normal((6, 2))
    from_file = ntkfast.empirical_kernel(x, params=path, kind="both")
    from_array = ntkfast.empirical_kernel(x, params=p, widths=widths, activation="tanh", beta=0.25,
                                          weight_std=0.9, kind="both")
    assert np.array_equal(from_file[0], from_array[0]) and np.array_equal(from_file[1], from_array[1])
    # float32 files compute in float32, as `ntk empirical` does
    np.savez(tmp_path / "net32.npz", beta=np.float64(0.25), weight_std=np.float64(0.9), activation=np.array("tanh"),
             **{k: v.astype(np.float32) for k, v in arrays.items()})
    f32 = ntkfast.empirical_kernel(x, params=str(tmp_path / "net32.npz"))
    np.testing.assert_allclose(f32, from_array[0], rtol=1e-4)


# ---- dynamics -----------------------------------------------------------------------------------------

def _problem(n=12, m=5, d=3):
    x = RNG.standard_normal((n, d))
    xt = RNG.standard_normal((m, d))
    y = np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], axis=1)
    kt, st = ntkfast.kernel(x, depth=3, kind="both")
    kx, sx = ntkfast.kernel(xt, x, depth=3, kind="both")
    ktt, stt = ntkfast.kernel(xt, depth=3, kind="both")
    return x, xt, y, kt, st, kx, sx, ktt, stt


def test_predict_at_infinity_reproduces_training_targets():
    _, _, y, kt, *_ = _problem()
    np.testing.assert_allclose(ntkfast.predict(kt, kt, y), y, atol=1e-8)
    np.testing.assert_allclose(ntkfast.predict(kt, kt, y[:, 0]), y[:, 0], atol=1e-8)   # 1-D targets
    assert ntkfast.predict(kt, kt, y[:, 0]).shape == (12,)


@pytest.mark.parametrize("t", [0.0, 0.5, 10.0, 1e3, math.inf])
def test_predict_matches_eigendecomposition(t):
    _, _, y, kt, _, kx, *_ = _problem()
    got = ntkfast.predict(kt, kx, y, t)
    np.testing.assert_allclose(got, numpy_predict(kt, kx, y, t), rtol=1e-7, atol=1e-9)
    if t == 0:
        assert np.all(got == 0)


def test_predict_variance():
    _, _, y, kt, st, kx, sx, _, stt = _problem()
    t = 4.0
    mean, var = ntkfast.predict(kt, kx, y, t, nngp=(st, sx, np.diag(stt)))
    np.testing.assert_allclose(mean, numpy_predict(kt, kx, y, t), rtol=1e-7, atol=1e-9)
    # A_t = Θ*X Θ⁻¹ (I − e^{−tΘ/n}); var = diag(Σ** + A Σ Aᵀ − A Σ*Xᵀ − Σ*X Aᵀ)
    mu, v = np.linalg.eigh(kt)
    a = kx @ (v * (-np.expm1(-t * mu / 12) / mu)) @ v.T
    ref = np.diag(stt) + np.einsum("ij,jk,ik->i", a, st, a) - 2 * np.einsum("ij,ij->i", a, sx)
    np.testing.assert_allclose(var, ref, rtol=1e-7, atol=1e-10)
    # On the training points at t = inf every initialisation fits the targets: no variance left.
    _, var_train = ntkfast.predict(kt, kt, y, nngp=(st, st, np.diag(st)))
    assert np.all(var_train < 1e-8)


def test_ridge():
    _, _, y, kt, _, kx, *_ = _problem()
    rho = 0.1 * np.mean(np.diag(kt))
    np.testing.assert_allclose(ntkfast.predict(kt, kx, y, ridge=0.1),
                               kx @ np.linalg.solve(kt + rho * np.eye(12), y), rtol=1e-9, atol=1e-12)


# ---- errors -------------------------------------------------------------------------------------------

def _raises(fn, *fragments, status=2):
    with pytest.raises(NtkError) as e:
        fn()
    for f in fragments:
        assert f in str(e.value), (f, str(e.value))
    assert e.value.status == status
    assert "\n" not in str(e.value) and "Parameter '" not in str(e.value)
    return str(e.value)


def test_bad_activation_name():
    x = np.ones((2, 2))
    _raises(lambda: ntkfast.kernel(x, depth=2, activation="rleu"), "Unknown activation 'rleu'", "relu, leaky_relu")
    _raises(lambda: ntkfast.kernel(x, depth=2, activation="relu:3"), "takes no parameter")
    _raises(lambda: ntkfast.empirical_kernel(x, params=np.zeros(9), widths=[2, 2, 1], activation="nope"),
            "Unknown activation 'nope'")


def test_mismatched_shapes():
    x = np.ones((3, 2))
    _raises(lambda: ntkfast.kernel(x, np.ones((3, 4)), depth=2), "X2 has 4 features", "X has 2")
    _raises(lambda: ntkfast.kernel(np.ones(3), depth=2), "must be 2-D")
    k = np.eye(3)
    _raises(lambda: ntkfast.predict(k, np.ones((2, 4)), np.ones(3)), "K_test has 4 columns", "3 points")
    _raises(lambda: ntkfast.predict(k, k, np.ones(4)), "Y has 4 rows")
    _raises(lambda: ntkfast.predict(np.ones((3, 2)), k, np.ones(3)), "must be square")
    _raises(lambda: ntkfast.empirical_kernel(x, params=np.zeros(8), widths=[2, 2, 1]), "n_params = 8", "9 parameters")
    _raises(lambda: ntkfast.empirical_kernel(x, params=np.zeros(9), widths=[3, 2, 1]), "n0 = 3")


def test_bad_values_are_reported_by_the_library():
    x = np.ones((3, 2))
    xn = x.copy()
    xn[1, 0] = np.nan
    _raises(lambda: ntkfast.kernel(xn, depth=2), "x1[1, 0] = NaN", "finite")
    _raises(lambda: ntkfast.kernel(x, xn * np.inf, depth=2), "x2[0, 0]", "finite")
    _raises(lambda: ntkfast.kernel(x, depth=0), "depth = 0")
    _raises(lambda: ntkfast.kernel(x, depth=2, beta=-1), "beta = -1")
    _raises(lambda: ntkfast.kernel(x, depth=2, weight_std=np.nan), "weight_std = NaN")
    _raises(lambda: ntkfast.kernel(x, depth=2, kind="theta"), "kind must be")
    k = np.eye(3)
    _raises(lambda: ntkfast.predict(k, k, np.ones(3), t=-1), "t = -1")
    _raises(lambda: ntkfast.predict(k, k, np.ones(3), ridge=-0.5), "ridge = -0.5")
    kn = k.copy()
    kn[2, 2] = np.inf
    _raises(lambda: ntkfast.predict(kn, k, np.ones(3)), "k_train[2, 2] = inf")
    _raises(lambda: ntkfast.set_threads(-2), "threads = -2")
    _raises(lambda: ntkfast.empirical_kernel(x, params="/nonexistent/net.npz"), "not found")


def test_bad_parameter_file(tmp_path):
    p = tmp_path / "bad.npz"
    np.savez(p, W0=np.ones((1, 2)), beta=np.float64(0.1), weight_std=np.float64(1.0), activation=np.array("relu"))
    _raises(lambda: ntkfast.empirical_kernel(np.ones((3, 2)), params=p), "b0")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    _raises(lambda: ntkfast.empirical_kernel(np.ones((3, 2)), params=tmp_path / "junk.npz"), "junk.npz")


def test_singular_kernel_is_a_computation_error():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])         # two equal points
    k = ntkfast.kernel(x, depth=3, beta=0.0)
    _raises(lambda: ntkfast.predict(k, k, np.arange(3.0)), "singular", "regularisation", status=1)
    ntkfast.predict(k, k, np.arange(3.0), ridge=1e-8)               # regularised: fine
    ntkfast.predict(k, k, np.arange(3.0), t=10.0)                   # finite time: fine


def test_null_pointers_and_sizes_through_the_c_abi():
    lib = _lib.lib()
    out = np.empty((2, 2))
    dp = ctypes.POINTER(ctypes.c_double)
    assert lib.ntk_kernel(None, 2, 2, None, 2, 0, 2, 2, b"relu", 0.1, 1.0, out.ctypes.data_as(dp), 2, None, 0) == 2
    assert "x1 is NULL" in _lib.last_error()
    x = np.ones((2, 2))
    assert lib.ntk_kernel(x.ctypes.data_as(dp), -1, 2, None, -1, 0, 2, 2, b"relu", 0.1, 1.0,
                          out.ctypes.data_as(dp), 2, None, 0) == 2
    assert "n1 = -1" in _lib.last_error()
    assert lib.ntk_kernel(x.ctypes.data_as(dp), 2, 2, None, 2, 0, 2, 2, b"relu", 0.1, 1.0, None, 2, None, 0) == 2
    assert "both NULL" in _lib.last_error()
    assert lib.ntk_kernel(x.ctypes.data_as(dp), 2, 2, None, 2, 0, 2, 2, None, 0.1, 1.0,
                          out.ctypes.data_as(dp), 2, None, 0) == 2
    assert "activation is NULL" in _lib.last_error()
    assert lib.ntk_kernel(x.ctypes.data_as(dp), 1 << 40, 1 << 40, None, 1 << 40, 0, 2, 2, b"relu", 0.1, 1.0,
                          out.ctypes.data_as(dp), 2, None, 0) == 2
    assert "too large" in _lib.last_error()
    # A successful call clears the message; the pointer form gives the same text.
    assert lib.ntk_kernel(x.ctypes.data_as(dp), 2, 2, None, 2, 0, 2, 2, b"relu", 0.1, 1.0,
                          out.ctypes.data_as(dp), 2, None, 0) == 0
    assert _lib.last_error() == "" and lib.ntk_last_error_message() == b""
    lib.ntk_kernel(x.ctypes.data_as(dp), 2, 2, None, 3, 0, 2, 2, b"relu", 0.1, 1.0, out.ctypes.data_as(dp), 2, None, 0)
    assert lib.ntk_last_error_message().decode() == _lib.last_error() and "n2 = 3" in _lib.last_error()
    # Truncation: snprintf semantics.
    buf = ctypes.create_string_buffer(8)
    full = lib.ntk_last_error(buf, 8)
    assert full == len(_lib.last_error().encode()) and buf.value == _lib.last_error().encode()[:7]


def test_last_error_is_per_thread():
    """A failure on one thread does not overwrite another thread's message (ctypes releases the GIL)."""
    x = np.ones((3, 2))
    messages = {}
    barrier = threading.Barrier(2)

    def worker(name, activation):
        barrier.wait()
        for _ in range(50):
            try:
                ntkfast.kernel(x, depth=2, activation=activation)
                messages[name] = _lib.last_error()
            except NtkError as e:
                messages[name] = str(e)
            if activation == "relu":
                assert _lib.last_error() == ""
            else:
                assert "Unknown activation 'bad_" + name in _lib.last_error()
    threads = [threading.Thread(target=worker, args=(n, a)) for n, a in (("a", "relu"), ("b", "bad_b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert messages["a"] == "" and "bad_b" in messages["b"]


# ---- kernel options and architectures --------------------------------------------------------------

def test_trainable_from_last_layer_is_the_nngp():
    """Only the readout trained: Θ = Σ(L) (its gradient is the last hidden features and the bias)."""
    x = RNG.standard_normal((6, 4))
    ntk = ntkfast.kernel(x, depth=3, activation="relu", trainable_from=2)
    np.testing.assert_allclose(ntk, ntkfast.kernel(x, depth=3, activation="relu", kind="nngp"), rtol=1e-13, atol=1e-15)
    full = ntkfast.kernel(x, depth=3, activation="relu")
    assert np.all(np.diag(full) > np.diag(ntk))  # freezing removes the positive per-layer terms
    with pytest.raises(NtkError, match="trainable_from"):
        ntkfast.kernel(x, depth=3, activation="relu", trainable_from=3)


def test_quadrature_degree_for_numeric_duals_only():
    x = RNG.standard_normal((5, 3))
    default = ntkfast.kernel(x, depth=2, activation="tanh")
    quad = ntkfast.kernel(x, depth=2, activation="tanh", quadrature_degree=48)
    np.testing.assert_allclose(quad, default, rtol=1e-9)
    with pytest.raises(NtkError, match="closed-form"):
        ntkfast.kernel(x, depth=2, activation="relu", quadrature_degree=12)


def _cntk_reference():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
    try:
        import cntk_numpy
    finally:
        sys.path.pop(0)
    return cntk_numpy


def test_arch_kernel_matches_an_independent_numpy_cntk():
    """conv relu conv relu gap dense against scripts/cntk_numpy.py (pixel-pair arrays in numpy)."""
    ref = _cntk_reference()
    x = RNG.standard_normal((3, 5, 4, 2))
    x2 = RNG.standard_normal((2, 5, 4, 2))
    ntk, nngp = ntkfast.arch_kernel(x, x2, arch="conv:8,3x3,same relu conv:8,3x3,same relu gap dense:1",
                                    beta=0.2, weight_std=1.3, kind="both")
    assert ntk.shape == (3, 2)
    w2, b2 = 1.3 ** 2, 0.2 ** 2

    def variances(imgs):
        va = []
        ref.pair_kernels(imgs, imgs, va, [], 2, 3, w2, b2, True)
        return va

    va, vb = variances(x), variances(x2)
    for i in range(3):
        for j in range(2):
            s, t = ref.pair_kernels(x[i:i + 1], x2[j:j + 1], [v[i:i + 1] for v in va], [v[j:j + 1] for v in vb], 2, 3, w2, b2, False)
            assert nngp[i, j] == pytest.approx(s[0], rel=1e-12)
            assert ntk[i, j] == pytest.approx(t[0], rel=1e-12)


def test_arch_kernel_of_dense_layers_is_the_mlp_kernel_and_errors_are_clear():
    x = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(ntkfast.arch_kernel(x, arch="dense:512 erf dense:512 erf dense:1"),
                               ntkfast.kernel(x, depth=3, activation="erf"), rtol=1e-12)
    with pytest.raises(NtkError, match="add flatten or gap"):
        ntkfast.arch_kernel(RNG.standard_normal((2, 4, 4, 1)), arch="conv:2,3x3 relu dense:1")
    with pytest.raises(NtkError, match="unknown layer"):
        ntkfast.arch_kernel(x, arch="dense:4 frobnicate dense:1")
    with pytest.raises(NtkError, match="X2 images"):
        ntkfast.arch_kernel(RNG.standard_normal((2, 4, 4, 1)), RNG.standard_normal((2, 3, 4, 1)), arch="conv:2,3x3 relu gap dense:1")
