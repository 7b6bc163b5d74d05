"""Tangent mode in the public API: ``tangent``, ``jvp`` and the dot-product test ``dot_test``.

``jvp(f, wrt)(*args, tangents=(...))`` returns ``(value, value_d)``: f's value and its
derivative along the given tangents (one per ``wrt`` entry), by one run of the generated tangent
module.  ``dot_test`` checks an adjoint against it: for random directions ``xd`` and a random
weight ``yb`` of the result, <J xd, yb> = <xd, J^T yb> holds to rounding.
"""
from dataclasses import dataclass

import numpy as np

from .api import (_compile, _private_copy, _refuse_unknown_parameters, _refuse_unreal_arguments, bind_arguments,
                  signature_of, value_and_grad)
from .errors import UnsupportedError, UsageError, generated_paths, refused_where_it_ran
from .transform.module import head_kinds_from_example
from .transform.tangent_module import tangent_source


class Tangent:
    """The generated tangent of a function, compiled; specialized to the kinds of its arguments."""

    def __init__(self, fn, wrt):
        self.signature = signature_of(fn)
        self.fn, self.wrt_given = fn, wrt
        self._cache, self._last = {}, None

    def _bind(self, args, kwargs):
        return bind_arguments(self.fn, self.signature, args, kwargs)

    def _specialize(self, values):
        _refuse_unreal_arguments(self.fn, values)
        kinds = head_kinds_from_example(list(values), values)
        key = tuple(sorted((k, str(v)) for k, v in kinds.items()))
        found = self._cache.get(key)
        if found is None:
            source, tctx = tangent_source(self.fn, self.wrt_given, kinds, values)
            _refuse_unknown_parameters(self.fn, {tctx.user_name[p]: values[tctx.user_name[p]] for p in tctx.wrt})
            namespace = _compile(source, tctx)
            found = (source, namespace[tctx.names[tctx.program.head]], tctx)
            self._cache[key] = found
        self._last = found
        return found

    @property
    def source(self):
        """The generated module's source (of the last specialization, else for unknown kinds)."""
        if self._last is None:
            return tangent_source(self.fn, self.wrt_given)[0]
        return self._last[0]

    def __call__(self, *args, tangents, **kwargs):
        values = self._bind(args, kwargs)
        source, entry, tctx = self._specialize(values)
        if not isinstance(tangents, (tuple, list)) or len(tangents) != len(tctx.wrt):
            raise UsageError(f"tangents must be a tuple of {len(tctx.wrt)} direction(s), one per wrt entry "
                             f"({', '.join(tctx.user_name[p] for p in tctx.wrt)})")
        private = {k: _private_copy(v) for k, v in values.items()}
        head = tctx.program.functions[tctx.program.head]
        ordered = [private[u] for u in head.user_params]
        directions = [_laid_like(t, private[tctx.user_name[p]], tctx.user_name[p])
                      for t, p in zip(tangents, tctx.wrt)]
        try:
            return entry(*ordered, *directions)
        except UnsupportedError as error:   # a rule's check at run time: say the user's file and line
            raise refused_where_it_ran(error, source, generated_paths(tctx), tangent=True) from None


def _laid_like(t, value, label):
    """A private copy of a tangent, of its value's shape and memory layout."""
    if np.shape(t) != np.shape(value):
        raise UsageError(f"the tangent of {label!r} has shape {np.shape(t)}, {label!r} has shape {np.shape(value)}")
    if isinstance(value, np.ndarray):
        out = np.empty_like(value, dtype=float)
        out[...] = t
        return out
    return float(t)


def tangent(fn, wrt):
    """The tangent of ``fn`` along its parameters ``wrt``: call it with ``tangents=(...)``; its
    ``.source`` is the generated module."""
    return Tangent(fn, wrt)


def jvp(fn, wrt):
    """A function called like ``fn`` plus ``tangents=(t1, ...)`` (one per ``wrt`` entry), returning
    ``(value, value_d)``: fn's value and its derivative along the tangents."""
    t = Tangent(fn, wrt)

    def jacobian_vector_product(*args, tangents, **kwargs):
        return t(*args, tangents=tangents, **kwargs)
    jacobian_vector_product.tangent = t
    return jacobian_vector_product


@dataclass(frozen=True)
class DotTest:
    """<J xd, yb> (forward, from the tangent) against <xd, J^T yb> (backward, from the adjoint)."""
    forward: float
    backward: float

    @property
    def relative_error(self):
        scale = max(abs(self.forward), abs(self.backward))
        return abs(self.forward - self.backward) / scale if scale else 0.0

    def __str__(self):
        return (f"dot-product test: tangent {self.forward:.16e}, adjoint {self.backward:.16e}, "
                f"relative error {self.relative_error:.1e}")


def dot_test(fn, wrt, *args, seed=0, placement=None, **kwargs):
    """The dot-product test of fn's adjoint (under ``placement``) against its tangent, along random
    directions of the ``wrt`` parameters (a scalar cost: yb = 1)."""
    rng = np.random.default_rng(seed)
    t = Tangent(fn, wrt)
    values = t._bind(args, kwargs)
    tctx = t._specialize(values)[2]
    names = [tctx.user_name[p] for p in tctx.wrt]
    directions = tuple(rng.standard_normal(np.shape(values[n])) if np.ndim(values[n]) else float(rng.standard_normal())
                       for n in names)
    _, value_d = t(*args, tangents=directions, **kwargs)
    _, grads = value_and_grad(fn, wrt=tuple(names), placement=placement)(*args, **kwargs)
    backward = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(grads, directions))
    return DotTest(float(np.sum(value_d)), backward)
