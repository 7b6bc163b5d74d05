"""Programs with varied locals that never reach the cost (only a comparison, a shape or a loop
test reads them), beside locals that reach it only in unusual ways (a later iteration, a callee
writing into an argument).  tests/test_useful.py checks which adjoints the generated code keeps."""
import numpy as np


def upwind(u, nu):
    """Burgers' flux: the face velocity only chooses the upwind side."""
    u_west = np.roll(u, 1)
    u_face = 0.5 * (u_west + u)
    advective = np.where(u_face > 0.0, 0.5 * u_west * u_west, 0.5 * u * u)
    return np.sum((advective - nu * (u - u_west)) ** 2)


def only_a_shape(x, a):
    w = x * a
    z = np.zeros_like(w)
    z[0] = a
    return np.sum(z * x)


def one_item_unused(x, a):
    p, q = x * a, x + a
    return np.sum(p * p)


def only_a_branch_test(x, a):
    m = x * a
    if np.sum(m) > 0.0:
        y = np.sin(x) * a
    else:
        y = np.cos(x)
    return np.sum(y)


def only_a_loop_test(x, a):
    y = x * a
    err = np.max(np.abs(y))
    while err > 0.1:
        y = 0.5 * y
        err = np.max(np.abs(y))
    return np.sum(y * x)


def read_by_the_next_iteration(x, a, n):
    prev = x * 0.0
    acc = x.copy()
    for k in range(n):
        acc = acc + prev * a
        prev = np.sin(acc)
    return np.sum(acc)


def fill(out, t):
    out[:] = t * 2.0


def read_by_a_writing_callee(x, a):
    t = x * a
    out = np.zeros_like(x)
    fill(out, t)
    return np.sum(out * out)


def scale_rows(m, c):
    m *= c


def read_through_a_row_passed(x, a):
    t = np.outer(x, x) * a
    scale_rows(t[1], a)
    return np.sum(t)
