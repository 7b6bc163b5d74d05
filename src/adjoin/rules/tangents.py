"""Tangent mode's part of the table: the tangent templates of the entries that are not
element-wise, and how an entry's tangents are read."""
from types import MappingProxyType

# Tangent mode (transform/tangent.py).  The tangent of a primitive's result is the sum, over its
# arguments that carry a derivative, of a template in which ``d`` is that argument's tangent
# (same shape as the argument; for a sequence parameter or a display, the tuple or display of
# the items' tangents with None for an item that has none: ``ad.fill_zeros`` makes them zeros).
# The other names are those of the adjoint templates, with ``ad`` = adjoin.runtime.jvp.
#
# An element-wise entry's Jacobian is diagonal, so its adjoint template with ``g`` read as ``d``
# is its tangent (the engine widens it to the result's shape when an argument without a
# derivative broadcasts it): those are not listed.  Every other entry with adjoints is, and
# tests/test_rules.py checks each against finite differences and against the adjoint.
_REDUCE = "ad.reduce_tangent(d, {weights}, axis, keepdims)"   # d times the gradient of each reduced group

TANGENTS = {
    "op.matmul": {"a": "d @ b", "b": "a @ d"},
    "np.sum": {"a": "np.sum(d, axis, dtype, None, keepdims)"},
    "np.mean": {"a": "np.mean(d, axis, dtype, None, keepdims)"},
    "np.nansum": {"a": "np.sum(np.where(np.isnan(a), 0.0, d), axis, dtype, None, keepdims)"},
    "np.prod": {"a": _REDUCE.format(weights="ad.prod_adjoint(ad.ones_like(ans), a, axis, keepdims)")},
    "np.max": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.amax": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.min": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.amin": {"a": _REDUCE.format(weights="ad.max_adjoint(ad.ones_like(ans), a, ans, axis, keepdims)")},
    "np.var": {"a": _REDUCE.format(weights="ad.var_adjoint(ad.ones_like(ans), a, axis, ddof, keepdims)")},
    "np.std": {"a": _REDUCE.format(weights="ad.std_adjoint(ad.ones_like(ans), a, ans, axis, ddof, keepdims)")},
    "np.linalg.norm": {"x": _REDUCE.format(weights="ad.norm_adjoint(ad.ones_like(ans), x, ans, ord, axis, "
                                                   "keepdims)")},
    "np.cumsum": {"a": "np.cumsum(d, axis, dtype)"},
    "np.trapezoid": {"y": "ad.trapezoid_tangent(d, y, x, dx, axis, 'y')",
                     "x": "ad.trapezoid_tangent(d, y, x, dx, axis, 'x')",
                     "dx": "ad.trapezoid_tangent(d, y, x, dx, axis, 'dx')"},
    "np.diff": {"a": "ad.diff_tangent(d, a, n, axis, prepend, append, 'a')",
                "prepend": "ad.diff_tangent(d, a, n, axis, prepend, append, 'prepend')",
                "append": "ad.diff_tangent(d, a, n, axis, prepend, append, 'append')"},
    "np.dot": {"a": "np.dot(d, b)", "b": "np.dot(a, d)"},
    "np.matmul": {"x1": "np.matmul(d, x2)", "x2": "np.matmul(x1, d)"},
    "np.inner": {"a": "np.inner(d, b)", "b": "np.inner(a, d)"},
    "np.outer": {"a": "np.outer(d, b)", "b": "np.outer(a, d)"},
    "np.transpose": {"a": "np.transpose(d, axes)"},
    "np.reshape": {"a": "ad.like_view(np.reshape(d, np.shape(ans), order), d, ans, a)"},
    "np.ravel": {"a": "ad.like_view(np.ravel(d, order), d, ans, a)"},
    "np.squeeze": {"a": "np.squeeze(d, axis)"},
    "np.expand_dims": {"a": "np.expand_dims(d, axis)"},
    "np.broadcast_to": {"array": "np.broadcast_to(d, shape, subok)"},
    "np.tile": {"A": "np.tile(d, reps)"},
    "np.repeat": {"a": "np.repeat(d, repeats, axis)"},
    "np.flip": {"m": "np.flip(d, axis)"},
    "np.roll": {"a": "ad.roll(d, shift, axis)"},
    "np.sort": {"a": "ad.sort_tangent(d, a, axis)"},
    "np.pad": {"array": "ad.pad_tangent(d, pad_width, mode, reflect_type, stat_length)",
               "constant_values": "ad.pad_values_tangent(d, array, pad_width, mode, 'constant_values')",
               "end_values": "ad.pad_values_tangent(d, array, pad_width, mode, 'end_values')"},
    "np.copy": {"a": "np.copy(d, order)"},
    "np.triu": {"m": "np.triu(d, k)"},
    "np.tril": {"m": "np.tril(d, k)"},
    "np.diag": {"v": "np.diag(d, k)"},
    "np.diagonal": {"a": "np.diagonal(d, offset, axis1, axis2)"},
    "np.trace": {"a": "np.trace(d, offset, axis1, axis2)"},
    "np.append": {"arr": "np.append(d, ad.zero_of(values), axis)", "values": "np.append(ad.zero_of(arr), d, axis)"},
    "np.nan_to_num": {"x": "ad.nan_to_num_tangent(d, x, copy)"},
    "np.einsum": {"operands": "ad.einsum_tangent(d, operands)"},
    "np.interp": {"x": "ad.interp_slope(d, x, xp, fp, period)",
                  "fp": "ad.interp_values_tangent(d, x, xp, left, right, period)"},
    "np.linalg.solve": {"a": "ad.solve_tangent_a(d, a, b, ans)", "b": "ad.solve_tangent_b(d, a, b)"},
    "np.linalg.inv": {"a": "-(ans @ d @ ans)"},
    "np.flipud": {"m": "np.flipud(d)"},
    "np.rot90": {"m": "np.rot90(d, k, axes)"},
    "np.convolve": {"a": "np.convolve(d, v, mode)", "v": "np.convolve(a, d, mode)"},
    "np.median": {"a": "ad.reduce_tangent(d, ad.median_adjoint(ad.ones_like(ans), a, axis), axis, False)"},
    "math.fsum": {"seq": "float(sum(ad.fill_zeros(d, seq)))"},
    "np.fliplr": {"m": "np.fliplr(d)"},
    "np.gradient": {"f": "np.gradient(d, *varargs, axis=axis, edge_order=edge_order)"},
    "np.array": {"object": "np.array(ad.fill_zeros(d, object), dtype)"},
    "np.asarray": {"a": "np.asarray(ad.fill_zeros(d, a), dtype, order)"},
    "np.concatenate": {"arrays": "np.concatenate(ad.fill_zeros(d, arrays), axis)"},
    "np.stack": {"arrays": "np.stack(ad.fill_zeros(d, arrays), axis)"},
    "np.hstack": {"tup": "np.hstack(ad.fill_zeros(d, tup))"},
    "np.vstack": {"tup": "np.vstack(ad.fill_zeros(d, tup))"},
    "np.dstack": {"tup": "np.dstack(ad.fill_zeros(d, tup))"},
    "np.column_stack": {"tup": "np.column_stack(ad.fill_zeros(d, tup))"},
    "np.full": {"fill_value": "np.full(shape, d, dtype, order)"},
    "np.full_like": {"fill_value": "np.full_like(a, d, dtype, order, subok, shape)"},
    "np.linspace": {"start": "np.linspace(d, ad.zero_of(stop), num, endpoint, False, None, axis)",
                    "stop": "np.linspace(ad.zero_of(start), d, num, endpoint, False, None, axis)"},
    "builtins.max": {"a": "d if a >= b else 0.0", "b": "d if b > a else 0.0"},
    "builtins.min": {"a": "d if a <= b else 0.0", "b": "d if b < a else 0.0"},
    "builtins.max_items": {"iterable": "ad.first_extreme_tangent(d, iterable, ans)"},
    "builtins.min_items": {"iterable": "ad.first_extreme_tangent(d, iterable, ans)"},
    "builtins.sum": {"iterable": "ad.widen(sum(ad.fill_zeros(d, iterable)), ans)", "start": "ad.widen(d, ans)"},
    "builtins.float": {"x": "float(d)"},
    "np.float64": {"x": "np.float64(d)"},
    "method.copy": {"a": "d.copy(order)"},
    "method.astype": {"a": "ad.astype_tangent(d, dtype)"},
    "method.reshape": {"a": "ad.like_view(np.reshape(d, np.shape(ans)), d, ans, a)"},
    "method.flatten": {"a": "np.ravel(d, order).copy()"},
    "method.transpose": {"a": "d.transpose(*axes)"},
    "method.item": {"a": "np.asarray(d).item(*args)"},
    "attr.T": {"a": "np.transpose(d)"},
    "attr.real": {"a": "np.real(d)"},
}


def tangent_templates(entry):
    """{param: tangent template} of a rule: its own, or for an element-wise one its adjoints."""
    if entry.tangents:
        return dict(entry.tangents)
    if entry.elementwise:
        return {p: _g_as_d(text) for p, text in entry.adjoints.items()}
    return {}


def _g_as_d(text):
    import ast
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "g":
            node.id = "d"
    return ast.unparse(tree)


def _with_tangents(table):
    from dataclasses import replace
    out = dict(table)
    for key, templates in TANGENTS.items():
        assert set(templates) <= set(table[key].adjoints), f"{key}: tangents for parameters without adjoints"
        out[key] = replace(table[key], tangents=MappingProxyType(dict(templates)))
    return out
