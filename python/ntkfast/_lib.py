"""Loads libntkfast.so (the NativeAOT C ABI, include/ntkfast.h) with ctypes and declares its functions.

Search order: the NTKFAST_LIB environment variable (a path to the library), then a libntkfast.so next to
this package (an installed copy), then artifacts/native/libntkfast.so of the repository this package lives
in (what scripts/build-native.sh publishes).
"""
from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint64
from pathlib import Path

LIBRARY_NAME = "libntkfast.so"
ENV_VAR = "NTKFAST_LIB"

_here = Path(__file__).resolve().parent


def candidates() -> list[Path]:
    """The paths tried, in order."""
    paths = []
    env = os.environ.get(ENV_VAR)
    if env:
        paths.append(Path(env))
    paths.append(_here / LIBRARY_NAME)
    paths.append(_here.parent.parent / "artifacts" / "native" / LIBRARY_NAME)
    return paths


def find_library() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        # An explicit choice is never silently replaced by another copy.
        p = Path(env)
        if not p.is_file():
            raise OSError(f"{ENV_VAR}={env}: no such file")
        return p
    for p in candidates():
        if p.is_file():
            return p
    tried = ", ".join(str(p) for p in candidates())
    raise OSError(f"{LIBRARY_NAME} not found (tried {tried}); build it with scripts/build-native.sh "
                  f"or set {ENV_VAR}")


_dp = POINTER(c_double)
_ip = POINTER(c_int64)

# name: (restype, argtypes), exactly as in include/ntkfast.h
_SIGNATURES = {
    "ntk_version": (c_char_p, []),
    "ntk_runtime_info": (c_size_t, [c_char_p, c_size_t]),
    "ntk_activations": (c_size_t, [c_char_p, c_size_t]),
    "ntk_last_error": (c_size_t, [c_char_p, c_size_t]),
    "ntk_last_error_message": (c_char_p, []),
    "ntk_set_threads": (c_int, [c_int]),
    "ntk_get_threads": (c_int, []),
    "ntk_kernel": (c_int, [_dp, c_int64, c_int64, _dp, c_int64, c_int64, c_int64,
                           c_int, c_char_p, c_double, c_double,
                           _dp, c_int64, _dp, c_int64]),
    "ntk_kernel_ex": (c_int, [_dp, c_int64, c_int64, _dp, c_int64, c_int64, c_int64,
                              c_int, c_char_p, c_double, c_double, c_int, c_int,
                              _dp, c_int64, _dp, c_int64]),
    "ntk_arch_kernel": (c_int, [c_char_p, c_double, c_double, _dp, c_int64, _dp, c_int64,
                                c_int64, c_int64, c_int64, _dp, c_int64, _dp, c_int64]),
    "ntk_mlp_parameter_count": (c_int, [_ip, c_int64, _ip]),
    "ntk_mlp_init": (c_int, [_ip, c_int64, c_uint64, _dp, c_int64]),
    "ntk_empirical_kernel": (c_int, [_ip, c_int64, c_char_p, c_double, c_double, _dp, c_int64,
                                     _dp, c_int64, c_int64, _dp, c_int64, c_int64,
                                     _dp, c_int64, _dp, c_int64]),
    "ntk_empirical_kernel_npz": (c_int, [c_char_p, c_int64,
                                         _dp, c_int64, c_int64, _dp, c_int64, c_int64,
                                         _dp, c_int64, _dp, c_int64]),
    "ntk_predict": (c_int, [_dp, c_int64, c_int64, _dp, c_int64, c_int64, _dp, c_int64, c_int64,
                            c_double, c_double, _dp, c_int64,
                            _dp, c_int64, _dp, c_int64, _dp, _dp]),
}

_lib: ctypes.CDLL | None = None


def lib() -> ctypes.CDLL:
    """The loaded library (loaded on first use)."""
    global _lib
    if _lib is None:
        cdll = ctypes.CDLL(str(find_library()))
        for name, (restype, argtypes) in _SIGNATURES.items():
            f = getattr(cdll, name)
            f.restype = restype
            f.argtypes = argtypes
        _lib = cdll
    return _lib


def path() -> Path:
    """Where the library is loaded from."""
    return Path(lib()._name)


def last_error() -> str:
    """The calling thread's last error message (ntk_last_error)."""
    f = lib().ntk_last_error
    n = f(None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    f(buf, n + 1)
    return buf.value.decode("utf-8", errors="replace")


def read_string(f) -> str:
    """A string from one of the size_t f(char*, size_t) functions."""
    n = f(None, 0)
    buf = ctypes.create_string_buffer(n + 1)
    f(buf, n + 1)
    return buf.value.decode("utf-8", errors="replace")
