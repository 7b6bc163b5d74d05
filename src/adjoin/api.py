"""The public API (DESIGN.md, "Public API"): value_and_grad, grad, adjoint, checkpoint_sites."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    """A checkpoint site: a call between user functions, or a marked fragment."""
    id: str        # stable id: caller/callee#ordinal, e.g. "forward_step/density#2"
    caller: str
    callee: str
    file: str
    line: int
    checkpointed: bool = True   # the decision from directives / --nocheckpoint (no placement given)


def value_and_grad(fn, wrt, placement=None, nocheckpoint=()):
    """Returns a function computing (value, gradients) of ``fn`` with respect to ``wrt``."""
    raise NotImplementedError


def grad(fn, wrt, placement=None, nocheckpoint=()):
    """Like value_and_grad, gradient only (a tuple when wrt is a tuple)."""
    raise NotImplementedError


def adjoint(fn, wrt, placement=None, nocheckpoint=()):
    """The generated adjoint of ``fn``, compiled: callable, with .source, .measure(...), .profile(...)."""
    raise NotImplementedError


def generate_source(fn, wrt, placement=None, nocheckpoint=(), example=None):
    """Source text of the adjoint module of ``fn``; ``example`` (dict of arguments) fixes argument kinds."""
    raise NotImplementedError


def checkpoint_sites(fn, nocheckpoint=()):
    """The checkpoint sites reachable from ``fn``: [Site(id, caller, callee, file, line, checkpointed)]."""
    raise NotImplementedError
