"""Small functions in adjoin's input language, one construct each (tests/test_language.py)."""
import math

import numpy as np

WEIGHTS = np.array([0.5, -0.25, 2.0])
PARAMS = {"nu": 0.1, "dt": 0.05, "scheme": "upwind", "weights": np.array([1.0, -0.5, 0.25, 2.0])}


def transpose_varargs(a, x):
    b = a.transpose(1, 0) @ x[:3]
    c = a.T.transpose() * 2.0
    return np.sum(b * b) + np.sum(c * a)


def call_in_conditional_expression(a, x):
    y = _double(x) if np.sum(x) > 0.0 else _square(x)
    return np.sum(y * a[0])


def _double(v):
    return 2.0 * v


def _square(v):
    return v * v


def break_continue_return_in_loops(a, x):
    total = 0.0
    for i in range(x.shape[0]):
        if i == 1:
            continue
        total = total + math.sin(x[i]) * a[0, 0]
        if total > 10.0:
            break
    return total + _first_large(x)


def _first_large(v):
    for i in range(v.shape[0]):
        if v[i] > 0.3:
            return v[i] * v[i]
    return 0.0


def while_with_data_exit(a, x):
    y = x.copy()
    k = 0
    while np.max(np.abs(y)) > 0.05 and k < 50:
        y = 0.7 * y + 0.01 * np.tanh(y) * a[0, 1]
        k += 1
    return np.sum(y * y)


def gather_with_repeats(a, x):
    idx = np.array([0, 1, 1, 2, 0])
    g = x[idx] * 2.0
    return np.sum(g * g) + np.sum(a[:, idx[:2]] ** 2)


def masks_and_newaxis(a, x):
    z = x.copy()
    z[z < 0.0] = 0.0
    outer = x[:, None] * x[np.newaxis, :]
    return np.sum(z ** 2) + np.sum(outer * a[0, 0]) + np.sum(x[x > 0.1] * 3.0)


def module_constant_and_tuple_unpacking(a, x):
    n, m = a.shape
    u, v = x[0], x[1]
    u, v = v, u * 2.0
    return np.sum(WEIGHTS * x[:3]) + u * v + n * m * np.sum(a)


def inplace_subroutine_on_view(a, x):
    y = x.copy()
    _scale_interior(y[1:-1], a[0, 0])
    return np.sum(y ** 3)


def _scale_interior(v, s):
    v *= s
    v += 0.1


def augmented_everything(a, x):
    y = x * 1.0
    y += 1.0
    y -= 0.5 * x
    y *= x
    y /= 2.0 + x * x
    y[0] **= 2.0
    s = 0.0
    s += np.sum(y)
    s *= a[0, 0]
    return s


def reductions_with_axes(a, x):
    return (np.sum(np.max(a, axis=0) * np.min(a, axis=1).sum()) + np.mean(a, axis=1) @ x[:3]
            + np.prod(1.0 + 0.1 * a, axis=(0, 1)) + a.sum(axis=1, keepdims=True).sum())


def break_inside_nested_branches(a, x):
    total = 0.0
    for k in range(4):
        if x[k] < -0.9:
            total = total + x[k] * a[0, 0]
        else:
            y = np.tanh(x * a[1, 1])
            if k >= 1:
                total = total + np.sum(y * y)
                break
            total = total + np.sum(y)
        total = total * 1.1
    return total


def argument_read_from_an_updated_array(a, x):
    y = x.copy()
    _scale_by(y, y + 1.0)
    _scale_by(y, y[1:2] * a[0, 0])
    return np.sum(y * y)


def _scale_by(v, w):
    v *= w[0]


# --- everyday Python (issue 14) --------------------------------------------------------------

def _scaled(v, beta=8.0 / 3.0, width=2 * np.pi, count=np.int64(2)):
    return v * beta / width * count


def builtins_on_numbers(a, x):
    n = int(a[0, 0] * 10.0)
    m = float(n) * a[1, 1]
    p = pow(a[0, 1], 2) + abs(a[1, 0] - 0.5) + max(a[0, 2], 0.5, 0.2) + min(x[0], 1.0)
    q = round(a[2, 2], 2) * x[1]
    return m + p + q + np.sum(_scaled(x)) + np.sum(_scaled(x, 2.0))


def builtins_over_items(a, x):
    return max(x) + min(a[0]) + sum(x * x) + sum([x[0], x[1] * 2.0], 1.0)


def loops_over_items(a, x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v * i
    for i, (u, w) in enumerate(zip(a[0], x), 1):
        s = s + u * w * i
    for row in a:
        s = s + np.sum(row * x)
    for u, w in zip(a[1], a[2]):
        s = s + u * w
    for k, v in zip(range(2), x):
        s = s + k * v
    for p, q in [(x[0], x[1]), (x[2], x[3])]:
        s = s + p * q
    return s


def dtypes_and_truncation(a, x):
    cells = (x / 0.25).astype(int)
    w = x / 0.25 - cells
    mask = np.zeros(4, dtype=bool)
    mask[1] = True
    counts = np.zeros(4, dtype=np.int64)
    counts[:] = x * 3.0
    return np.sum(w ** 2) + np.sum(np.where(mask, x, 0.0)) + np.sum(counts * x) + np.sum(np.eye(4)[0] * x)


# --- functions as values ---------------------------------------------------------------------

def _rk4(f, y, dt, *params):
    k1 = f(y, *params)
    k2 = f(y + 0.5 * dt * k1, *params)
    k3 = f(y + 0.5 * dt * k2, *params)
    k4 = f(y + dt * k3, *params)
    return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _euler(f, y, dt, *params):
    return y + dt * f(y, *params)


def _decay(y, rate, forcing):
    return -rate * y + forcing * np.sin(y)


def _integrate(y, dt, n, rate, method=_rk4):
    for k in range(n):
        y = method(_decay, y, dt, rate, 0.1)
    return y


def schemes_as_arguments(a, x):
    y1 = _integrate(x, 0.1, 3, a[0, 0])
    y2 = _integrate(x, 0.1, 3, a[0, 1], _euler)
    y3 = _integrate(x, 0.05, 2, a[1, 1], method=_rk4)
    return np.sum(y1 * y2) + np.sum(y3)


def _heun(f, y, dt, *params):
    k1 = f(y, *params)
    return y + 0.5 * dt * (k1 + f(y + dt * k1, *params))


def scheme_chosen_by_the_caller(a, x, scheme=_heun):
    return np.sum(_integrate(x, 0.1, 2, a[0, 0], scheme) ** 2)


_SCHEMES = {"euler": _euler, "rk4": _rk4, "heun": _heun}


def _run_named(y, rate, name):
    step = _SCHEMES[name]
    for k in range(2):
        y = step(_decay, y, 0.1, rate, 0.1)
    return y


def scheme_chosen_by_name_in_a_dict(a, x):
    return np.sum(_run_named(x, a[0, 0], "heun") * _run_named(x, a[0, 1], "euler")) + \
        np.sum(_run_named(x, a[1, 2], "rk4"))


def _run_chosen(y, rate, name):
    if name == "rk4":
        step = _rk4
    elif name == "euler":
        step = _euler
    else:
        step = _heun
    for k in range(2):
        y = step(_decay, y, 0.1, rate, 0.1)
    return y


def scheme_chosen_by_an_if(a, x):
    return np.sum(_run_chosen(x, a[0, 0], "rk4") ** 2) + np.sum(_run_chosen(x, a[2, 1], "other") * x)


# --- statements marked INACTIVE (plotting, logging) ------------------------------------------

def _report(u, k):
    summary = {"step": k, "mean": float(np.mean(u))}    # a dict: outside the input language
    return f"{summary}"


def marked_inactive(a, x):
    u = x * a[0]
    history = []
    for k in range(2):
        u = np.tanh(u) * a[1]
        # $AD INACTIVE
        if len(history) < 5:
            history.append(_report(u, k))
    text = _report(u, 9)  # $AD INACTIVE
    return np.sum(u * u)


# --- more NumPy (issue 14) -------------------------------------------------------------------

def numpy_matrices(a, x):
    m = np.outer(x, x) + a[0, 0]
    np.fill_diagonal(m, a[1, 1])
    upper = np.triu(m, 1)
    lower = np.tril(m)
    r = np.linalg.norm(x) + np.linalg.norm(m) + np.sum(np.linalg.norm(a, axis=1))
    e = np.einsum("ij,j->i", a, x) + np.einsum("i,i", x, x)
    return np.sum(upper * lower.T) + r + np.sum(e * e) + np.trace(m) + np.sum(np.diag(x) * m)


def numpy_sequences(a, x):
    y = np.append(x, a[0] * 2.0)
    g = np.gradient(y, 0.5)
    p = np.interp(x, np.array([-1.0, 0.0, 1.0]), np.array([0.5, -0.25, 2.0]))
    X, Y = np.meshgrid(np.arange(3.0), np.arange(2.0))
    q = np.nan_to_num(x * a[1])
    return np.sum(g * g) + np.sum(p) + np.sum(X * a[:2, :3]) + np.sum(q ** 2) + np.sum(Y)


def numpy_masks_and_ranges(a, x):
    n = len(range(x.size))
    weights = np.array(range(n)).astype(float) / n
    z = np.linspace(0.0, 1.0, n)
    y = x * weights + a[0] * z
    y = np.where(np.isnan(y), 0.0, y)
    steps = np.sign(y) * np.floor(z * 3.0)
    t = 0
    for i in range(3):
        t += 0.5 * a[1, 1]
    return np.sum(y * y) + np.amax(y) - np.amin(y * a[2]) + np.sum(steps * y) + t


def diagonal_views(a, x):
    m = np.outer(x, x) * a[0, 0]
    m[1, 1] = m[0, 1] * a[1, 2]
    d = np.diagonal(m)                     # a view of m, read while m no longer changes
    e = m.diagonal(1)
    return np.sum(d * m[0]) + np.sum(e * e)


def parameters_in_a_module_dict(a, x):
    u = x * a[0]
    for n in range(3):
        u = _diffuse(u, PARAMS)
    return np.sum(u * PARAMS["weights"]) + np.sum(u * u)


def _diffuse(u, params):
    nu = params["nu"]
    lap = np.roll(u, 1) - 2.0 * u + np.roll(u, -1)
    if params["scheme"] == "upwind":
        lap = lap - 0.1 * (u - np.roll(u, 1))
    return u + params["dt"] * nu * lap


# --- double buffers: two arrays swapped each step are never the same array ----------------------

def _smooth_into(u, out, c):
    out[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    out[0] = u[0] * 0.9
    out[-1] = u[-1]


def double_buffer(a, x):
    u = x.copy()
    u_new = np.zeros_like(u)
    for k in range(3):
        u_new[1:-1] = u[1:-1] + a[0, 0] * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u_new[0] = u[0]
        u_new[-1] = u[-1] * a[1, 1]
        u, u_new = u_new, u
    v = u.copy()
    w = np.empty_like(v)
    for k in range(2):
        _smooth_into(v, w, a[2, 2])
        v, w = w, v
    return np.sum(u * u) + np.sum(v ** 3)


def element_swaps(a, x):
    u = x * a[0]
    u[0], u[1] = u[1], u[0] * 2.0
    v = a.copy()
    v[0, 1], v[2, 3], w = v[2, 3], v[0, 1] * x[0], v[1, 1]
    return np.sum(u * u) + np.sum(v * v) + w


def _advance_into(out, previous, rate):
    out[:] = previous + rate * np.sin(previous)


def rows_of_a_trajectory(a, x):
    traj = np.zeros((3, x.shape[0]))
    traj[0] = x
    for n in range(1, 3):
        _advance_into(traj[n], traj[n - 1], a[0, 0])
    return np.sum(traj * traj)


def _times_params(u, *params, scale=2.0):
    return u * params[0] * scale


def keyword_only_after_varargs(a, x):
    return np.sum(_times_params(x, a[0, 0]) ** 2) + np.sum(_times_params(x, a[1, 1], scale=3.0))


def inactive_locals(a, x, plot=True):
    u = x * a[0]
    for n in range(2):
        u = u * a[1]
        # $AD INACTIVE
        if plot:
            total = 0.0
            for i, row in enumerate([u, u]):
                total += float(np.sum(row)) * i
    return np.sum(u * u)


# --- one helper called with numbers and with arrays: one copy per kind ------------------------

def _twice(v, s):
    return v * s * 2.0


def _stacked(v):
    return np.stack([v * 1.0, v ** 2, v ** 3])


def _bump(v, s):
    v *= s


def helpers_of_many_kinds(a, x):
    y = _twice(x * a[0], a[1, 1])
    s = y[1]
    y[2] *= _twice(2.0, 1.0)
    z = _stacked(x * a[2]).sum(axis=0)
    _bump(z, z[1])
    z[1] += _stacked(0.5).sum()
    return s + np.sum(y) + np.sum(z * x)


def fill_and_copyto_as_stores(a, x):
    # x.fill(v) and np.copyto(x, v) are the stores x[...] = v, also through a view
    buf = np.empty_like(x)
    buf.fill(a[0, 0])
    rows = np.zeros_like(a)
    for k in range(a.shape[0]):
        row = rows[k]
        np.copyto(row, a[k] * x + buf)
    last = rows[-1]
    last.fill(2.0 * x[0])
    return np.sum(rows * rows) + np.sum(buf * x)


def nested_function_reading_the_enclosing_variables(a, x):
    # lifted: called with the variables it reads, as they are at each call
    scale = a[0, 0]

    def tendency(v, w):
        return scale * np.sin(v) + w * a[1, 1]

    y = x.copy()
    for k in range(3):
        y = y + 0.1 * tendency(y, x)
        scale = scale * 0.5            # the next call sees the new value
    return np.sum(y * y)


def nested_subroutine_updating_an_argument(a, x):
    y = x * 1.0

    def relax(v):
        v[1:-1] += 0.25 * a[0, 1] * (v[2:] - 2.0 * v[1:-1] + v[:-2])

    for k in range(2):
        relax(y)
    return np.sum(y ** 3) + _double(y)[0]
