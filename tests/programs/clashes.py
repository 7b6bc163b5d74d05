"""User names that the generated code also uses (tape, ad, value, verify, f_b, ...): adjoin must
rename, never clash (tests/test_soundness.py)."""
import numpy as np

value = 2.0          # a module constant named like the head's value in the generated code
tape = 0.5           # ... and like the tape


def sq(u):
    return u * u


def local_tape(x):
    tape = x * 2.0
    u = x.copy()
    u *= tape
    return np.sum(u ** 2)


def local_ad(x):
    ad = x ** 2
    return np.sum(ad * x)


def local_named_like_an_adjoint(x):
    sq_b = 2.0
    sq_fwd = 3.0
    sq_bwd = 0.5
    return np.sum(sq(x)) * sq_b * sq_fwd * sq_bwd


def scale(u, tape):
    return u * tape


def parameter_named_tape(x):
    return np.sum(scale(x, 2.0) ** 2)


def local_verify(x):
    verify = x * 2.0
    prof = verify * 0.5
    return np.sum(sq(verify) * prof)


def module_constants(x):
    return np.sum(x ** 3) * value + np.sum(x) * tape


def local_value(x):
    value = np.sum(x ** 2)
    return value * np.sum(x)


def parameter_value(x, value):
    return np.sum(x ** 2) * value
