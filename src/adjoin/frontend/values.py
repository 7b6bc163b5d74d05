"""The Python values the input language takes: defaults, module-level constants, tables of functions."""
import inspect

import numpy as np

from .source import is_user_function


def default_values(fn):
    """Parameter name -> the default value Python computed when it defined ``fn``."""
    try:
        return {name: p.default for name, p in inspect.signature(fn).parameters.items()
                if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return {}


def default_constant(value):
    """A default value adjoin writes into calls: a number, a string, a bool, None or a tuple of them."""
    if isinstance(value, tuple):
        return all(default_constant(v) for v in value)
    return isinstance(value, (int, float, str, bool, type(None), np.number, np.bool_))


def module_level_name(value, globals_):
    """A module-level name of ``globals_`` bound to this very object (``params=PARAMS``), or None."""
    for name, bound in globals_.items():
        if bound is value and not name.startswith("__"):
            return name
    return None


def plain(value):
    """A default value as a Python constant (NumPy scalars as floats, ints, bools)."""
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value.item() if isinstance(value, (np.number, np.bool_)) else value


def scalar_type(value):
    """A number type used as a dtype (``.astype(int)``, ``dtype=bool``, ``np.float64``)."""
    return isinstance(value, type) and issubclass(value, (int, float, bool, np.generic))


def constant_value(value):
    """A module-level value user code may read: a number, a string, an array, or a tuple or dict of them."""
    if isinstance(value, (bool, int, float, str, type(None), np.number, np.bool_)):
        return True
    if isinstance(value, np.ndarray):
        return True
    if isinstance(value, tuple):
        return all(constant_value(v) for v in value)
    if isinstance(value, dict):          # PARAMS = {"nu": 0.1, "dt": 0.01}: read as PARAMS["dt"]
        return all(isinstance(k, (str, int)) and constant_value(v) for k, v in value.items())
    return False


def function_table(value):
    """A module-level dict, tuple or list of user functions (a table of schemes)."""
    items = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (tuple, list)) else []
    return bool(items) and all(is_user_function(item) for item in items)
