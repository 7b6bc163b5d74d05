"""Programs that once gave a wrong gradient, a crash or a false refusal (issue 12), one shape each.

tests/test_soundness.py differentiates each one against converged finite differences, under
every placement and in verify mode.  Their shapes are those of real models: row views passed to
calls, second names for arrays updated in place, several results of a call, methods on call
results, lists of arrays.
"""
import math

import numpy as np


# 1. Row views into a checkpointed call, then an in-place update of the rows (the ocean's shape).
def density(t, z):
    return (t - 10.0) * (1.0 + 0.1 * z) + 0.01 * t * t


def mix_levels(q, k, w):
    flux = w * (q[k] - q[k + 1])
    q[k] -= flux
    q[k + 1] += flux


def row_views_then_mixing(T0, z):
    T = T0.copy()
    for k in range(T.shape[0] - 1):
        upper = density(T[k], z[k])
        w = upper * 0.01
        mix_levels(T, k, w)
    return np.sum(T * T)


def row_view_named_then_mixing(T0, z):
    T = T0.copy()
    for k in range(T.shape[0] - 1):
        row = T[k]
        upper = density(row, z[k])
        mix_levels(T, k, upper * 0.01)
    return np.sum(T * T)


# 2. A write through a second name while the backward sweep still needs the old value.
def second_name_written(a, b):
    m = a * b
    out = m
    sq = m ** 2
    out -= b
    return np.sum(out) + np.sum(sq)


def view_written_after_use(a, b):
    m = a * b
    v = m[1:]
    s = np.sum(np.sin(m))
    v *= 2.0
    return s + np.sum(v * b[1:])


# 3. Lists of arrays.
def list_step(h):
    v = np.vstack((h, 2.0 * h))
    return [v[0] * v[1], v[1]]


def list_returned(h):
    a, b = list_step(h)
    return np.sum(a * b)


def list_indexed(h):
    r = [h * 2.0, h]
    return np.sum(r[0] * r[1])


# 4. A method or a call applied to the result of a user call.
def sq(x):
    return x * x


def method_on_call(x):
    return sq(x).sum()


def reduction_of_call_reshaped(x):
    return np.sum(np.sum(sq(x), 1).reshape((3, 1)) * x[:, :1])


def transpose_of_call(x):
    return np.sum(sq(x).T * x)


# 5. Several fresh results of a call, one updated in place afterwards.
def two(x, c):
    return x * c, x + c


def results_updated_in_place(x):
    p, q = two(x, 2.0)
    p += 1.0
    return np.sum(p * q)


# 7. .real of a float array.
def real_part(x):
    return np.sum(x.real * x)


# 8. Infinite derivatives whose adjoint is zero.
def pairwise_distances(x):
    d = x[:, None] - x[None, :]
    d2 = d * d
    r = np.sqrt(d2)
    return np.sum(r * 0.0 + d2) + np.sum(r[0, 1:])


def masked_power(x):
    a = x * x - 0.5
    a[a > 0] = a[a > 0] ** -1.5
    return np.sum(a)



# 9. A subroutine that rebinds its argument, then writes the local.
def boundary(T):
    T[0] = T[1]
    T = T * 1.0
    T[-1] = T[-2]


def rebinding_subroutine(x, a):
    y = x * a
    boundary(y)
    return np.sum(y * y)


# 10. An adjoint reset inside a reversed loop, then indexed.
def reset_then_indexed(x, a, n):
    y = x.copy()
    for k in range(n):
        y = x * a
        y[0] *= 2.0
    return np.sum(y[1:])


# 11. The adjoint of an unused concatenate or stack.
def joined(x, a):
    v = x * a
    s = x[0] * a
    return np.concatenate((v[:2], v[2:])), s * s


def unused_concatenate(x, a):
    u, t = joined(x, a)
    return t


def stacked(x, a):
    v = x * a
    return np.stack((v, v * 2.0)), np.sum(v)


def unused_stack(x, a):
    u, t = stacked(x, a)
    return t * t


# 12. A scalar element passed next to its array to an in-place helper.
def relax(v, a, s):
    v[0] = v[0] * a + s
    v[1:] = v[1:] * a


def element_beside_its_array(x, a):
    u = x.copy()
    relax(u, a, u[1])
    return np.sum(u * u)


# Results of one call that share memory, one updated in place after the other's last use.
def two_views(x):
    y = x * 2.0
    return y, y[1:]


def shared_results_written(x):
    p, q = two_views(x)
    s = np.sum(q * q)
    p += 1.0
    return np.sum(p * p) + s


# A parameter updated in place, rebound, then written again; and a function returning a list.
def boundary_twice(T, c):
    T[0] = T[1] * c
    T = T * 1.0
    T[-1] = T[-2] * c
    T = T + 1.0
    return np.sum(T * T)


def rebinding_function(x, c):
    y = x * c
    s = boundary_twice(y, c)
    return s + np.sum(y * y)


# Where the derivative really is singular: |x| written as sqrt(x * x), at 0.
def _absolute_sum(v):
    r = np.sqrt(v * v)
    return np.sum(r)


def singular_at_zero(x):
    y = x * 2.0
    return _absolute_sum(y) + np.sum(y)


# A view made by a primitive (np.flip), written after the array it views was read.
def flipped_view_written(x):
    y = x * 2.0
    v = np.flip(m=y)
    s = np.sum(np.sin(y))
    v[0] = 0.5
    return s + np.sum(v * v * x)


# An index array with a repeated element: NumPy keeps the last write (or one +=, *=) per element.
def repeated_index_store(x):
    y = np.zeros(3)
    y[np.array([0, 1, 1])] = x
    return np.sum(y ** 2)


def repeated_index_add(x):
    rho = np.zeros(3)
    rho[np.array([0, 1, 1])] += x
    return np.sum(rho ** 2)


def repeated_index_scale(x):
    y = x.copy()
    y[np.array([0, 1, 1])] *= 3.0
    return np.sum(y ** 3)


def negative_index_same_element(x):
    y = np.zeros(3)
    y[np.array([0, -3])] = x[1:]
    return np.sum(y ** 2)


def repeated_index_two_dimensional(x):
    y = np.zeros((2, 3))
    y[np.array([0, 0, 1]), np.array([1, 1, 2])] = x
    return np.sum(y * y)


# Floats stored into an integer array are truncated: no derivative flows through the store.
def float_into_int_array(x):
    a = np.arange(3)
    a[1:] = x[1:] * 2.0
    return np.sum(a * x)


def cell_index(x):
    cell = np.zeros(3, dtype=np.int64)
    cell[:] = x / 0.5
    w = x / 0.5 - cell
    return np.sum(w ** 2)


# A view of a parameter written in place: the caller sees the write in the parameter's array.
def _bump_row(state, c):
    x = state[0]
    x += c * x


def view_of_a_parameter_written(x0, c):
    state = np.stack([x0 * 1.0, x0 * 2.0])
    _bump_row(state, c)
    return np.sum(state * state)


def _verlet(state, force, dt):
    x = state[0]
    v = state[1]
    v += 0.5 * dt * force * x
    x += dt * v


def rows_of_a_parameter_written(x0, c):
    state = np.stack([x0 * 1.0, x0 * c])
    for k in range(3):
        _verlet(state, -1.0, 0.1)
    return np.sum(state[0] ** 2) + np.sum(state[1])


# The conformance suite's p28, and views by constant indices written out as subscripts.
def views_written_out(a, s):
    b = a.copy()
    v = b[1:-1]
    v *= s
    v += np.sin(b[2:])
    col = np.outer(a, a)[:, 1:3]
    m = np.outer(a, a) + 0.0
    top = m[0]
    top -= s * m[1]
    return np.sum(b * b) + np.sum(m * m) + np.sum(col)


# A name rebound to the result of a call that carries no derivative: its old adjoint must go.
def _constant_of(v, c):
    return c


def rebound_to_an_inactive_call(x, a):
    s = a * x[0]
    s = _constant_of(1.0, 0.5)
    t = np.sum(x) * a
    t = _constant_of(t, 2.0)
    return s + t


# Views written out when the view itself is indexed: x[i] of x = state[0] is state[0, i].
def indexed_views(a, s):
    h = a * 1.0
    out = h[:]
    out[1] = np.sum(np.tanh(out[::2])) * s
    state = np.stack([a * s, a * 2.0])
    row = state[1]
    row[1:] += row[:-1] * 0.5
    return np.sum(out * out) + np.sum(state ** 2)


# A callee whose adjoint for an argument stays 0.0 on the path taken, the argument a join.
def _maybe_uses(v, w):
    if v[0] > 10.0:
        return np.sum(w * v)
    return np.sum(v)


def unused_joined_argument(x, a):
    y = x * a
    return _maybe_uses(y, np.concatenate((y[:1], y[:-2], y[-1:])))


# A dead update scaled by a NumPy function of a number: its adjoint is a NumPy zero (0.0 * np.tanh(s)),
# not the plain 0.0, on its way to a join argument.
def _scaled_dead_join(v, s, w):
    q = 0.7 * np.concatenate((w[:1], v[2:] + v[:-2], v[-1:]))
    q *= np.tanh(s)
    return np.tanh(w)


def numpy_zero_adjoint(x, a):
    return np.sum(_scaled_dead_join(x, a, x * 2.0))


# The function's result is a view of a local array, written through before the return.
def _view_returned(v, s):
    h = np.cos(v)
    out = h[:]
    out[-1] = np.sin(s)
    return out


def view_returned(x, a):
    return np.sum(_view_returned(x, a) * x)


# Views named in a loop or a branch, by an index of ints: written out as subscripts (views.py).
def _damp(v, s):
    v[1:] += 0.5 * s * v[:-1]


def rows_named_in_a_loop(x, k):
    m = np.outer(x, x) + 0.0
    for i in range(m.shape[0]):
        row = m[i]
        row *= k
        _damp(row, k)
        for j in range(1, row.shape[0]):
            row[j] = row[j] * row[j - 1] * 0.3
    return np.sum(m * m)


def column_named_in_a_branch(x, k):
    m = np.outer(x, x) + 0.0
    for j in range(m.shape[1]):
        if j % 2 == 0:
            col = m[:, j]
            col -= k * m[:, (j + 1) % m.shape[1]]
    return np.sum(m * m)


def shifted_rows_named(x, k):
    m = np.outer(x, x) + 0.0
    n = m.shape[0]
    for i in range(n - 1):
        below = m[i + 1, 1:]
        below += k * m[i, :-1]
    return np.sum(m * m)


def _relax_row(v, w, s):
    v[1:] += 0.5 * w[1:] * s
    v[:] = np.tanh(v)


def named_row_beside_its_array(x, k):
    """row = T[k] is written out as T[k]: the argument that reads T must then be computed before
    the call (it was not, and the call was refused as passing T twice)."""
    T = np.stack([x, x * k, x + k])
    for i in range(T.shape[0] - 1):
        row = T[i]
        _relax_row(row, np.tanh(0.1 * np.sum(T, axis=0)), k)
    top = T[2]
    _relax_row(top, np.cos(T[0] * k), k)
    return np.sum(T * T)


def view_by_an_int_name_written(x, k):
    """A view at an index known only when the code runs (refused before the index of int names)."""
    b = x * k
    i = 1
    v = b[i:]
    v *= 2.0
    return np.sum(b * b) + np.sum(v)


# A parameter rebound on one path, then an alias of the new array written: the parameter's name
# is not read again, and the caller's array is not what it holds (fuzz seed 8502064).
def _both(v, s):
    return v, v * s


def _rebinds_its_parameter(v, s, w):
    if v[-1] > 0.4:
        w = np.tanh(v)
        y, r = _both(w, s)
    else:
        y = np.exp(v) * 1.5
    for i in range(1, y.size):
        y[i] = 0.9 * y[i] + 0.1 * s
    return np.sum(y)


def parameter_rebound_then_its_alias_written(x, a):
    z = x * a
    return _rebinds_its_parameter(x, a, z) + np.sum(z) + _rebinds_its_parameter(x * 0.1, a, z)


# One binding of a row view on each path after an early return: normalization writes the rest
# of the function once per path, so the name is bound in several blocks (fuzz seed 9500152).
def _rows_after_an_early_return(v, s):
    if v[0] > 2.0:
        y = v * s
    elif v[1] > 2.5:
        y = v + s
    else:
        y = np.sin(v)
        if np.mean(v) > 3.5:
            return np.sum(y)
    W = y[:, None] * np.tanh(v)[None, :]
    for m in range(W.shape[0] - 1):
        row = W[m]
        _relax_row(row, v, s)
        W[m + 1] += 0.25 * (v * 0.25 - W[m + 1])
    return np.sum(W * W)


def row_view_on_every_path(x, k):
    return _rows_after_an_early_return(x * k, k) + _rows_after_an_early_return(x + 3.0, k)


# A checkpointed call that writes one element of its argument and reads none: its re-run starts
# from the array as the backward sweep finds it, so only what it writes can be compared (verify
# mode compared the whole view and stopped; fuzz seed 9600182).
def _set_one(v, s, m):
    v[m + 1] = math.sin(s)


def write_only_argument_changed_later(x, a):
    y = np.tanh(x - np.sum(np.roll(x, 1)))
    _set_one(y[1:-1], math.tanh(0.5 * math.sqrt(1.0 + np.sum(x[::2]) ** 2)), 2)     # y[4]
    _set_one(y, a, 2)                      # y[3]: in the view, not written by the first call
    for i in range(len(y) - 1):
        y[i] = 0.9 * y[i] + 0.1 * math.tanh(0.5 * (np.max(x[::2]) - 1.5))
    return np.sum(y * x) + math.sin(a)


# A conditional expression calling a user function becomes an if statement binding a new name
# (choice = y or x): an argument reading that name is computed before the call that updates y
# (it was refused as reading memory the call changes; fuzz seed 9310218).
def _grow(v, s):
    v += 0.25 * (np.tanh(s) - v)


def _level(v):
    return np.sum(v * v)


def chosen_alias_beside_its_array(x, a):
    y = x * a
    _grow(y, np.max(y if _level(x) > 0.5 else x))
    _grow(y, np.max(x if _level(y) > 50.0 else y) * a)
    return np.sum(y * y)


def _scale_first(T, c):
    T[0] = T[0] * c[0]


def argument_reads_a_named_view(x, a):
    """Refused before: the argument row * 2.0 is now computed before the call updates T."""
    T = x * a
    row = T[1:]
    _scale_first(T, row * 2.0)
    return np.sum(T * T)


# A method called on a callee's result not known yet (the first pass of the kind inference) gave
# an array of unknown rank instead of "not known yet", which then stayed around the loop through
# the callee's own arguments: T[0] had no known kind and the in-place update was refused
# (fuzz seed 8010764).
def _tanh_and_double(v, s):
    return np.tanh(v) * s, v * 2.0


def _scale_in_place(v, s):
    v *= s


def rank_kept_through_a_method_in_a_loop(x, a):
    y = x * a
    for k in range(3):
        y, w = _tanh_and_double(y, a)
        u = w.copy()
        y = u * 0.5
    T = np.stack([y, x])
    _scale_in_place(T[0], a)
    return np.sum(T * T)



# A subroutine that updates its parameter in place and returns it, called as p = f(p) on a
# parameter, in a time loop (Barba's "12 steps to Navier-Stokes" cavity flow writes
# p = pressure_poisson(p, dx, dy, b) and b = build_up_b(b, ...)): p stays the caller's array.
def _relax_and_return(p, b, c):
    for q in range(3):
        pn = p.copy()
        p[1:-1] = 0.5 * (pn[2:] + pn[:-2]) - c * b[1:-1]
        p[0] = p[1]
        p[-1] = 0.0
    return p


def _source_into(b, u, c):
    b[1:-1] = c * (u[2:] - u[:-2]) ** 2
    return b


def _flow(u, p, c, nt):
    b = np.zeros_like(u)
    for n in range(nt):
        un = u.copy()
        b = _source_into(b, u, c)
        p = _relax_and_return(p, b, c)
        u[1:-1] = un[1:-1] - 0.1 * (p[2:] - p[:-2]) + 0.05 * (un[2:] - 2.0 * un[1:-1] + un[:-2])
        u[0] = 0.0
        u[-1] = 1.0
    return u, p


def updated_parameter_returned(u0, c):
    u = u0.copy()
    p = np.zeros_like(u0)
    u, p = _flow(u, p, c, 3)
    return np.sum(u ** 2) + np.sum(p ** 2)


# Integer indices computed at the top of a loop body (lorenz96's m = k * nj + j, mp1 = m + 1,
# wrapped by a branch) are computed again by the backward sweep instead of being pushed; these
# are the shapes where that would be wrong if it were done without care.
def _neighbour_tendency(y, c, out):
    n = y.shape[0]
    nj = 2
    for k in range(n // nj):
        for j in range(nj):
            m = k * nj + j
            mp1 = m + 1
            mp2 = m + 2
            if mp2 >= n:
                mp2 = mp2 - n
                if mp1 >= n:
                    mp1 = mp1 - n
            out[m] = y[mp1] * (y[mp2] - y[m - 1]) * c + y[m] ** 2


def wrapped_neighbours(y, c):
    out = np.zeros_like(y)
    for step in range(2):
        _neighbour_tendency(y, c, out)
        y = y + 0.1 * out
    return np.sum(y * y)


def index_read_after_its_loop(x, a):
    s = 0.0
    i = 0
    for k in range(x.shape[0] - 1):
        i = k + 1
        s = s + x[i] * x[k] * a
    return s + x[i] ** 3


def index_from_an_int_the_body_changes(x, a):
    s = 0.0
    off = 0
    for k in range(x.shape[0] - 1):
        i = k + off
        s = s + x[i] * x[i] * a
        off = 1 - off
    return s


def index_rebound_after_its_use(x, a):
    s = 0.0
    for k in range(x.shape[0] - 1):
        i = k
        s = s + x[i] * x[i] * a
        i = k + 1
        s = s + x[i] * a * s
    return s


def index_first_set_in_a_branch(x, a):
    s = 0.0
    i = 0
    for k in range(x.shape[0]):
        if k % 2 == 1:
            i = k - 1
        s = s + x[i] * x[k] * a
    return s


def index_of_an_outer_loop_in_an_inner_prefix(x, a):
    s = 0.0
    n = x.shape[0]
    for k in range(n):
        for j in range(2):
            i = (k + j) % n
            s = s + x[i] * x[k] * a
            s = s * 0.9
    return s


def self_dot_summed(v, w):
    # v @ v is a scalar: the shape shortcut for x * x must not give it v's shape
    return np.sum(v @ v) + np.sum(w + v @ v)


def self_matmul_of_a_row(A, w):
    return np.sum(w + A[0] @ A[0])


def fragment_carries_a_name_to_the_next_iteration(x, a):
    s = 0.0
    c = 1.0
    for k in range(3):
        # $AD CHECKPOINT-START
        s = s + c * x * a
        c = c * 2.0
        # $AD CHECKPOINT-END
    return s


def fragment_carries_in_a_while_loop(x, a):
    s = 0.0
    c = 1.0
    k = 0
    while k < 3:
        # $AD CHECKPOINT-START
        s = s + c * x * a
        c = c * 1.5 + a
        # $AD CHECKPOINT-END
        k = k + 1
    return s


def fragment_sets_a_name_on_one_branch(x, a):
    y = x * 2.0
    # $AD CHECKPOINT-START
    if a > 10.0:
        y = x * a
    z = y * a
    # $AD CHECKPOINT-END
    return y + z


def fragment_updates_an_accumulator(x, a):
    s = x * 0.5
    for k in range(2):
        # $AD CHECKPOINT-START
        s += a * x
        # $AD CHECKPOINT-END
    return s * s


def _back_substitute(cp, dp, x):
    n = x.shape[0]
    x[n - 1] = dp[n - 1]
    for i in reversed(range(n - 1)):
        x[i] = dp[i] - cp[i] * x[i + 1]


def reversed_loops(b, d):
    # a tridiagonal solve (Thomas): forward elimination, then back substitution over reversed(range)
    n = d.shape[0]
    cp = np.zeros(n)
    dp = np.zeros(n)
    cp[0] = 0.5 / b[0]
    dp[0] = d[0] / b[0]
    for i in range(1, n):
        m = b[i] - 0.3 * cp[i - 1]
        cp[i] = 0.5 / m
        dp[i] = (d[i] - 0.3 * dp[i - 1]) / m
    x = np.zeros(n)
    _back_substitute(cp, dp, x)
    s = 0.0
    for v in reversed(x):
        s = 0.5 * s + v * v
    for j in reversed(range(1, n, 2)):
        s = s + x[j] * b[j]
    return s
