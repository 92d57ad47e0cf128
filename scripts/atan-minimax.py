#!/usr/bin/env python3
"""Minimax coefficients for BatchedDual's atan kernel (stdlib only: decimal arithmetic, 60 digits).

atan(r) = r + r^3 * q(r^2) on |r| <= tan(pi/12) (the argument reduction of BatchedDual.Atan2).
With x = r^2, f(x) = (atan(sqrt x)/sqrt x - 1)/x, q minimises max over [0, X] of |x * (f(x) - q(x))|,
i.e. the relative error of r^3 q against atan(r) (x * f ~ atan(r)/r - 1; dividing by atan(r)/r ~ 1).
Remez exchange with a dense grid + local refinement for the extrema. Prints C# literals (round to
nearest double via repr of float(Decimal)) and the error of the double-rounded polynomial.

Usage: python3 scripts/atan-minimax.py [terms]   (BatchedDual uses the default, 9 terms)
"""
import sys
from decimal import Decimal as D, getcontext

getcontext().prec = 60
TERMS = int(sys.argv[1]) if len(sys.argv) > 1 else 9


def pi():
    # Machin: pi = 16 atan(1/5) - 4 atan(1/239)
    def at_inv(n):
        x = D(1) / n
        x2 = x * x
        s, t, k = D(0), x, 0
        while True:
            term = t / (2 * k + 1)
            if abs(term) < D(10) ** -65:
                break
            s += term if k % 2 == 0 else -term
            t *= x2
            k += 1
        return s
    return 16 * at_inv(5) - 4 * at_inv(239)


PI = pi()


def tan_pi_12():
    # tan(pi/12) = 2 - sqrt(3)
    return 2 - D(3).sqrt()


X = tan_pi_12() ** 2


def f(x):
    # (atan(sqrt x)/sqrt x - 1)/x = sum_{k>=1} (-1)^k x^(k-1)/(2k+1)
    s, t, k = D(0), D(1), 1
    while True:
        term = t / (2 * k + 1)
        if abs(term) < D(10) ** -62:
            break
        s += -term if k % 2 == 1 else term
        t *= x
        k += 1
    return s


def poly(c, x):
    p = D(0)
    for ci in reversed(c):
        p = p * x + ci
    return p


def err(c, x):
    return x * (f(x) - poly(c, x))


def solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for i in range(n):
        p = max(range(i, n), key=lambda r: abs(m[r][i]))
        m[i], m[p] = m[p], m[i]
        for r in range(n):
            if r != i:
                fct = m[r][i] / m[i][i]
                m[r] = [m[r][k] - fct * m[i][k] for k in range(n + 1)]
    return [m[i][n] / m[i][i] for i in range(n)]


def remez(terms):
    n = terms + 1  # reference points
    # Chebyshev-like initial reference on (0, X]; x = 0 is a fixed zero of the weighted error.
    import math
    ref = [X * D((1 - math.cos(math.pi * (i + 1) / (n))) / 2) for i in range(n)]
    ref[-1] = X
    for it in range(30):
        # sum_j c_j x_i^j * x_i + (-1)^i E = x_i f(x_i)
        a = [[x ** (j + 1) for j in range(terms)] + [D(-1) ** i] for i, x in enumerate(ref)]
        b = [x * f(x) for x in ref]
        sol = solve(a, b)
        c, e = sol[:terms], sol[terms]
        # extrema on a dense grid
        g = 4000
        xs = [X * i / g for i in range(1, g + 1)]
        es = [err(c, x) for x in xs]
        ext = []
        for i in range(len(xs)):
            left = es[i - 1] if i > 0 else D(0)
            right = es[i + 1] if i + 1 < len(xs) else D(0)
            if (abs(es[i]) >= abs(left) and abs(es[i]) >= abs(right)) and (i + 1 == len(xs) or es[i] * right >= 0 or abs(es[i]) >= abs(right)):
                ext.append(i)
        # keep alternating extrema with the largest magnitude
        alt = []
        for i in ext:
            if alt and (es[i] > 0) == (es[alt[-1]] > 0):
                if abs(es[i]) > abs(es[alt[-1]]):
                    alt[-1] = i
            else:
                alt.append(i)
        while len(alt) > n:
            # drop the smaller end
            if abs(es[alt[0]]) < abs(es[alt[-1]]):
                alt.pop(0)
            else:
                alt.pop()
        if len(alt) < n:
            break
        new = [xs[i] for i in alt]
        maxe = max(abs(es[i]) for i in alt)
        if max(abs(u - v) for u, v in zip(new, ref)) < X / g / 2 and it > 2:
            ref = new
            break
        ref = new
    return c, e


c, e = remez(TERMS)
cd = [float(ci) for ci in c]
print(f"// {TERMS} terms, levelled relative error {float(abs(e)):.3e} (exact coefficients)")
worst = D(0)
for i in range(1, 2001):
    x = X * i / 2000
    r = x.sqrt()
    # relative error of r + r^3 q(x) with the double-rounded coefficients, exact arithmetic
    approx = r + r * x * poly([D(v) for v in cd], x)
    exact = r * (1 + x * f(x))
    worst = max(worst, abs(approx / exact - 1))
print(f"// rounded to double: max relative error {float(worst):.3e} (2^-53 = 1.110e-16)")
for v in cd:
    print(f"{v!r},")
