"""Functions adjoin must refuse, one construct each (tests/test_refusals.py)."""
import numpy as np
import tomli_w

SCALE = np.ones(3)
WORK = {"buffer": np.zeros(4), "factor": 2.0}


def uses_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return np.sum(y)


def uses_with(x):
    with open("/dev/null") as handle:
        handle.read()
    return np.sum(x)


def uses_lambda(x):
    square = lambda v: v * v  # noqa: E731
    return np.sum(square(x))


def uses_comprehension(x):
    return sum([v * v for v in x])


def uses_global(x):
    global SCALE
    SCALE = SCALE * 2.0
    return np.sum(x * SCALE)


def writes_module_array(x):
    SCALE[0] = 2.0
    return np.sum(x * SCALE)


def uses_eval(x):
    return np.sum(eval("x * 2.0"))


def loops_over_generator(x):
    total = 0.0
    for v in (t * 2.0 for t in x):
        total = total + v
    return total


def stores_attribute(x):
    x.flags.writeable = False
    return np.sum(x)


def calls_unknown_external(x):
    return np.linalg.det(np.outer(x, x) + np.eye(x.shape[0]))


def view_written_while_base_used(x):
    b = x.copy()
    k = 1
    v = b[k:]
    k = 2                   # b[k:] is no longer v: not written out
    v *= 2.0
    return np.sum(b) + np.sum(v) + k


def same_array_twice(x):
    b = x.copy()
    _mix(b, b)
    return np.sum(b)


def _mix(dst, src):
    dst[:] = 0.5 * dst + 0.5 * np.roll(src, 1)


def recursive(x, n):
    if n == 0:
        return np.sum(x)
    return recursive(x * 0.5, n - 1)


def uses_nested_function(x):
    def inner(v, scale=2.0):          # a default value: evaluated where the def runs, not lifted
        return v * scale
    return np.sum(inner(x))


def nested_function_with_a_try(x):
    def inner(v, *rest):
        try:
            w = v * 2.0
        except ValueError:
            w = v
        return w
    return np.sum(inner(x)) + np.sum(inner(x * 2.0))


def _states(x, n):
    for i in range(n):
        x = x * 0.9
        yield x


def loops_over_a_generator_of_states(x):
    total = 0.0
    for state in _states(x, 3):
        total = total + np.sum(state)
    return total


def uses_yield(x):
    yield x


def bool_op_on_floats(x, a):
    return np.sum(x) * (a or 1.0)


def args_star(*xs):
    return np.sum(xs[0])


def _views_of_one(x):
    y = x * 2.0
    return y, y[1:]


def results_sharing_memory(x):
    p, q = _views_of_one(x)
    p += 1.0
    return np.sum(p * q)


def _rebinds_on_one_path(T, c):
    T[0] = T[1]
    if c > 0:
        T = T * 1.0
    return np.sum(T)


def parameter_rebound_on_a_path(x):
    y = x * 1.0
    s = _rebinds_on_one_path(y, 1.0)
    return s + np.sum(y)


def _scale_first(T, c):
    T[0] = T[0] * c[0]


def _tail(v):
    return v[1:]


def argument_reads_an_alias(x):
    T = x * 1.0
    row = _tail(T)          # a view the analyses find, not the normalizer (row = T[1:] is computed first)
    _scale_first(T, row * 2.0)
    return np.sum(T)


def list_item_assigned(x):
    r = [x, x * 2.0]
    r[0] = x * 3.0
    return np.sum(r[0])


def list_sliced(x):
    r = [x, x * 2.0, x]
    s = r[1:]
    return np.sum(s[0])


def list_concatenated(x):
    r = [x, x * 2.0] + [x]
    return np.sum(r[0])


def read_before_assigned(x):
    y = z * 2.0
    z = x * 1.0
    return np.sum(y + z)


def calls_an_installed_package(x):
    import_free = x * 2.0
    return len(tomli_w.dumps({"a": 1})) + np.sum(import_free)


def copies_into_an_argument(x):
    y = np.zeros(4)
    np.copyto(y, x * 2.0, where=x > 0.5)      # a masked copy: not the store y[...] = v
    return np.sum(y)


def fills_a_row_given_by_an_index(x):
    y = np.zeros((2, 4))
    y[np.array([1])].fill(3.0)          # fills a copy (an index array), or a view (y[1]): not guessed
    return np.sum(y * x)


def swaps_two_names_of_one_array(x):
    a = x.copy()
    b = a
    for k in range(2):
        b[1:] = a[:-1] * 0.5
        a, b = b, a
    return np.sum(a)


def meshgrid_of_parameters(x, a):
    X, Y = np.meshgrid(x, x * a)
    return np.sum(X * Y ** 2)


def arange_of_a_parameter(x, a):
    t = np.arange(0.0, 1.0, a)
    return np.sum(t ** 2) + np.sum(x)


def diagonal_read_after_its_matrix_changed(x):
    m = np.outer(x, x)
    d = np.diagonal(m)                      # a view of m: the write below changes d[1]
    m[1, 1] = m[0, 1] * 3.0
    return np.sum(d * m[0])


def writes_an_array_of_a_module_dict(x):
    buffer = WORK["buffer"]
    y = x * buffer                          # the old contents, which a recomputation no longer sees
    buffer[:] = x * WORK["factor"]
    return np.sum(y * y)


def row_of_the_last_iteration_used(x):
    m = np.outer(x, x) + 0.0
    for i in range(m.shape[0]):
        if i > 0:
            m[i] += 0.5 * row                # the row named in the iteration before: m[i - 1]
        row = m[i]
        row *= 2.0
    return np.sum(m * m)


def row_index_rebound_before_a_use(x):
    m = np.outer(x, x) + 0.0
    i = 0
    while i < m.shape[0] - 1:
        row = m[i]
        i += 1
        row *= m[i, 0]                       # still the row m[i - 1]
    return np.sum(m * m)


def row_used_after_its_loop(x):
    m = np.outer(x, x) + 0.0
    for i in range(m.shape[0]):
        row = m[i]
        row *= 2.0
    row[0] = row[1] * 3.0
    return np.sum(m * m)


def _double(v):
    return 2.0 * v


def calls_a_function_taken_from_a_local_tuple(x):
    choices = (_double, _double)
    f = choices[0]
    return np.sum(f(x))


def converts_an_array_to_a_list(x):
    z = list(x)
    return z[0] * z[1]


def _scaled_or_same(p, c):
    if c > 0.0:
        return p * 2.0           # a new array on this path, the argument itself on the other
    return p


def sometimes_a_new_array_returned(x, a):
    for k in range(2):
        x = _scaled_or_same(x, a)
        x[0] = a                 # the head's own x, or a new array: not known here
    return np.sum(x)


def _noisy_step(x, s):
    return x + s * np.random.normal(size=x.shape)


def draws_from_the_global_random_state(x, a):
    # a checkpointed call runs again in the adjoint: it would draw other numbers (a wrong gradient)
    y = x.copy()
    for k in range(2):
        y = _noisy_step(y, a) * y
    return np.sum(y)
