"""Hypothesis strategies that write random programs in adjoin's input language.

A program is the source text of a module: ``import math``, ``import numpy as np``, zero to two
helper functions, and the head ``f(x, a, n)`` (``x`` a float64 1-D array of length 7..10, ``a`` a
float, ``n`` an int in 0..3) that calls them and returns a scalar cost. The statements cover what
the adjoint must get right: straight-line NumPy and ``math`` arithmetic, slice and element reads,
in-place updates of slices, elements and whole arrays, names rebound many times, ``for`` loops
(nested, over counts and over elements), ``while`` loops with a counter bound, ``if``/``elif``/
``else`` on data and on ints, conditional expressions, ``break``/``continue``, early returns in
helpers, reductions (also along an axis of a 2-D array), ``np.roll``, ``np.where``,
``np.maximum``, ``np.concatenate``, ``np.stack``, tuple assignment, keyword arguments, helpers
that return arrays, scalars or tuples and helpers that update an array argument in place, and
the aliasing shapes listed below. :func:`programs` draws them with hypothesis;
:func:`program_from_seed` writes the same programs from ``random.Random(seed)`` (for fuzzing).

Every program is deterministic, and smooth enough at the points :func:`arguments` draws that
central finite differences agree with the true directional derivative to about 1e-8:

- values stay bounded: the generator keeps an upper bound of every name's magnitude; a value
  that could exceed ``CAP`` is squashed (``np.tanh(0.3 * (...))``) before it is stored, and at
  every loop boundary every name is within ``CAP``. ``exp`` only sees bounded arguments, and
  quotients are always by ``1.0 + v ** 2``;
- kinks (``np.where``, ``np.maximum``, ``np.max``, ``abs``, data-dependent ``if``/``while``/
  ``break``) compare against odd thresholds such as 0.137, never against 0.0 or round numbers,
  so quantities that are exactly constant by construction (a sum of differences of rolls, an
  untouched zero) never sit on a kink; a kink lands within a finite-difference step of the
  sampled point only with negligible probability;
- ties in ``np.max``/``np.maximum`` between two different active values would need a
  coincidence; ties between identical values have one derivative whichever side wins.

Aliasing. Apart from the shapes listed here, no two names ever refer to one array (every array
stored under a name is fresh, tuple assignments bind new arrays, helpers never return their
arguments, an array passed for in-place update is never passed twice), and an argument updated
in place is always, or never, the caller's array at that point (never rebound in a loop that
updates it, not updated after a branch that rebinds it on one path only). The shapes that do
share memory, drawn more often as the ``shapes`` weight of :func:`programs` grows (``shapes=0``
writes none of them; ``focus`` makes one family appear in every program), are, by family
(:data:`FAMILIES`, each construct recorded in ``Program.constructs``):

- ``row_views``: a 2-D state, ``T`` of shape ``(3, len(x))`` or ``W`` of shape ``(len(x),
  len(x))``, and a loop ``for k in range(T.shape[0] - 1)`` whose body passes the row view
  ``T[k]`` to a helper that reads it (``row_view_call``: ``upper = step(T[k], z[k])``) or
  updates it in place (``row_view_inplace_call``: ``relax(T[k], s)``), after which rows are
  updated in place by a later callee (``row_update_by_callee``: ``mix(T, k, upper)`` updates
  rows k and k + 1) or by the caller (``row_update_by_caller``: ``T[k + 1] += 0.5 * (upper -
  T[k + 1])``); the row is sometimes named first (``row_view_named``: ``named_row = T[k]``, then
  ``named_row`` wherever ``T[k]`` would be);
- ``slice_views``: in the head, a slice view ``y[1:-1]``/``y[2:]``/``y[:-2]``/``y[1:]``/
  ``y[:-1]`` passed to an in-place helper (``slice_view_inplace_call``: ``relax(y[1:-1], s,
  z[2:].copy())``) or to an array helper whose result the caller then writes into the same region
  (``slice_view_call``: ``y[1:-1] += 0.5 * (step(y[1:-1], s) - y[1:-1])``);
- ``second_names``: ``h = <fresh>; out = h`` (or ``out = h[:]``, ``second_name_view``), ``sq =
  <nonlinear in h>``, then ``out`` updated in place by the caller or by a callee
  (``second_name_callee_update``); ``h`` is never read again, so its old value is needed only by
  the derivative;
- ``multiple_returns``: ``p, q = two(y, s)`` with fresh results (``pair_return``), then ``p``
  or ``q`` updated in place (``pair_return_update``); rarely the helper returns its argument
  (``returns_argument``: ``return v, q``), and when the caller passed a bare name that name is
  never read again (it is not in a loop);
- ``lists``: ``parts = [h * 2.0, h]`` read at once as ``parts[0]``, ``parts[1]`` into a fresh
  value (``list_literal``); a helper returning ``[a, b]`` (``list_return``), unpacked by the caller
  (``list_unpack``);
- ``call_results``: methods, attributes and reductions applied to call results
  (``call_result_method``: ``step(y, s).sum()``; ``call_result_transpose``: ``step(y, s).T``;
  ``call_result_axis``: ``np.sum(grid(y, s), axis=0)`` of a helper returning a 2-D array,
  ``matrix_return``) and calls nested in calls (``nested_call``: ``step(step(y, s) * 2.0, s)``);
- ``axis_reshape``: reductions along an axis feeding ``reshape``, broadcast against a 2-D array
  (``M * np.sum(M, 1).reshape((3, 1))``);
- ``rebinding_subroutine``: a helper that updates its argument in place, rebinds the parameter
  to a new array and writes to that local (``v[0] = v[1]; v = v * 1.0; v[-1] = v[-2]``);
- ``element_beside_array``: an element of an array passed next to the array to a helper that
  updates the array in place (``relax(y, y[1])``).

None of these is aliasing that DESIGN.md lets adjoin refuse: the memory shared by two names is
written through one of them only once the other is dead (or is a call's temporary view). Two
rare variants do read the other name after the write, which adjoin may legitimately refuse
(:data:`REFUSABLE`; ``Program.may_refuse`` is then True): ``second_name_read_after_write``
(``out -= b; t = np.sum(h * z)``) and ``returned_argument_alias_live`` (``p, q = two(y, s);
p += 1.0; t = np.sum(y * q)``).
"""
from __future__ import annotations

import ast
import copy
import hashlib
import random
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

N_MAX = 3               # the head's int argument n is drawn in 0..N_MAX
LENGTHS = (7, 10)       # len(x) is drawn in this closed range (>= 7: a slice [1:-1] passed to a
                        # helper still has the 5 elements its reads x[k + 1], x[-1 - k] reach)
CAP = 2.0               # every name's magnitude stays within CAP at loop boundaries
HARD = 8.0              # a stored value may briefly reach HARD in straight-line code
MAX_DEPTH = 3           # nesting depth of compound statements
MAX_SITES = 5           # calls to helpers, over the whole program

# Expression precedences, for parenthesizing: a sub-expression below the needed level is wrapped.
COND, ADD, MUL, UNARY, POW, ATOM = range(6)

CONSTANTS = (0.5, 0.3, 0.7, 0.25, 0.9, 0.1, 1.5, 2.0, 0.05)
# Odd thresholds: nothing the programs compute is exactly one of these by construction.
THRESHOLDS = (0.137, -0.213, 0.291, -0.347, 0.0731, 0.413, -0.0519, 0.613, -0.577)
FULL_LEN = LENGTHS[1]
SLICE_LEN = {"F": FULL_LEN, "I": FULL_LEN - 2, "E": (FULL_LEN + 1) // 2}

# The shapes added for issue 12 (see the module docstring), by family: the constructs each writes.
FAMILIES = {
    "row_views": ("row_view_call", "row_view_inplace_call", "row_update_by_callee",
                  "row_update_by_caller", "row_view_named"),
    "slice_views": ("slice_view_inplace_call", "slice_view_call"),
    "second_names": ("second_name", "second_name_view", "second_name_callee_update",
                     "second_name_read_after_write"),
    "multiple_returns": ("pair_return", "pair_return_update", "returns_argument",
                         "returned_argument_alias_live"),
    "lists": ("list_literal", "list_return", "list_unpack"),
    "call_results": ("call_result_method", "call_result_transpose", "call_result_axis",
                     "matrix_return", "nested_call"),
    "axis_reshape": ("axis_reshape",),
    "rebinding_subroutine": ("rebinding_subroutine",),
    "element_beside_array": ("element_beside_array",),
}
FAMILY_OF = {c: family for family, constructs in FAMILIES.items() for c in constructs}
# Constructs whose aliasing DESIGN.md allows adjoin to refuse: a name read after the memory it
# shares with another name was written through that other name.
REFUSABLE = frozenset({"second_name_read_after_write", "returned_argument_alias_live"})
# The helper kinds a program focused on a family must have: one kind of each group.
FOCUS_HELPERS = {
    "row_views": (("rows",), ("array", "inplace")),
    "slice_views": (("inplace", "array"),),
    "second_names": (),
    "multiple_returns": (("two",),),
    "lists": (("list",),),
    "call_results": (("array", "matrix"),),
    "axis_reshape": (),
    "rebinding_subroutine": (("rebind",),),
    "element_beside_array": (("inplace", "rebind"),),
}
HELPER_NAMES = {"inplace": ("relax", "update"), "array": ("step", "transform"),
                "scalar": ("energy", "measure"), "tuple": ("split", "pair"),
                "rows": ("mix", "exchange"), "two": ("two", "both"), "list": ("listed", "gather"),
                "matrix": ("grid", "layers"), "rebind": ("shift", "renew")}


class Program:
    """A generated module: its source text, the constructs it uses, its helper functions and the
    number of calls to them (checkpoint sites). ``may_refuse``: it shares memory between two
    names in a way DESIGN.md allows adjoin to refuse (a construct in :data:`REFUSABLE`); a refusal
    of any other program is a bug. Not a dataclass: hypothesis would print every field on one
    line; the tests print the source with ``note``."""

    __slots__ = ("source", "constructs", "helpers", "sites")

    def __init__(self, source, constructs, helpers, sites):
        self.source = source
        self.constructs = frozenset(constructs)
        self.helpers = tuple(helpers)
        self.sites = sites

    @property
    def may_refuse(self):
        return bool(self.constructs & REFUSABLE)

    @property
    def families(self):
        """The families of :data:`FAMILIES` this program has a construct of."""
        return frozenset(FAMILY_OF[c] for c in self.constructs if c in FAMILY_OF)

    def __repr__(self):
        first = self.source.splitlines()[0].strip('"')
        return (f"Program({first!r}, {self.source.count(chr(10))} lines, helpers={self.helpers}, "
                f"sites={self.sites}, may_refuse={self.may_refuse}; source below)")


@dataclass
class Var:
    """What the generator knows about a name: its kind and a bound on its magnitude."""
    kind: str             # "F" 1-D float array of len(x), "S" float, "M" (3, len(x)), "P" (len(x), len(x))
    bound: float
    owned: bool = True    # may be updated in place (a fresh array, or an argument meant to change)
    pinned: bool = False  # updated in place, never rebound (an in-place helper's output argument)
    origin: str = "local"  # "arg": the array the caller passed; "local": made here; "mixed": either


@dataclass
class Scope:
    """Names visible at a point of the program being written, with their kinds and bounds."""
    vars: dict
    ints: dict            # int name -> ("count", max value) | ("elem", offsets)
    function: str         # "head" or the helper's kind
    loop: str | None = None
    depth: int = 0
    indent: int = 1
    returns: str | None = None   # what a return in this function returns: "F", "S", "FS", "FF",
    #                              "VF" (its argument v and an array), "L" (a list of two arrays),
    #                              "M" (a (3, len(v)) array), or None

    def copy(self):
        return Scope(copy.deepcopy(self.vars), dict(self.ints), self.function, self.loop,
                     self.depth, self.indent, self.returns)

    def names(self, kind, owned=False):
        return sorted(n for n, v in self.vars.items()
                      if v.kind == kind and (not owned or v.owned or v.pinned))


@dataclass
class Expr:
    text: str
    prec: int
    bound: float
    fresh: bool = True    # False for a bare name or a slice (a view of an existing array)

    def at(self, prec):
        return self.text if self.prec >= prec else f"({self.text})"

    def copied(self):
        """This value as a new array (a bare name or a slice otherwise shares its data)."""
        return self if self.fresh else Expr(f"{self.at(ATOM)}.copy()", ATOM, self.bound)


@dataclass
class Helper:
    name: str
    kind: str             # "inplace", "array", "scalar", "tuple", "rows", "two", "list", "matrix",
    #                       "rebind" (updates v in place, then rebinds v and writes the local)
    params: tuple         # ((name, kind), ...) kinds: "out", "F", "S", "int", "kw", "rows", "row"
    out_bound: float = CAP    # bound of what it returns (of what it updates, for "inplace"/"rows")
    returns: str | None = None   # what it returns (see Scope.returns)
    ret_bound: float = CAP    # "rebind": bound of the scalar it returns, if any


def _num(value):
    return repr(round(float(value), 6))


class _Writer:
    """Writes one program from hypothesis draws; every choice shrinks toward a simpler program."""

    def __init__(self, integer, min_helpers, max_helpers, statements, shapes=1.0, focus=None):
        self.integer = integer         # integer(lo, hi): an int in lo..hi, the only kind of draw
        self.min_helpers = min_helpers
        self.max_helpers = max_helpers
        self.statements = statements   # (fewest, most) top-level statements in the head
        self.shapes = shapes           # weight of the shapes of FAMILIES (0: none of them)
        if focus is not None and focus not in FAMILIES:
            raise ValueError(f"unknown family {focus!r}; one of {', '.join(FAMILIES)}")
        self.focus = focus             # a family every program has
        self.constructs = set()
        self.available = []      # helpers the function being written may call
        self.sites = 0
        self.site_limit = MAX_SITES
        self.current = "f"       # the function being written
        self.calls = {}          # caller -> {callee: number of call sites}
        self.helper_bound = 0.0
        self.named_rows = 0      # row views named so far (row1 = T[k], ...)

    # -- choices -------------------------------------------------------------------------------

    def chance(self, p):
        """True with probability about p; shrinks toward False."""
        return self.integer(0, 99) >= 100 - round(100 * p)

    def pick(self, options):
        """One of options; shrinks toward the first."""
        return options[self.integer(0, len(options) - 1)]

    def weighted(self, table):
        """A key of {key: weight} drawn by weight; shrinks toward the first key."""
        keys = [k for k, w in table.items() if w > 0]
        total = sum(table[k] for k in keys)
        r = self.integer(0, total - 1)
        for k in keys:
            r -= table[k]
            if r < 0:
                return k
        return keys[-1]

    def const(self, limit=None):
        options = [c for c in CONSTANTS if limit is None or c <= limit]
        return self.pick(options)

    def note(self, *names):
        self.constructs.update(names)

    def w(self, weight):
        """A weight of the table of a choice, for a shape of FAMILIES: scaled by ``shapes``."""
        return round(weight * self.shapes)

    def p(self, probability):
        """A probability for a shape of FAMILIES: scaled by ``shapes``, at most 0.9."""
        return min(0.9, probability * self.shapes)

    # -- expressions ---------------------------------------------------------------------------

    def bounded(self, e, kind, cap=CAP):
        """e itself if its bound is within cap, else e squashed through tanh."""
        if e.bound <= cap:
            return e
        self.note("squash")
        scale = next((c for c in (1.0, 0.5, 0.3, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
                      if c * e.bound <= 3.0), 0.0001)
        inner = e.text if scale == 1.0 else f"{_num(scale)} * {e.at(UNARY)}"
        fn = "math.tanh" if kind == "S" else "np.tanh"
        return Expr(f"{fn}({inner})", ATOM, 1.0)

    def array_leaf(self, sc, kind):
        names = sc.names("F")
        y = self.pick(names)
        b = sc.vars[y].bound
        if kind == "I":
            self.note("slice_read")
            return Expr(f"{y}{self.pick(('[1:-1]', '[2:]', '[:-2]'))}", ATOM, b, fresh=False)
        if kind == "E":
            self.note("slice_read", "strided_slice")
            return Expr(f"{y}[::2]", ATOM, b, fresh=False)
        if kind == "J":
            self.note("slice_read")
            return Expr(f"{y}{self.pick(('[1:]', '[:-1]'))}", ATOM, b, fresh=False)
        options = {"name": 8, "roll": 2,
                   "axis": 4 if sc.names("M") or sc.names("P") else 0,
                   "call": 2 if self.callable("array") else 0,
                   "concat": 1,
                   "call_result": self.w(2) if self.callable("array") or self.callable("matrix") else 0,
                   "axis_reshape": self.w(1) if self.matrix_sources(sc) else 0}
        how = self.weighted(options)
        if how == "call_result":
            return self.call_result(sc, scalar=False)
        if how == "axis_reshape":
            return self.axis_reshape(sc, scalar=False)
        if how == "roll":
            self.note("roll")
            shift = self.pick((1, -1, 2))
            return Expr(f"np.roll({y}, {shift})", ATOM, b)
        if how == "axis":
            return self.axis_reduction(sc)
        if how == "call":
            return self.call_expr(sc, "array")
        if how == "concat":
            self.note("concatenate")
            inner = self.array(sc, "I", 1)
            z = self.pick(names)
            if self.chance(0.5):
                text = f"np.concatenate(({y}[:1], {inner.text}, {z}[-1:]))"
            else:
                text = f"np.concatenate(({inner.text}, {z}[-2:]))"
            return Expr(text, ATOM, max(b, inner.bound, sc.vars[z].bound))
        return Expr(y, ATOM, b, fresh=False)

    def axis_reduction(self, sc):
        """A 1-D array of len(x) reduced from a 2-D name along an axis."""
        self.note("axis_reduction")
        m = self.pick(sc.names("M") + sc.names("P"))
        v = sc.vars[m]
        fn = self.pick(("np.sum", "np.mean", "np.max"))
        self.note(fn.split(".")[1])
        axis = 0 if v.kind == "M" else self.pick((0, 1))
        rows = 3 if v.kind == "M" else FULL_LEN
        bound = v.bound * (rows if fn == "np.sum" else 1)
        return Expr(f"{fn}({m}, axis={axis})", ATOM, bound)

    def matrix_sources(self, sc):
        return sc.names("M") + sc.names("P") + [h.name for h in self.callable("matrix")]

    def call_text(self, sc, helper, **how):
        """The text of a call to helper (a checkpoint site), with its arguments (see arguments)."""
        self.called(sc, helper)
        return f"{helper.name}({self.arguments(sc, helper, **how)})"

    def call_result(self, sc, scalar):
        """A method, attribute or reduction applied to the result of a call, or a call of the
        result of a call: ``step(y, s).sum()``, ``step(y, s).T``, ``np.sum(grid(y, s), axis=0)``,
        ``step(step(y, s) * 2.0, s)``; a float if scalar, else a 1-D array of len(x)."""
        helper = self.pick(self.callable("array") + self.callable("matrix"))
        b = helper.out_bound
        fn = self.pick(("sum", "mean", "max"))
        if helper.kind == "matrix":
            self.note("matrix_return", "call_matrix_helper")
            call = self.call_text(sc, helper)
            if scalar:
                self.note("call_result_method")
                return Expr(f"{call}.{fn}()", ATOM, b * (3 * FULL_LEN if fn == "sum" else 1))
            scale = 3 if fn == "sum" else 1
            form = self.pick(("function", "transpose", "method"))
            if form == "transpose":
                self.note("call_result_transpose", "call_result_axis")
                return Expr(f"np.{fn}({call}.T, axis=1)", ATOM, b * scale)
            if form == "method":
                self.note("call_result_method", "call_result_axis")
                return Expr(f"{call}.{fn}(axis=0)", ATOM, b * scale)
            self.note("call_result_axis")
            return Expr(f"np.{fn}({call}, {self.pick(('axis=0', '0'))})", ATOM, b * scale)
        self.note("call_array_helper")
        if scalar:
            self.note("call_result_method")
            call = self.call_text(sc, helper)
            return Expr(f"{call}.{fn}()", ATOM, b * (FULL_LEN if fn == "sum" else 1))
        inner = [h for h in self.callable("array")]
        if inner and self.site_limit - self.sites >= 2 and self.chance(0.6):
            self.note("nested_call")
            self.called(sc, helper)
            inner_helper = self.pick(inner)
            value = Expr(self.call_text(sc, inner_helper), ATOM, inner_helper.out_bound)
            if self.chance(0.5):
                c = self.const()
                value = Expr(f"{value.text} * {_num(c)}", MUL, value.bound * c)
            first = self.bounded(value, "F").text
            return Expr(f"{helper.name}({self.arguments(sc, helper, first=first)})", ATOM, b)
        self.note("call_result_transpose")
        return Expr(f"{self.call_text(sc, helper)}.T", ATOM, b)

    def axis_reshape(self, sc, scalar):
        """A reduction along an axis reshaped to broadcast against a 2-D array, as in
        ``M * np.sum(M, 1).reshape((3, 1))``; summed to a float if scalar, else along axis 0 to a
        1-D array of len(x)."""
        self.note("axis_reshape")
        names = sc.names("M") + sc.names("P")
        grids = self.callable("matrix")
        if grids and (not names or self.chance(0.4)):
            helper = self.pick(grids)
            self.note("matrix_return", "call_matrix_helper", "call_result_axis")
            source, kind, b = self.call_text(sc, helper), "M", helper.out_bound
        else:
            source = self.pick(names)
            kind, b = sc.vars[source].kind, sc.vars[source].bound
        fn = self.pick(("sum", "mean", "max"))
        if kind == "M":
            axis, shape, count = self.pick(((1, "(3, 1)", FULL_LEN), (0, "(1, -1)", 3)))
        else:
            axis, shape, count = self.pick(((1, "(-1, 1)", FULL_LEN), (0, "(1, -1)", FULL_LEN)))
        form = self.pick((f"np.{fn}({source}, axis={axis})", f"np.{fn}({source}, {axis})",
                          f"{source}.{fn}(axis={axis})"))
        reduced = f"{form}.reshape({shape})"
        rb = b * (count if fn == "sum" else 1)
        # what the reduction is broadcast against: the 2-D array itself, another of its shape, a 1-D one
        partners = [(n, sc.vars[n].bound) for n in sc.names(kind) if n != source] + \
                   [(n, sc.vars[n].bound) for n in sc.names("F")]
        if source in sc.vars:
            partners.append((source, b))
        other, ob = self.pick(partners)
        op = self.pick(("*", "-", "+"))
        combined = f"{other} {op} {reduced}" if self.chance(0.5) else f"{reduced} {op} {other}"
        cb = ob * rb if op == "*" else ob + rb
        if scalar:
            return Expr(f"np.{self.pick(('sum', 'mean'))}({combined})", ATOM, FULL_LEN * FULL_LEN * cb)
        return Expr(f"np.{self.pick(('sum', 'mean'))}({combined}, axis=0)", ATOM, FULL_LEN * cb)

    def array(self, sc, kind, depth):
        """An array expression of kind F (len(x)), I (len(x) - 2), J (len(x) - 1) or E (the even
        elements)."""
        if depth <= 0 or self.chance(0.2):
            return self.array_leaf(sc, kind)
        op = self.weighted({"add": 6, "mul": 6, "unary": 5, "gauss": 2, "expo": 1, "sqrt": 1,
                            "quot": 2, "pow": 1, "where": 1, "maximum": 1, "ifexp": 1})
        if op in ("add", "mul"):
            left = self.array(sc, kind, depth - 1)
            other = self.weighted({"array": 3, "scalar": 2, "const": 2})
            if other == "array":
                right = self.array(sc, kind, depth - 1)
            elif other == "scalar":
                right = self.scalar(sc, depth - 1)
            else:
                c = self.const()
                right = Expr(_num(c), ATOM, c)
            if op == "add":
                sign = self.pick(("+", "-"))
                if self.chance(0.5):
                    left, right = right, left
                return Expr(f"{left.at(ADD)} {sign} {right.at(MUL)}", ADD, left.bound + right.bound)
            if self.chance(0.5):
                left, right = right, left
            return Expr(f"{left.at(MUL)} * {right.at(UNARY)}", MUL, left.bound * right.bound)
        if op == "unary":
            fn = self.pick(("np.sin", "np.tanh", "np.cos"))
            self.note(fn.split(".")[1])
            arg = self.array(sc, kind, depth - 1)
            return Expr(f"{fn}({arg.text})", ATOM, 1.0)
        if op == "gauss":
            self.note("exp")
            arg = self.array(sc, kind, depth - 1)
            return Expr(f"np.exp(-{_num(self.const(1.5))} * {arg.at(POW + 1)} ** 2)", ATOM, 1.0)
        if op == "expo":
            self.note("exp")
            arg = self.bounded(self.array(sc, kind, depth - 1), kind)
            return Expr(f"np.exp({_num(self.const(0.5))} * {arg.at(UNARY)})", ATOM, np.exp(0.5 * arg.bound))
        if op == "sqrt":
            self.note("sqrt")
            arg = self.array(sc, kind, depth - 1)
            return Expr(f"np.sqrt(1.0 + {arg.at(POW + 1)} ** 2)", ATOM, np.sqrt(1.0 + arg.bound ** 2))
        if op == "quot":
            self.note("quotient")
            num = self.array(sc, kind, depth - 1)
            den = self.array(sc, kind, depth - 1) if self.chance(0.6) else self.scalar(sc, depth - 1)
            return Expr(f"{num.at(MUL)} / (1.0 + {den.at(POW + 1)} ** 2)", MUL, num.bound)
        if op == "pow":
            self.note("power")
            base = self.array(sc, kind, depth - 1)
            p = self.pick((2, 3))
            return Expr(f"{base.at(POW + 1)} ** {p}", POW, base.bound ** p)
        if op == "where":
            self.note("where")
            test = self.array_leaf(sc, kind)
            yes = self.array(sc, kind, depth - 1)
            no = self.array(sc, kind, depth - 1)
            cmp = self.pick((">", "<"))
            return Expr(f"np.where({test.text} {cmp} {_num(self.pick(THRESHOLDS))}, {yes.text}, {no.text})",
                        ATOM, max(yes.bound, no.bound))
        if op == "maximum":
            self.note("maximum")
            left = self.array(sc, kind, depth - 1)
            if self.chance(0.5):
                t = self.pick(THRESHOLDS)
                return Expr(f"np.maximum({left.text}, {_num(t)})", ATOM, max(left.bound, abs(t)))
            right = self.array(sc, kind, depth - 1)
            return Expr(f"np.maximum({left.text}, {right.text})", ATOM, max(left.bound, right.bound))
        # a conditional expression choosing between two arrays
        self.note("conditional_expression")
        yes = self.array(sc, kind, depth - 1)
        no = self.array(sc, kind, depth - 1)
        return Expr(f"{yes.at(ADD)} if {self.condition(sc, data=self.chance(0.3))} else {no.at(ADD)}",
                    COND, max(yes.bound, no.bound), fresh=yes.fresh and no.fresh)

    def element(self, sc, y):
        """A subscript reading one element of the 1-D array y."""
        loop_vars = [(k, spec) for k, spec in sc.ints.items() if spec[0] in ("elem", "count")]
        if loop_vars and self.chance(0.75):
            k, spec = self.pick(loop_vars)
            if spec[0] == "elem":
                off = self.pick(spec[1])
                index = k if off == 0 else f"{k} {'+' if off > 0 else '-'} {abs(off)}"
            else:
                index = self.pick((k, f"{k} + 1", f"-1 - {k}"))
            self.note("element_read")
            return f"{y}[{index}]"
        self.note("element_read")
        return f"{y}[{self.pick((0, -1, 1, 2, -2))}]"

    def scalar_leaf(self, sc):
        options = {"name": 6, "element": 4, "reduce": 5,
                   "matrix": 2 if sc.names("M") or sc.names("P") else 0,
                   "dot": 1, "method": 1,
                   "call": 2 if self.callable("scalar") else 0,
                   "call_result": self.w(2) if self.callable("array") or self.callable("matrix") else 0,
                   "axis_reshape": self.w(1) if self.matrix_sources(sc) else 0}
        how = self.weighted(options)
        if how == "call_result":
            return self.call_result(sc, scalar=True)
        if how == "axis_reshape":
            return self.axis_reshape(sc, scalar=True)
        if how == "name":
            n = self.pick(sc.names("S"))
            return Expr(n, ATOM, sc.vars[n].bound, fresh=False)
        if how == "element":
            y = self.pick(sc.names("F"))
            return Expr(self.element(sc, y), ATOM, sc.vars[y].bound)
        if how == "reduce":
            fn = self.pick(("np.sum", "np.mean", "np.max"))
            self.note(fn.split(".")[1])
            kind = self.pick(("F", "I", "E"))
            arg = self.array(sc, kind, self.integer(0, 1))
            scale = SLICE_LEN[kind] if fn == "np.sum" else 1
            return Expr(f"{fn}({arg.text})", ATOM, arg.bound * scale)
        if how == "matrix":
            m = self.pick(sc.names("M") + sc.names("P"))
            v = sc.vars[m]
            fn = self.pick(("np.sum", "np.mean", "np.max"))
            self.note(fn.split(".")[1], "matrix_reduction")
            size = (3 if v.kind == "M" else FULL_LEN) * FULL_LEN
            return Expr(f"{fn}({m})", ATOM, v.bound * (size if fn == "np.sum" else 1))
        if how == "dot":
            self.note("dot")
            y, z = self.pick(sc.names("F")), self.pick(sc.names("F"))
            return Expr(f"np.dot({y}, {z})", ATOM, FULL_LEN * sc.vars[y].bound * sc.vars[z].bound)
        if how == "method":
            self.note("sum", "method")
            y = self.pick(sc.names("F"))
            return Expr(f"{y}.{self.pick(('sum', 'mean'))}()", ATOM, FULL_LEN * sc.vars[y].bound)
        return self.call_expr(sc, "scalar")

    def scalar(self, sc, depth):
        """A float expression."""
        if depth <= 0 or self.chance(0.25):
            return self.scalar_leaf(sc)
        op = self.weighted({"add": 5, "mul": 5, "math": 5, "gauss": 1, "sqrt": 1, "quot": 2,
                            "pow": 1, "ifexp": 2, "builtin": 1})
        if op in ("add", "mul"):
            left = self.scalar(sc, depth - 1)
            if self.chance(0.4):
                c = self.const()
                right = Expr(_num(c), ATOM, c)
            else:
                right = self.scalar(sc, depth - 1)
            if self.chance(0.5):
                left, right = right, left
            if op == "add":
                sign = self.pick(("+", "-"))
                return Expr(f"{left.at(ADD)} {sign} {right.at(MUL)}", ADD, left.bound + right.bound)
            return Expr(f"{left.at(MUL)} * {right.at(UNARY)}", MUL, left.bound * right.bound)
        if op == "math":
            fn = self.pick(("math.sin", "math.tanh", "math.cos", "np.tanh", "np.sin"))
            self.note(fn.replace(".", "_"))
            arg = self.scalar(sc, depth - 1)
            return Expr(f"{fn}({arg.text})", ATOM, 1.0)
        if op == "gauss":
            self.note("math_exp")
            arg = self.scalar(sc, depth - 1)
            return Expr(f"math.exp(-{_num(self.const(1.5))} * {arg.at(POW + 1)} ** 2)", ATOM, 1.0)
        if op == "sqrt":
            self.note("math_sqrt")
            arg = self.scalar(sc, depth - 1)
            return Expr(f"math.sqrt(1.0 + {arg.at(POW + 1)} ** 2)", ATOM, np.sqrt(1.0 + arg.bound ** 2))
        if op == "quot":
            self.note("quotient")
            num = self.scalar(sc, depth - 1)
            den = self.scalar(sc, depth - 1)
            return Expr(f"{num.at(MUL)} / (1.0 + {den.at(POW + 1)} ** 2)", MUL, num.bound)
        if op == "pow":
            self.note("power")
            base = self.scalar(sc, depth - 1)
            return Expr(f"{base.at(POW + 1)} ** 2", POW, base.bound ** 2)
        if op == "ifexp":
            self.note("conditional_expression")
            yes = self.scalar(sc, depth - 1)
            no = self.scalar(sc, depth - 1)
            return Expr(f"{yes.at(ADD)} if {self.condition(sc, data=self.chance(0.6))} else {no.at(ADD)}",
                        COND, max(yes.bound, no.bound))
        arg = self.scalar(sc, depth - 1)
        t = self.pick(THRESHOLDS)
        if self.chance(0.5):
            self.note("builtin_abs")
            return Expr(f"abs({arg.at(ADD)} - {_num(t)})", ATOM, arg.bound + abs(t))
        self.note("builtin_max")
        return Expr(f"max({arg.text}, {_num(t)})", ATOM, max(arg.bound, abs(t)))

    def condition(self, sc, data):
        """The text of a test: on data (against an odd threshold) or on ints only."""
        ints = sorted(sc.ints)
        if not data and ints:
            self.note("int_condition")
            k = self.pick(ints)
            return self.pick((f"{k} > 1", f"{k} % 2 == 0", f"{k} == 1", f"{k} < 2"))
        self.note("data_condition")
        cmp = self.pick((">", "<"))
        t = _num(self.pick(THRESHOLDS))
        how = self.weighted({"scalar": 3, "reduce": 3, "element": 2})
        if how == "scalar":
            s = self.scalar_leaf(sc)
            return f"{s.at(ADD)} {cmp} {t}"
        if how == "element":
            y = self.pick(sc.names("F"))
            return f"{self.element(sc, y)} {cmp} {t}"
        fn = self.pick(("np.sum", "np.mean", "np.max"))
        arg = self.array(sc, "F", self.integer(0, 1))
        return f"{fn}({arg.text}) {cmp} {t}"

    # -- helper calls --------------------------------------------------------------------------

    def callable(self, kind):
        if self.sites >= self.site_limit:
            return []
        return [h for h in self.available if h.kind == kind]

    def called(self, sc, helper):
        self.sites += 1
        callees = self.calls.setdefault(self.current, {})
        callees[helper.name] = callees.get(helper.name, 0) + 1
        if sc.function != "head":
            self.note("helper_calls_helper")

    def may_share(self, sc, name):
        """Whether name may be passed bare to a helper that returns it: a local array of this
        function, which the caller can stop reading once the helper's result is a second name
        for it (not in a loop, whose next iteration might read it again; never x, which the cost
        reads)."""
        v = sc.vars.get(name)
        return (v is not None and v.kind == "F" and v.owned and not v.pinned and v.origin == "local"
                and sc.loop is None and name != "x")

    def arguments(self, sc, helper, out=None, first=None, kind="F", beside=False, row=None):
        """The argument list of a call to helper: out is the array it updates in place (a name or a
        view), first the text of its first array argument (a row view, a slice view, a call), kind
        the kind of its other array arguments, beside: its first float argument is an element of
        out, row the row index of a "rows" helper. Sets first_array to the first array argument."""
        args = []
        used = {out}
        first_array = None
        for name, pk in helper.params:
            if pk in ("out", "rows"):
                args.append(out)
            elif pk == "row":
                args.append(row)
            elif pk == "F":
                if first is not None:
                    text, first = first, None
                else:
                    arr = self.array(sc, kind, self.integer(0, 1))
                    returned = helper.returns == "VF" and first_array is None
                    if not arr.fresh and (arr.text in used or arr.text not in sc.vars
                                          or (returned and not self.may_share(sc, arr.text))):
                        arr = arr.copied()
                    used.add(arr.text)
                    text = self.bounded(arr, "F").text
                if first_array is None:
                    first_array = text
                args.append(text)
            elif pk == "S":
                if beside and out in sc.vars:
                    self.note("element_beside_array")
                    args.append(self.element(sc, out))
                    beside = False
                else:
                    args.append(self.bounded(self.scalar(sc, self.integer(0, 1)), "S").text)
            elif pk == "int":
                counts = [k for k, spec in sc.ints.items() if spec[0] == "count" and spec[1] <= N_MAX]
                args.append(self.pick(counts + ["2"]) if counts else "2")
            elif pk == "kw" and self.chance(0.5):
                self.note("keyword_argument")
                s = self.bounded(self.scalar(sc, 0), "S")
                args.append(f"{name}={s.text}")
        self.first_array = first_array
        return ", ".join(args)

    def call_expr(self, sc, kind):
        helper = self.pick(self.callable(kind))
        self.note("call_in_expression", f"call_{kind}_helper")
        return Expr(self.call_text(sc, helper), ATOM, helper.out_bound)

    # -- statements ----------------------------------------------------------------------------

    def line(self, sc, text):
        return ["    " * sc.indent + text]

    def squash(self, sc, name):
        v = sc.vars[name]
        if v.kind == "S":
            text = f"{name} = math.tanh({name})"
        elif v.pinned:
            text = f"{name}[:] = np.tanh({name})"
        else:
            text = f"{name} = np.tanh({name})"
            v.owned, v.origin = True, "local"
        v.bound = 1.0
        self.note("squash")
        return self.line(sc, text)

    def squash_all(self, sc, cap=CAP):
        lines = []
        for name in sorted(sc.vars):
            if sc.vars[name].bound > cap:
                lines += self.squash(sc, name)
        return lines

    def store(self, sc, name, kind, e):
        """Lines binding name to e; keeps the bound and makes sure the array is fresh."""
        e = self.bounded(e, kind, cap=CAP if sc.loop else HARD)
        text = e.text
        if kind != "S" and not e.fresh:
            self.note("copy")
            text = e.copied().text if self.chance(0.7) else f"np.copy({text})"
        old = sc.vars.get(name)
        if old is not None:
            self.note("rebind")
        sc.vars[name] = Var(kind, e.bound)
        return self.line(sc, f"{name} = {text}")

    def new_name(self, sc, kind):
        pools = {"F": ("y", "z", "w", "u"), "S": ("s", "t", "c")} if sc.function == "head" else \
            {"F": ("q", "r", "y"), "S": ("e", "t")}
        pool = list(pools[kind])
        taken = [n for n in pool if n in sc.vars]
        if sc.function == "head" and kind == "F" and self.chance(0.1):
            pool.append("x")
        if sc.function == "head" and kind == "S" and self.chance(0.1):
            pool.append("a")
        name = self.pick(pool)
        if name in sc.vars and sc.vars[name].pinned:
            name = next((n for n in pool if n not in sc.vars), taken[0] if taken else pool[0])
        return name

    def statement(self, sc):
        """One statement (possibly compound); returns (lines, terminated)."""
        mutable = [n for n in sc.names("F", owned=True)]
        table = {
            "assign_array": 6, "assign_scalar": 5,
            "slice_update": 4 if mutable else 0,
            "element_update": 3 if mutable else 0,
            "whole_update": 3 if mutable else 0,
            "tuple": 1,
            "matrix": 2 if sc.depth == 0 else 0,
            "matrix_update": 1 if sc.names("M") or sc.names("P") else 0,
            "if": 3 if sc.depth < MAX_DEPTH else 0,
            "for": 3 if sc.depth < MAX_DEPTH else 0,
            "elements": 3 if sc.depth < MAX_DEPTH and mutable else 0,
            "while": 1 if sc.depth < MAX_DEPTH and sc.loop != "while" and "it" not in sc.ints else 0,
            "call": 3 if self.inplace_callable(sc) else 0,
            "call_assign": 2 if any(self.callable(k) for k in ("array", "tuple", "two", "list", "matrix")) else 0,
            "jump": 2 if sc.loop else 0,
            "return": 1 if sc.function != "head" or (sc.depth == 0 and self.chance(0.2)) else 0,
            # the shapes of FAMILIES
            "row_loop": self.w(2) if sc.depth < MAX_DEPTH and self.row_callable() else 0,
            "slice_call": self.w(2) if (sc.function == "head" and sc.names("F", owned=True)
                                        and (self.callable("inplace") or self.callable("array"))) else 0,
            "second_name": self.w(2),
            "list": self.w(1),
            "axis_assign": self.w(1),
        }
        kind = self.weighted(table)
        return getattr(self, f"st_{kind}")(sc)

    def block(self, sc, lo, hi):
        """A sequence of lo..hi statements (``pass`` if none); returns (lines, terminated)."""
        lines = []
        count = self.integer(lo, hi)
        for _ in range(count):
            more, done = self.statement(sc)
            lines += more
            if done:
                return lines, True
        if not lines and lo > 0:
            lines = self.line(sc, "pass")
        return lines, False

    def st_assign_array(self, sc):
        name = self.new_name(sc, "F")
        self.note("assign_array")
        return self.store(sc, name, "F", self.array(sc, "F", self.integer(1, 3))), False

    def st_assign_scalar(self, sc):
        name = self.new_name(sc, "S")
        self.note("assign_scalar")
        return self.store(sc, name, "S", self.scalar(sc, self.integer(1, 3))), False

    def update_rhs(self, sc, kind, target, target_bound, assign=True):
        """(operator, text, new bound) of an in-place update of target (of the given kind)."""
        how = self.weighted({"relax": 4, "add": 3, "mul": 3, "set": 2 if assign else 0})
        if how == "mul" and self.chance(0.3):
            return "*=", _num(self.const(0.9)), target_bound
        if kind == "S":
            e = self.scalar(sc, self.integer(0, 2))
        else:
            e = self.array(sc, kind, self.integer(0, 2)) if self.chance(0.8) else \
                self.scalar(sc, self.integer(0, 1))
        if how == "relax":
            e = self.bounded(e, kind)
            c = self.const(0.9)
            return "+=", f"{_num(c)} * ({e.at(ADD)} - {target})", max(target_bound, e.bound)
        if how == "add":
            c = self.const(0.5)
            op = self.pick(("+=", "-="))
            return op, f"{_num(c)} * {e.at(UNARY)}", target_bound + c * e.bound
        if how == "mul":
            factor = self.pick(("np.cos", "np.tanh", "np.sin")) if kind != "S" else \
                self.pick(("math.cos", "math.tanh"))
            return "*=", f"{factor}({e.text})", target_bound
        e = self.bounded(e, kind, cap=CAP if sc.loop else HARD)
        return "=", e.text, max(target_bound, e.bound)

    def st_slice_update(self, sc, y=None):
        y = y or self.pick(sc.names("F", owned=True))
        region, kind = self.pick((("[1:-1]", "I"), ("[::2]", "E"), ("[2:]", "I"), ("[:-2]", "I"),
                                  ("[:]", "F")))
        op, text, bound = self.update_rhs(sc, kind, f"{y}{region}", sc.vars[y].bound)
        self.note("slice_update" if op == "=" else "augmented_slice_update")
        if kind == "E":
            self.note("strided_slice")
        sc.vars[y].bound = bound
        lines = self.line(sc, f"{y}{region} {op} {text}")
        if bound > HARD or (sc.loop and bound > CAP and self.chance(0.5)):
            lines += self.squash(sc, y)
        return lines, False

    def st_element_update(self, sc, y=None):
        y = y or self.pick(sc.names("F", owned=True))
        target = self.element(sc, y)
        op, text, bound = self.update_rhs(sc, "S", target, sc.vars[y].bound)
        self.note("element_update" if op == "=" else "augmented_element_update")
        sc.vars[y].bound = bound
        lines = self.line(sc, f"{target} {op} {text}")
        if bound > HARD:
            lines += self.squash(sc, y)
        return lines, False

    def st_whole_update(self, sc, y=None):
        y = y or self.pick(sc.names("F", owned=True))
        op, text, bound = self.update_rhs(sc, "F", y, sc.vars[y].bound, assign=False)
        self.note("augmented_assignment")
        sc.vars[y].bound = bound
        lines = self.line(sc, f"{y} {op} {text}")
        if bound > HARD:
            lines += self.squash(sc, y)
        return lines, False

    def st_tuple(self, sc):
        self.note("tuple_assignment")
        scalars = sc.names("S")
        arrays = [n for n in sc.names("F") if not sc.vars[n].pinned]
        if len(arrays) >= 2 and self.chance(0.4):
            y, z = self.pick(arrays), self.pick(arrays)
            if y != z:
                # both new arrays, computed from the old values: a swap of names (y, z = z, y)
                # would leave adjoin's alias analysis to prove that no two names share an array
                left = self.bounded(self.array(sc, "F", 1), "F").copied()
                right = self.bounded(self.array(sc, "F", 1), "F").copied()
                sc.vars[y] = Var("F", left.bound)
                sc.vars[z] = Var("F", right.bound)
                return self.line(sc, f"{y}, {z} = {left.text}, {right.text}"), False
        s = self.pick(scalars)
        t = self.new_name(sc, "S")
        left = self.bounded(self.scalar(sc, 1), "S")
        if s == t:
            sc.vars[s] = Var("S", left.bound)
            return self.line(sc, f"{s} = {left.text}"), False
        right = self.bounded(self.scalar(sc, 1), "S")
        sc.vars[s] = Var("S", left.bound)
        sc.vars[t] = Var("S", right.bound)
        return self.line(sc, f"{s}, {t} = {left.text}, {right.text}"), False

    def st_matrix(self, sc):
        if self.chance(0.5):
            self.note("stack")
            rows = [self.bounded(self.array(sc, "F", self.integer(0, 1)), "F") for _ in range(3)]
            if "M" in sc.vars:
                self.note("rebind")
            sc.vars["M"] = Var("M", max(r.bound for r in rows))
            return self.line(sc, f"M = np.stack([{', '.join(r.text for r in rows)}])"), False
        self.note("outer_product")
        y, z = self.pick(sc.names("F")), self.pick(sc.names("F"))
        g = self.pick(("", "np.sin", "np.tanh"))
        right = f"{g}({z})" if g else z
        sc.vars["P"] = Var("P", sc.vars[y].bound * (1.0 if g else sc.vars[z].bound))
        axis = self.pick(("None", "np.newaxis"))
        return self.line(sc, f"P = {y}[:, {axis}] * {right}[{axis}, :]"), False

    def st_matrix_update(self, sc):
        m = self.pick(sc.names("M") + sc.names("P"))
        v = sc.vars[m]
        if v.kind == "M":
            self.note("matrix_row_update")
            row = self.pick((0, 1, 2))
            e = self.bounded(self.array(sc, "F", 1), "F")
            c = self.const(0.9)
            v.bound = max(v.bound, e.bound)
            return self.line(sc, f"{m}[{row}] += {_num(c)} * ({e.at(ADD)} - {m}[{row}])"), False
        if sc.depth < MAX_DEPTH - 1 and self.chance(0.5):
            return self.matrix_element_loops(sc, m)
        self.note("matrix_stencil")
        c = self.pick((0.1, 0.05))
        v.bound *= 1.0 + 8.0 * c
        lines = self.line(sc, f"{m}[1:-1, 1:-1] += {_num(c)} * ({m}[2:, 1:-1] + {m}[:-2, 1:-1] + {m}[1:-1, 2:]"
                              f" + {m}[1:-1, :-2] - 4.0 * {m}[1:-1, 1:-1])")
        if v.bound > HARD or sc.loop:
            lines += self.squash(sc, m)
        return lines, False

    def matrix_element_loops(self, sc, m="P"):
        """Fortran-style nested element loops over the inner points of the (len(x), len(x)) array m."""
        self.note("for", "nested_for", "element_loop", "matrix_element_loop")
        free = [k for k in ("i", "j", "k", "m") if k not in sc.ints]
        if len(free) < 2:
            return self.line(sc, "pass"), False
        i, j = free[0], free[1]
        lines = self.squash_all(sc)
        y = self.pick(sc.names("F"))
        lines += self.line(sc, f"for {i} in range(1, len({y}) - 1):")
        lines += ["    " * (sc.indent + 1) + f"for {j} in range(1, len({y}) - 1):"]
        c = self.const(0.5)
        fn = self.pick(("math.sin", "math.tanh", "np.tanh"))
        neighbours = self.pick((f"{m}[{i} - 1, {j}] + {m}[{i}, {j} + 1]", f"{m}[{i} + 1, {j}] - {m}[{i}, {j} - 1]",
                                f"{m}[{i}, {j}] * {m}[{i} - 1, {j} - 1]"))
        lines += ["    " * (sc.indent + 2) + f"{m}[{i}, {j}] = {_num(1.0 - c)} * {m}[{i}, {j}] + {_num(c)} * {fn}({neighbours})"]
        sc.vars[m].bound = CAP
        return lines, False

    def child(self, sc, loop=None, ints=None):
        inner = sc.copy()
        inner.depth += 1
        inner.indent += 1
        if loop:
            inner.loop = loop
        if ints:
            inner.ints.update(ints)
        return inner

    def merge(self, sc, branches):
        """Makes sc the scope after an if: names defined on every path that goes on, larger bounds."""
        going = [b for b, done in branches if not done]
        if not going:
            return True
        for name in list(sc.vars):
            if not all(name in b.vars for b in going):
                del sc.vars[name]
        for name in set.intersection(*(set(b.vars) for b in going)):
            vs = [b.vars[name] for b in going]
            if any(v.kind != vs[0].kind for v in vs):
                sc.vars.pop(name, None)
                continue
            same = all(v.origin == vs[0].origin for v in vs)
            # an array that may or may not be the caller's is not updated in place any more
            sc.vars[name] = Var(vs[0].kind, max(v.bound for v in vs), same and all(v.owned for v in vs),
                                vs[0].pinned, vs[0].origin if same else "mixed")
        return False

    def st_if(self, sc):
        data = self.chance(0.6)
        self.note("if_data" if data else "if_int")
        branches = []
        lines = self.line(sc, f"if {self.condition(sc, data)}:")
        body = self.child(sc)
        more, done = self.block(body, 1, 3)
        lines += more
        branches.append((body, done))
        if self.chance(0.3):
            self.note("elif")
            lines += self.line(sc, f"elif {self.condition(sc, self.chance(0.7))}:")
            body = self.child(sc)
            more, done = self.block(body, 1, 2)
            lines += more
            branches.append((body, done))
        if self.chance(0.6):
            self.note("else")
            lines += self.line(sc, "else:")
            body = self.child(sc)
            more, done = self.block(body, 1, 3)
            lines += more
            branches.append((body, done))
        else:
            branches.append((sc.copy(), False))
        return lines, self.merge(sc, branches)

    def loop_scope(self, sc, loop, ints):
        """The scope of a loop body: every name assumed as large as CAP (the loop invariant).

        An argument updated in place is not rebound in the body: the next iteration would update
        a different array at the same place."""
        inner = self.child(sc, loop, ints)
        for v in inner.vars.values():
            v.bound = max(v.bound, CAP)
            if v.origin == "arg" and v.owned:
                v.pinned = True
        return inner

    def after_loop(self, sc, inner):
        for name, v in sc.vars.items():
            w = inner.vars.get(name)
            v.bound = max(v.bound, CAP)
            if w is not None and w.kind == v.kind:
                same = v.origin == w.origin
                v.owned = v.owned and w.owned and same
                v.origin = v.origin if same else "mixed"

    def st_for(self, sc):
        free = [k for k in ("k", "m", "l") if k not in sc.ints]
        if not free:
            return self.line(sc, "pass"), False
        k = free[0]
        counts = [(name, spec[1]) for name, spec in sc.ints.items() if spec[0] == "count" and name in ("n", "mm")]
        forms = [("range(2)", 1)]
        for name, top in counts:
            forms += [(f"range({name})", top - 1), (f"range({name} + 1)", top), (f"range(1, {name} + 1)", top)]
        text, top = self.pick(forms)
        self.note("for", "count_loop")
        if sc.loop:
            self.note("nested_for")
        lines = self.squash_all(sc)
        lines += self.line(sc, f"for {k} in {text}:")
        inner = self.loop_scope(sc, "for", {k: ("count", top)})
        body, _ = self.block(inner, 1, 4)
        lines += body + self.squash_all(inner)
        self.after_loop(sc, inner)
        return lines, False

    def st_elements(self, sc):
        free = [k for k in ("i", "j") if k not in sc.ints]
        if not free:
            return self.line(sc, "pass"), False
        i = free[0]
        y = self.pick(sc.names("F"))
        length = self.pick((f"len({y})", f"{y}.shape[0]", f"{y}.size"))
        text, offsets = self.pick(((f"range(1, {length} - 1)", (-1, 0, 1)),
                                   (f"range({length} - 1)", (0, 1)),
                                   (f"range(1, {length})", (-1, 0)),
                                   (f"range(0, {length}, 2)", (0,)),
                                   (f"range({length} - 2, 0, -1)", (-1, 0, 1))))
        self.note("for", "element_loop")
        if sc.loop:
            self.note("nested_for")
        if "-1)" in text:
            self.note("reversed_loop")
        lines = self.squash_all(sc)
        lines += self.line(sc, f"for {i} in {text}:")
        inner = self.loop_scope(sc, "for", {i: ("elem", offsets)})
        body = []
        # the typical body: an element of an array updated from its neighbours
        target = self.pick(inner.names("F", owned=True))
        c = self.const(0.9)
        e = self.bounded(self.scalar(inner, self.integer(1, 2)), "S")
        off = self.pick(offsets)
        index = i if off == 0 else f"{i} {'+' if off > 0 else '-'} {abs(off)}"
        self.note("element_update")
        body += ["    " * inner.indent + f"{target}[{index}] = {_num(1.0 - c)} * {target}[{index}] + {_num(c)} * {e.at(UNARY)}"]
        inner.vars[target].bound = CAP
        more, _ = self.block(inner, 0, 2)
        body += more
        lines += body + self.squash_all(inner)
        self.after_loop(sc, inner)
        return lines, False

    def st_while(self, sc):
        self.note("while")
        lines = self.squash_all(sc)
        counts = [name for name, spec in sc.ints.items() if spec[0] == "count" and name in ("n", "mm")]
        bound = self.pick([f"{c} + 1" for c in counts] + ["3"])
        lines += self.line(sc, "it = 0")
        data = self.chance(0.6)
        cond = f"it < {bound}"
        if data:
            self.note("data_while")
            s = self.pick(sc.names("S"))
            cond += f" and {s} {self.pick(('>', '<'))} {_num(self.pick(THRESHOLDS))}"
        lines += self.line(sc, f"while {cond}:")
        inner = self.loop_scope(sc, "while", {"it": ("count", 4)})
        lines += self.line(inner, "it += 1")   # first, so that a continue cannot loop forever
        body, _ = self.block(inner, 1, 3)
        lines += body + self.squash_all(inner)
        self.after_loop(sc, inner)
        return lines, False

    def st_jump(self, sc):
        word = self.pick(("continue", "break"))
        self.note(word)
        lines = self.line(sc, f"if {self.condition(sc, self.chance(0.4))}:")
        inner = self.child(sc)
        lines += self.squash_all(inner) + self.line(inner, word)
        return lines, False

    def return_expr(self, sc):
        if sc.returns == "F":
            e = self.bounded(self.array(sc, "F", self.integer(1, 2)), "F")
            if not (e.text in sc.vars and sc.vars[e.text].owned):
                e = e.copied()   # never return the caller's array
            return e.text, e.bound
        if sc.returns == "S":
            e = self.bounded(self.scalar(sc, self.integer(1, 2)), "S")
            return e.text, e.bound
        if sc.returns == "FS":
            e = self.bounded(self.array(sc, "F", self.integer(1, 2)), "F").copied()
            s = self.bounded(self.scalar(sc, 1), "S")
            return f"{e.text}, {s.text}", max(e.bound, s.bound)
        if sc.returns in ("FF", "VF", "L"):
            second = self.bounded(self.array(sc, "F", self.integer(1, 2)), "F").copied()
            v = sc.vars.get("v")
            if sc.returns == "VF" and v is not None and v.kind == "F" and v.bound <= CAP:
                return f"v, {second.text}", max(v.bound, second.bound)   # its argument (if not rebound)
            first = self.bounded(self.array(sc, "F", self.integer(1, 2)), "F").copied()
            text = f"{first.text}, {second.text}"
            return (f"[{text}]" if sc.returns == "L" else text), max(first.bound, second.bound)
        if sc.returns == "M":
            rows = [self.bounded(self.array(sc, "F", self.integer(0, 2)), "F") for _ in range(3)]
            return f"np.stack([{', '.join(r.text for r in rows)}])", max(r.bound for r in rows)
        if sc.returns == "cost":
            return self.cost(sc), 0.0
        return None, 0.0

    def st_return(self, sc):
        """An early return guarded by a test."""
        self.note("early_return")
        data = self.chance(0.6) if sc.function != "head" else False
        lines = self.line(sc, f"if {self.condition(sc, data)}:")
        inner = self.child(sc)
        for name, v in inner.vars.items():
            if v.pinned and v.bound > CAP:
                lines += self.squash(inner, name)
        text, bound = self.return_expr(inner)
        self.helper_bound = max(self.helper_bound, bound)
        lines += self.line(inner, "return" if text is None else f"return {text}")
        return lines, False

    def inplace_callable(self, sc):
        return bool((self.callable("inplace") or self.callable("rebind")) and sc.names("F", owned=True))

    def row_callable(self):
        return bool(self.callable("array") or self.callable("inplace") or self.callable("rows"))

    def st_call(self, sc, out=None, kinds=("inplace", "rebind"), beside=None):
        """A call to a helper that updates out (a name) in place; beside: its first float argument
        is an element of out (drawn when None)."""
        helper = self.pick([h for k in kinds for h in self.callable(k)])
        out = out or self.pick(sc.names("F", owned=True))
        lines = []
        if sc.vars[out].bound > CAP:
            lines += self.squash(sc, out)
        self.note("call_inplace_helper" if helper.kind == "inplace" else f"call_{helper.kind}_helper")
        if out == "x":
            self.note("mutate_argument")
        if beside is None:
            beside = self.chance(self.p(0.15))
        call = self.call_text(sc, helper, out=out, beside=beside)
        if helper.returns == "S":
            t = self.new_name(sc, "S")
            lines += self.line(sc, f"{t} = {call}")
            sc.vars[t] = Var("S", helper.ret_bound)
        else:
            lines += self.line(sc, call)
        sc.vars[out].bound = helper.out_bound
        return lines, False

    def st_call_assign(self, sc, kinds=("array", "tuple", "two", "list", "matrix")):
        helper = self.pick([h for k in kinds for h in self.callable(k)])
        self.note(f"call_{helper.kind}_helper")
        call = self.call_text(sc, helper)
        if helper.kind in ("two", "list"):
            return self.unpack(sc, helper, call), False
        if helper.kind == "matrix":
            self.note("matrix_return")
            if "M" in sc.vars:
                self.note("rebind")
            sc.vars["M"] = Var("M", helper.out_bound)
            return self.line(sc, f"M = {call}"), False
        y = self.new_name(sc, "F")
        if helper.kind == "tuple":
            self.note("tuple_return")
            s = self.new_name(sc, "S")
            sc.vars[y] = Var("F", helper.out_bound)
            sc.vars[s] = Var("S", helper.out_bound)
            return self.line(sc, f"{y}, {s} = {call}"), False
        sc.vars[y] = Var("F", helper.out_bound)
        return self.line(sc, f"{y} = {call}"), False

    # -- the shapes of FAMILIES ----------------------------------------------------------------

    def two_names(self, sc):
        """Two different names for new arrays."""
        p = self.new_name(sc, "F")
        for _ in range(3):
            q = self.new_name(sc, "F")
            if q != p:
                return p, q
        pool = [n for n in ("y", "z", "w", "u", "q", "r") if n != p and not (n in sc.vars and sc.vars[n].pinned)]
        return p, self.pick(pool)

    def update_in_place(self, sc, y):
        """One in-place update of the array y by the caller: whole, slice or element."""
        return self.pick((self.st_whole_update, self.st_slice_update, self.st_element_update))(sc, y)[0]

    def unpack(self, sc, helper, call):
        """Lines binding the two arrays a "two" or "list" helper returns: unpacked into two names
        (then one of them often updated in place), or kept as a list and read at once."""
        if helper.kind == "list" and self.chance(0.4):
            self.note("list_return")
            return self.line(sc, f"parts = {call}") + self.read_parts(sc, helper.out_bound, helper.out_bound)
        self.note("list_unpack" if helper.kind == "list" else "pair_return")
        arg = self.first_array
        p, q = self.two_names(sc)
        lines = self.line(sc, f"{p}, {q} = {call}")
        # p may be a second name for the caller's array arg: arg is then not read again (see
        # may_share), except in the rare refusable variant, which reads it once after the update
        shared = helper.returns == "VF" and arg in sc.vars and arg not in (p, q)
        if helper.returns == "VF":
            self.note("returns_argument")
        old = sc.vars.pop(arg) if shared else None
        sc.vars[p] = Var("F", helper.out_bound)
        sc.vars[q] = Var("F", helper.out_bound)
        if self.chance(0.6):
            self.note("pair_return_update")
            lines += self.update_in_place(sc, p if self.chance(0.7) else q)
        if shared and self.chance(0.1):    # rare: adjoin may refuse it
            self.note("returned_argument_alias_live")
            t = self.new_name(sc, "S")
            lines += self.store(sc, t, "S", Expr(f"np.sum({arg} * {q})", ATOM,
                                                 FULL_LEN * old.bound * sc.vars[q].bound))
        return lines

    def read_parts(self, sc, b0, b1):
        """Lines reading the list ``parts`` of two arrays into a new float or a new array."""
        if self.chance(0.5):
            e = Expr(self.pick(("np.sum(parts[0] * parts[1])", "np.dot(parts[0], parts[1])")), ATOM,
                     FULL_LEN * b0 * b1)
            return self.store(sc, self.new_name(sc, "S"), "S", e)
        c = self.const()
        text, bound = self.pick(((f"parts[0] + {_num(c)} * parts[1]", b0 + c * b1),
                                 ("parts[0] * parts[1]", b0 * b1),
                                 ("np.sin(parts[0]) - parts[1]", 1.0 + b1)))
        return self.store(sc, self.new_name(sc, "F"), "F", Expr(text, ADD, bound))

    def st_list(self, sc):
        """A list of two arrays (one often a bare name), read at once: ``parts = [h * 2.0, h]``."""
        self.note("list_literal")
        first = self.bounded(self.array(sc, "F", self.integer(0, 2)), "F")
        if self.chance(0.5):
            y = self.pick(sc.names("F"))
            second = Expr(y, ATOM, sc.vars[y].bound, fresh=False)
        else:
            second = self.bounded(self.array(sc, "F", self.integer(0, 1)), "F")
        lines = self.line(sc, f"parts = [{first.text}, {second.text}]")
        return lines + self.read_parts(sc, first.bound, second.bound), False

    def st_second_name(self, sc):
        """A second name for a fresh array, written in place once the first name is dead:
        ``h = a * b; out = h; sq = h ** 2; out -= b`` (the derivative of sq needs the old h)."""
        self.note("second_name")
        base = self.bounded(self.array(sc, "F", self.integer(1, 2)), "F").copied()
        b = base.bound
        lines = self.line(sc, f"h = {base.text}")
        if self.chance(0.3):
            self.note("second_name_view")
            lines += self.line(sc, "out = h[:]")
        else:
            lines += self.line(sc, "out = h")
        if "out" in sc.vars:
            self.note("rebind")
        sc.vars["out"] = Var("F", b)
        z = self.pick(sc.names("F"))
        bz = sc.vars[z].bound
        text, bound = self.pick((("h ** 2", b * b), (f"np.sin(h) * {z}", bz), (f"np.tanh(h * {z})", 1.0),
                                 ("np.exp(-0.5 * h ** 2)", 1.0), ("h * h", b * b)))
        if self.chance(0.3):
            lines += self.store(sc, self.new_name(sc, "S"), "S", Expr(f"np.sum({text})", ATOM, FULL_LEN * bound))
        else:
            if "sq" in sc.vars:
                self.note("rebind")
            lines += self.store(sc, "sq", "F", Expr(text, MUL, bound))
        if self.inplace_callable(sc) and self.chance(0.3):
            self.note("second_name_callee_update")
            lines += self.st_call(sc, out="out")[0]
        else:
            lines += self.update_in_place(sc, "out")
        if self.chance(0.03):    # rare: adjoin may refuse it, which hides the rest of the program
            self.note("second_name_read_after_write")
            z = self.pick(sc.names("F"))
            lines += self.store(sc, self.new_name(sc, "S"), "S",
                                Expr(f"np.sum(h * {z})", ATOM, FULL_LEN * CAP * sc.vars[z].bound))
        return lines, False

    def new_state(self, sc, t):
        """Lines binding the 2-D state t: T three rows stacked, (3, len(x)); W an outer product,
        (len(x), len(x)). (A name has one kind, so that a loop body never sees both.)"""
        if t in sc.vars:
            self.note("rebind")
        if t == "T":
            self.note("stack")
            rows = [self.bounded(self.array(sc, "F", self.integer(0, 1)), "F") for _ in range(3)]
            sc.vars[t] = Var("M", max(r.bound for r in rows))
            return self.line(sc, f"T = np.stack([{', '.join(r.text for r in rows)}])")
        self.note("outer_product")
        y, z = self.pick(sc.names("F")), self.pick(sc.names("F"))
        sc.vars[t] = Var("P", sc.vars[y].bound)
        return self.line(sc, f"{t} = {y}[:, None] * np.tanh({z})[None, :]")

    def st_row_loop(self, sc):
        """The ocean model's loop over the rows of a 2-D state T: the row view T[k] passed to a
        helper that reads it or updates it in place, then rows k, k + 1 updated in place by a
        later callee (``mix(T, k, upper)``) or by the caller."""
        free = [k for k in ("k", "m", "l") if k not in sc.ints]
        if not free or not self.row_callable():
            return self.line(sc, "pass"), False
        k = free[0]
        lines = self.squash_all(sc)
        t = self.pick(("T", "T", "T", "W"))
        if t not in sc.vars or (not sc.vars[t].pinned and self.chance(0.5)):
            lines += self.new_state(sc, t)
        state = sc.vars[t]
        lines += self.line(sc, f"for {k} in range({t}.shape[0] - 1):")
        inner = self.loop_scope(sc, "for", {k: ("count", 1 if state.kind == "M" else FULL_LEN - 2)})
        inner.vars[t].pinned = True    # the loop's bound was read from t: t is never rebound in it
        row = f"{t}[{k}]"
        body, upper = [], None
        if self.chance(0.35):
            self.note("row_view_named")          # written out as T[k] again (analysis/views.py)
            self.named_rows += 1                 # a name bound once: one per loop
            name = f"row{self.named_rows}"
            body += self.line(inner, f"{name} = {row}")
            row = name
        if self.callable("array") and (not (self.callable("inplace") or self.callable("rows")) or self.chance(0.7)):
            helper = self.pick(self.callable("array"))
            self.note("row_view_call", "call_array_helper")
            body += self.line(inner, f"upper = {self.call_text(inner, helper, first=row)}")
            if "upper" in inner.vars:
                self.note("rebind")
            inner.vars["upper"] = Var("F", helper.out_bound)
            upper = "upper"
        if self.callable("inplace") and (not body or self.chance(0.4)):
            helper = self.pick(self.callable("inplace"))
            self.note("row_view_inplace_call", "call_inplace_helper")
            if upper:
                self.note("row_update_by_callee")
            body += self.line(inner, self.call_text(inner, helper, out=self.pick((row, f"{t}[{k} + 1]"))))
        if self.callable("rows") and (not body or self.chance(0.8)):
            helper = self.pick(self.callable("rows"))
            self.note("row_update_by_callee", "call_rows_helper")
            first = upper if upper and self.chance(0.7) else None
            body += self.line(inner, self.call_text(inner, helper, out=t, row=k, first=first))
        if not body or self.chance(0.5):
            self.note("row_update_by_caller")
            src = upper if upper and self.chance(0.7) else self.bounded(self.array(inner, "F", 1), "F").at(ADD)
            target = self.pick((f"{t}[{k} + 1]", row))
            body += self.line(inner, f"{target} += {_num(self.const(0.9))} * ({src} - {target})")
        more, _ = self.block(inner, 0, 1)
        lines += body + more + self.squash_all(inner)
        self.after_loop(sc, inner)
        return lines, False

    def st_slice_call(self, sc):
        """In the head, a slice view passed to a helper: updated in place by it
        (``relax(y[1:-1], s)``) or, after an array helper read it, by the caller
        (``y[1:-1] += 0.5 * (step(y[1:-1], s) - y[1:-1])``). The head's arrays have at least 7
        elements: the helper's reads (up to index 4 and -5) stay within the view."""
        y = self.pick(sc.names("F", owned=True))
        region, kind = self.pick((("[1:-1]", "I"), ("[2:]", "I"), ("[:-2]", "I"), ("[1:]", "J"), ("[:-1]", "J")))
        lines = self.squash(sc, y) if sc.vars[y].bound > CAP else []
        view = f"{y}{region}"
        if self.callable("inplace") and (not self.callable("array") or self.chance(0.6)):
            helper = self.pick(self.callable("inplace"))
            self.note("slice_view_inplace_call", "call_inplace_helper")
            if y == "x":
                self.note("mutate_argument")
            lines += self.line(sc, self.call_text(sc, helper, out=view, kind=kind))
            sc.vars[y].bound = max(sc.vars[y].bound, helper.out_bound)
            return lines, False
        helper = self.pick(self.callable("array"))
        self.note("slice_view_call", "call_array_helper")
        call = self.call_text(sc, helper, first=view, kind=kind)
        if y == "x":
            self.note("mutate_argument")
        if self.chance(0.5):
            lines += self.line(sc, f"{view} += {_num(self.const(0.9))} * ({call} - {view})")
        else:
            lines += self.line(sc, f"{view} = {call}")
        sc.vars[y].bound = max(sc.vars[y].bound, helper.out_bound)
        return lines, False

    def st_axis_assign(self, sc):
        """A float or an array computed from a reduction along an axis fed to reshape."""
        lines = [] if self.matrix_sources(sc) else self.st_matrix(sc)[0]
        if self.chance(0.5):
            return lines + self.store(sc, self.new_name(sc, "S"), "S", self.axis_reshape(sc, scalar=True)), False
        return lines + self.store(sc, self.new_name(sc, "F"), "F", self.axis_reshape(sc, scalar=False)), False

    def st_call_result(self, sc):
        if self.chance(0.5):
            return self.store(sc, self.new_name(sc, "S"), "S", self.call_result(sc, scalar=True)), False
        return self.store(sc, self.new_name(sc, "F"), "F", self.call_result(sc, scalar=False)), False

    def focus_statement(self, sc):
        """A statement of the family the program is focused on."""
        family = self.focus
        if family == "row_views":
            return self.st_row_loop(sc)
        if family == "slice_views":
            return self.st_slice_call(sc)
        if family == "second_names":
            return self.st_second_name(sc)
        if family == "multiple_returns":
            return self.st_call_assign(sc, kinds=("two",))
        if family == "lists":
            return self.st_list(sc) if self.chance(0.5) else self.st_call_assign(sc, kinds=("list",))
        if family == "call_results":
            return self.st_call_result(sc)
        if family == "axis_reshape":
            return self.st_axis_assign(sc)
        if family == "rebinding_subroutine":
            return self.st_call(sc, kinds=("rebind",))
        return self.st_call(sc, beside=True)     # element_beside_array

    def cost(self, sc):
        """The scalar cost: a few reductions and scalars of what the head computed."""
        terms = []
        arrays = sc.names("F")
        for y in arrays:
            if y == "x" and len(arrays) > 1 and self.chance(0.5):
                continue
            form = self.pick((f"np.sum({y} ** 2)", f"np.sum(np.sin({y}))", f"np.mean({y}) * {_num(self.const())}",
                              f"np.sum({y} * x)", f"np.sum(np.tanh({y}) * a)"))
            terms.append(form)
        for s in sc.names("S"):
            if self.chance(0.7):
                terms.append(self.pick((s, f"{s} ** 2", f"math.sin({s})")))
        for m in sc.names("M") + sc.names("P"):
            terms.append(f"np.mean({m} ** 2)")
        if not terms:
            terms.append("np.sum(x)")
        self.note("cost")
        return " + ".join(terms)

    # -- functions -----------------------------------------------------------------------------

    def rows_helper(self, name):
        """A helper updating rows k and k + 1 of a 2-D array in place, as the ocean model's mixing:
        ``def mix(T, k, w): T[k] += 0.3 * (w - T[k]); T[k + 1] = 0.5 * T[k + 1] + 0.5 *
        np.tanh(T[k])``. Every line keeps the rows within the larger of their bound and w's."""
        self.note("helper_rows")
        c1, c2 = self.const(0.9), self.const(0.9)
        first = self.pick((f"T[k] += {_num(c1)} * (w - T[k])",
                           f"T[k] = {_num(1.0 - c1)} * T[k] + {_num(c1)} * np.tanh(w)",
                           "T[k] *= np.cos(w)"))
        second = self.pick((f"T[k + 1] = {_num(1.0 - c2)} * T[k + 1] + {_num(c2)} * np.tanh(T[k])",
                            f"T[k + 1] += {_num(c2)} * (T[k] - T[k + 1])",
                            "T[k + 1] *= np.cos(T[k])"))
        lines = ["    " + first, "    " + second]
        if self.chance(0.3):
            lines.append(f"    T[k] = np.tanh(T[k] + {_num(self.const(0.9))} * T[k + 1])")
        helper = Helper(name, "rows", (("T", "rows"), ("k", "row"), ("w", "F")), out_bound=CAP)
        return helper, [f"def {name}(T, k, w):"] + lines

    def rebind_prologue(self, sc):
        """The start of a "rebind" helper: v (the caller's array) updated in place, then v rebound
        to a new array and that local written, as in ``v[0] = v[1]; v = v * 1.0; v[-1] = v[-2]``."""
        self.note("rebinding_subroutine")
        if self.chance(0.4):
            lines = self.line(sc, "v[0] = v[1]")
        else:
            lines = self.update_in_place(sc, "v")
        if sc.vars["v"].bound > CAP:
            lines += self.squash(sc, "v")        # in place: v is still the caller's array
        b = sc.vars["v"].bound
        text, bound = self.pick((("v * 1.0", b), ("v.copy()", b), ("np.tanh(v)", 1.0),
                                 (f"{_num(self.const(0.9))} * v", b), ("np.copy(v)", b)))
        lines += self.line(sc, f"v = {text}")
        self.note("rebind")
        sc.vars["v"] = Var("F", bound)           # a local from here on: its writes stay here
        if self.chance(0.4):
            lines += self.line(sc, "v[-1] = v[-2]")
        else:
            lines += self.update_in_place(sc, "v")
        return lines

    def helper(self, index, kind):
        """One helper function of the given kind; returns (Helper, lines)."""
        name = HELPER_NAMES[kind][index]
        if kind == "rows":
            return self.rows_helper(name)
        params = [("v", "out" if kind in ("inplace", "rebind") else "F"), ("s", "S")]
        if self.chance(0.3):
            params.append(("w", "F"))
        if self.chance(0.3):
            params.append(("mm", "int"))
        if self.chance(0.25):
            params.append(("scale", "kw"))
            self.note("default_argument")
        variables, ints = {}, {}
        for p, pk in params:
            if pk == "out":
                variables[p] = Var("F", CAP, owned=True, pinned=True, origin="arg")
            elif pk == "F":
                variables[p] = Var("F", CAP, owned=False, origin="arg")   # the caller's: read only
            elif pk in ("S", "kw"):
                variables[p] = Var("S", CAP)
            else:
                ints[p] = ("count", N_MAX)
        returns = {"inplace": None, "array": "F", "scalar": "S", "tuple": "FS", "two": "FF", "list": "L",
                   "matrix": "M", "rebind": None}[kind]
        if kind == "two" and self.chance(0.25):
            returns = "VF"      # returns its argument v beside a new array
        if kind == "rebind" and self.chance(0.5):
            returns = "S"
        sc = Scope(variables, ints, kind, returns=returns)
        self.note(f"helper_{kind}")
        self.helper_bound = 0.0
        lines = []
        if kind == "inplace":
            # a subroutine updates its output argument at least once
            lines, _ = self.pick((self.st_slice_update, self.st_whole_update, self.st_element_update))(sc, "v")
        if kind == "rebind":
            lines = self.rebind_prologue(sc)
        more, done = self.block(sc, 0 if lines else 1, 4)
        lines += more
        if not done:
            if returns is None:
                for p in sorted(sc.vars):
                    if sc.vars[p].pinned and sc.vars[p].bound > CAP:
                        lines += self.squash(sc, p)
            else:
                text, bound = self.return_expr(sc)
                self.helper_bound = max(self.helper_bound, bound)
                lines += self.line(sc, f"return {text}")
        helper = Helper(name, kind, tuple(params), returns=returns)
        helper.out_bound = CAP if kind in ("inplace", "rebind") else max(self.helper_bound, 1e-3)
        helper.ret_bound = max(self.helper_bound, 1e-3)
        signature = ", ".join(p if pk != "kw" else f"{p}=0.5" for p, pk in params)
        return helper, [f"def {name}({signature}):"] + lines

    def call_statement(self, sc, helper):
        """Lines calling helper (which the head has not called yet), or [] if it cannot."""
        saved = self.available
        self.available = [helper]
        try:
            if helper.kind in ("inplace", "rebind"):
                return self.st_call(sc)[0] if self.inplace_callable(sc) else []
            if helper.kind == "rows":
                return self.st_row_loop(sc)[0]
            if helper.kind in ("array", "tuple", "two", "list", "matrix"):
                return self.st_call_assign(sc)[0]
            return self.store(sc, self.new_name(sc, "S"), "S", self.call_expr(sc, "scalar"))
        finally:
            self.available = saved

    def head(self):
        sc = Scope({"x": Var("F", 1.0, owned=False, origin="arg"), "a": Var("S", 1.0)},
                   {"n": ("count", N_MAX)}, "head", returns="cost")
        if self.chance(0.15):
            sc.vars["x"].owned = True   # the head may update its argument x in place
            self.note("mutate_argument")
        # first values computed from the arguments, so that the cost depends on them (leaving the
        # focus statement two calls)
        self.site_limit = MAX_SITES - 2 if self.focus else MAX_SITES
        lines = self.store(sc, "y", "F", self.array(sc, "F", self.integer(0, 2)))
        lines += self.store(sc, "s", "S", self.scalar(sc, self.integer(0, 2)))
        self.site_limit = MAX_SITES
        if self.focus:
            lines += self.focus_statement(sc)[0]
        more, done = self.block(sc, *self.statements)
        lines += more
        if not done:
            for helper in self.available:
                if not self.reachable(helper.name) and self.sites < self.site_limit:
                    lines += self.call_statement(sc, helper)
            lines += self.line(sc, f"return {self.cost(sc)}")
        return ["def f(x, a, n):"] + lines

    def reachable(self, name):
        seen, todo = set(), ["f"]
        while todo:
            for callee in self.calls.get(todo.pop(), ()):
                if callee not in seen:
                    seen.add(callee)
                    todo.append(callee)
        return name in seen

    def program(self):
        required = FOCUS_HELPERS[self.focus] if self.focus else ()
        count = max(self.integer(self.min_helpers, self.max_helpers), len(required))
        kinds = {"inplace": 4, "array": 4, "scalar": 4, "tuple": 4,
                 "rows": self.w(2), "two": self.w(2), "list": self.w(1), "matrix": self.w(1),
                 "rebind": self.w(2)}
        chunks = []
        used = {}
        for number in range(count):
            kind = self.pick(required[number]) if number < len(required) else self.weighted(kinds)
            index = used.get(kind, 0)
            used[kind] = index + 1
            # a later helper may call the earlier ones, leaving the head at least one call per helper
            self.site_limit = min(2, MAX_SITES - count) if number else 0
            self.current = f"#{number}"
            self.constructs = set()
            helper, text = self.helper(index, kind)
            self.calls[helper.name] = self.calls.pop(self.current, {})
            chunks.append((helper, text, self.constructs))
            self.available.append(helper)
        self.current = "f"
        self.site_limit = MAX_SITES
        self.constructs = set()
        head = self.head()
        # a helper the head cannot reach (no call site left for it) is left out of the module
        kept = [(h, text) for h, text, _ in chunks if self.reachable(h.name)]
        body = "\n\n\n".join("\n".join(text) for _, text in kept + [(None, head)])
        constructs = set(self.constructs)
        for h, _, used_there in chunks:
            if self.reachable(h.name):
                constructs |= used_there
        source = (f'"""A random program written by tests/programgen.py."""\nimport math\n\n'
                  f"import numpy as np\n\n\n{body}\n")
        ast.parse(source)   # the generator must write valid Python
        tag = hashlib.sha1(source.encode()).hexdigest()[:10]
        source = source.replace("A random program", f"Random program {tag}", 1)
        if kept:
            constructs.add("helpers")
        sites = sum(source.count(f"{h.name}(") - 1 for h, _ in kept)
        drawn = sum(sum(self.calls.get(caller, {}).values()) for caller in ["f"] + [h.name for h, _ in kept])
        assert sites == drawn, "a call to a helper was drawn but not written"
        return Program(source, frozenset(constructs), tuple(h.name for h, _ in kept), sites)


@st.composite
def programs(draw, min_helpers=0, max_helpers=2, statements=(2, 8), shapes=1.0, focus=None):
    """Random programs in adjoin's input language (see the module docstring), with min_helpers..
    max_helpers helper functions and, after two first assignments, ``statements`` = (fewest,
    most) top-level statements in the head, each possibly compound. ``shapes`` scales how often
    the shapes of :data:`FAMILIES` are drawn (0: never); ``focus``, a family of FAMILIES, puts one
    of its statements first in the head (with the helpers it needs)."""
    return _Writer(lambda lo, hi: draw(st.integers(lo, hi)), min_helpers, max_helpers, statements,
                   shapes, focus).program()


def _arguments(integer):
    length = integer(*LENGTHS)
    seed = integer(0, 2**32 - 1)
    n = integer(0, N_MAX)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, length)
    a = float(rng.uniform(-1.0, 1.0))
    return x, a, n


@st.composite
def arguments(draw):
    """(x, a, n) for a generated f: x a float64 array of length 7..10, a a float, n in 0..N_MAX."""
    return _arguments(lambda lo, hi: draw(st.integers(lo, hi)))


def program_from_seed(seed, min_helpers=0, max_helpers=2, statements=(2, 8), shapes=1.0, focus=None):
    """The program :func:`programs` writes (same options) when every draw comes from
    ``random.Random(seed)`` instead of hypothesis: uniform draws, no shrinking, and the same seed
    always gives the same program (for fuzzing, benchmarks/fuzz.py)."""
    rng = random.Random(seed)
    return _Writer(rng.randint, min_helpers, max_helpers, statements, shapes, focus).program()


def arguments_from_seed(seed):
    """The arguments (x, a, n) :func:`arguments` draws, from ``random.Random(seed)``."""
    return _arguments(random.Random(seed).randint)
