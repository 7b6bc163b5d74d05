"""Functions adjoin must refuse, one construct each (tests/test_refusals.py)."""
import numpy as np

SCALE = np.ones(3)


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


def loops_over_array(x):
    total = 0.0
    for v in x:
        total = total + v
    return total


def stores_attribute(x):
    x.flags.writeable = False
    return np.sum(x)


def calls_unknown_external(x):
    return np.sum(np.linalg.inv(np.outer(x, x) + np.eye(x.shape[0])))


def view_written_while_base_used(x):
    b = x.copy()
    v = b[1:]
    v *= 2.0
    return np.sum(b * v)


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
    def inner(v):
        return v * 2.0
    return np.sum(inner(x))


def uses_yield(x):
    yield x


def bool_op_on_floats(x, a):
    return np.sum(x) * (a or 1.0)


def args_star(*xs):
    return np.sum(xs[0])
