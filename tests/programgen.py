"""Hypothesis strategies that write random programs in adjoin's input language.

A program is the source text of a module: ``import math``, ``import numpy as np``, zero to two
helper functions, and the head ``f(x, a, n)`` (``x`` a float64 1-D array of length 6..10, ``a`` a
float, ``n`` an int in 0..3) that calls them and returns a scalar cost. The statements cover what
the adjoint must get right: straight-line NumPy and ``math`` arithmetic, slice and element reads,
in-place updates of slices, elements and whole arrays, names rebound many times, ``for`` loops
(nested, over counts and over elements), ``while`` loops with a counter bound, ``if``/``elif``/
``else`` on data and on ints, conditional expressions, ``break``/``continue``, early returns in
helpers, reductions (also along an axis of a 2-D array), ``np.roll``, ``np.where``,
``np.maximum``, ``np.concatenate``, ``np.stack``, tuple assignment, keyword arguments, helpers
that return arrays, scalars or tuples and helpers that update an array argument in place.

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

No two names ever refer to one array (every array stored under a name is fresh, tuple
assignments bind new arrays, helpers never return their arguments, an array passed for in-place
update is never passed twice), and an argument updated in place is always, or never, the
caller's array at that point (never rebound in a loop that updates it, not updated after a branch
that rebinds it on one path only), so no program depends on how adjoin treats aliasing, which
DESIGN.md allows it to refuse.
"""
from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

N_MAX = 3               # the head's int argument n is drawn in 0..N_MAX
LENGTHS = (6, 10)       # len(x) is drawn in this closed range
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


class Program:
    """A generated module: its source text, the constructs it uses, its helper functions and the
    number of calls to them (checkpoint sites). Not a dataclass: hypothesis would print every
    field on one line; the tests print the source with ``note``."""

    __slots__ = ("source", "constructs", "helpers", "sites")

    def __init__(self, source, constructs, helpers, sites):
        self.source = source
        self.constructs = frozenset(constructs)
        self.helpers = tuple(helpers)
        self.sites = sites

    def __repr__(self):
        first = self.source.splitlines()[0].strip('"')
        return (f"Program({first!r}, {self.source.count(chr(10))} lines, helpers={self.helpers}, "
                f"sites={self.sites}; source below)")


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
    returns: str | None = None   # what a return in this function returns: "F", "S", "FS", or None

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
    kind: str             # "inplace", "array", "scalar", "tuple"
    params: tuple         # ((name, kind), ...) kinds: "out", "F", "S", "int", "kw"
    out_bound: float = CAP


def _num(value):
    return repr(round(float(value), 6))


class _Writer:
    """Writes one program from hypothesis draws; every choice shrinks toward a simpler program."""

    def __init__(self, draw, min_helpers, max_helpers, statements):
        self.draw = draw
        self.min_helpers = min_helpers
        self.max_helpers = max_helpers
        self.statements = statements   # (fewest, most) top-level statements in the head
        self.constructs = set()
        self.available = []      # helpers the function being written may call
        self.sites = 0
        self.site_limit = MAX_SITES
        self.current = "f"       # the function being written
        self.calls = {}          # caller -> {callee: number of call sites}
        self.helper_bound = 0.0

    # -- choices -------------------------------------------------------------------------------

    def chance(self, p):
        """True with probability about p; shrinks toward False."""
        return self.draw(st.integers(0, 99)) >= 100 - round(100 * p)

    def pick(self, options):
        """One of options; shrinks toward the first."""
        return options[self.draw(st.integers(0, len(options) - 1))]

    def weighted(self, table):
        """A key of {key: weight} drawn by weight; shrinks toward the first key."""
        keys = [k for k, w in table.items() if w > 0]
        total = sum(table[k] for k in keys)
        r = self.draw(st.integers(0, total - 1))
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
        options = {"name": 8, "roll": 2,
                   "axis": 4 if sc.names("M") or sc.names("P") else 0,
                   "call": 2 if self.callable("array") else 0,
                   "concat": 1}
        how = self.weighted(options)
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

    def array(self, sc, kind, depth):
        """An array expression of kind F (len(x)), I (len(x) - 2) or E (the even elements)."""
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
                   "call": 2 if self.callable("scalar") else 0}
        how = self.weighted(options)
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
            arg = self.array(sc, kind, self.draw(st.integers(0, 1)))
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
        arg = self.array(sc, "F", self.draw(st.integers(0, 1)))
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

    def arguments(self, sc, helper, out=None):
        """The argument list of a call to helper; out is the array it updates in place."""
        args = []
        used = {out}
        for name, kind in helper.params:
            if kind == "out":
                args.append(out)
            elif kind == "F":
                arr = self.array(sc, "F", self.draw(st.integers(0, 1)))
                if not arr.fresh and (arr.text in used or arr.text not in sc.vars):
                    arr = arr.copied()
                used.add(arr.text)
                args.append(self.bounded(arr, "F").text)
            elif kind == "S":
                args.append(self.bounded(self.scalar(sc, self.draw(st.integers(0, 1))), "S").text)
            elif kind == "int":
                counts = [k for k, spec in sc.ints.items() if spec[0] == "count" and spec[1] <= N_MAX]
                args.append(self.pick(counts + ["2"]) if counts else "2")
            elif kind == "kw" and self.chance(0.5):
                self.note("keyword_argument")
                s = self.bounded(self.scalar(sc, 0), "S")
                args.append(f"{name}={s.text}")
        return ", ".join(args)

    def call_expr(self, sc, kind):
        helper = self.pick(self.callable(kind))
        self.called(sc, helper)
        self.note("call_in_expression", f"call_{kind}_helper")
        return Expr(f"{helper.name}({self.arguments(sc, helper)})", ATOM, helper.out_bound)

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
            "call_assign": 2 if self.callable("array") or self.callable("tuple") else 0,
            "jump": 2 if sc.loop else 0,
            "return": 1 if sc.function != "head" or (sc.depth == 0 and self.chance(0.2)) else 0,
        }
        kind = self.weighted(table)
        return getattr(self, f"st_{kind}")(sc)

    def block(self, sc, lo, hi):
        """A sequence of lo..hi statements (``pass`` if none); returns (lines, terminated)."""
        lines = []
        count = self.draw(st.integers(lo, hi))
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
        return self.store(sc, name, "F", self.array(sc, "F", self.draw(st.integers(1, 3)))), False

    def st_assign_scalar(self, sc):
        name = self.new_name(sc, "S")
        self.note("assign_scalar")
        return self.store(sc, name, "S", self.scalar(sc, self.draw(st.integers(1, 3)))), False

    def update_rhs(self, sc, kind, target, target_bound, assign=True):
        """(operator, text, new bound) of an in-place update of target (of the given kind)."""
        how = self.weighted({"relax": 4, "add": 3, "mul": 3, "set": 2 if assign else 0})
        if how == "mul" and self.chance(0.3):
            return "*=", _num(self.const(0.9)), target_bound
        if kind == "S":
            e = self.scalar(sc, self.draw(st.integers(0, 2)))
        else:
            e = self.array(sc, kind, self.draw(st.integers(0, 2))) if self.chance(0.8) else \
                self.scalar(sc, self.draw(st.integers(0, 1)))
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
            rows = [self.bounded(self.array(sc, "F", self.draw(st.integers(0, 1))), "F") for _ in range(3)]
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
            return self.line(sc, f"M[{row}] += {_num(c)} * ({e.at(ADD)} - M[{row}])"), False
        if sc.depth < MAX_DEPTH - 1 and self.chance(0.5):
            return self.matrix_element_loops(sc)
        self.note("matrix_stencil")
        c = self.pick((0.1, 0.05))
        v.bound *= 1.0 + 8.0 * c
        lines = self.line(sc, f"P[1:-1, 1:-1] += {_num(c)} * (P[2:, 1:-1] + P[:-2, 1:-1] + P[1:-1, 2:]"
                              f" + P[1:-1, :-2] - 4.0 * P[1:-1, 1:-1])")
        if v.bound > HARD or sc.loop:
            lines += self.squash(sc, m)
        return lines, False

    def matrix_element_loops(self, sc):
        """Fortran-style nested element loops over the inner points of P."""
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
        neighbours = self.pick((f"P[{i} - 1, {j}] + P[{i}, {j} + 1]", f"P[{i} + 1, {j}] - P[{i}, {j} - 1]",
                                f"P[{i}, {j}] * P[{i} - 1, {j} - 1]"))
        lines += ["    " * (sc.indent + 2) + f"P[{i}, {j}] = {_num(1.0 - c)} * P[{i}, {j}] + {_num(c)} * {fn}({neighbours})"]
        sc.vars["P"].bound = CAP
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
        e = self.bounded(self.scalar(inner, self.draw(st.integers(1, 2))), "S")
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
            e = self.bounded(self.array(sc, "F", self.draw(st.integers(1, 2))), "F")
            if not (e.text in sc.vars and sc.vars[e.text].owned):
                e = e.copied()   # never return the caller's array
            return e.text, e.bound
        if sc.returns == "S":
            e = self.bounded(self.scalar(sc, self.draw(st.integers(1, 2))), "S")
            return e.text, e.bound
        if sc.returns == "FS":
            e = self.bounded(self.array(sc, "F", self.draw(st.integers(1, 2))), "F").copied()
            s = self.bounded(self.scalar(sc, 1), "S")
            return f"{e.text}, {s.text}", max(e.bound, s.bound)
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
        return bool(self.callable("inplace") and sc.names("F", owned=True))

    def st_call(self, sc):
        helper = self.pick(self.callable("inplace"))
        out = self.pick(sc.names("F", owned=True))
        lines = []
        if sc.vars[out].bound > CAP:
            lines += self.squash(sc, out)
        self.called(sc, helper)
        self.note("call_inplace_helper")
        if out == "x":
            self.note("mutate_argument")
        lines += self.line(sc, f"{helper.name}({self.arguments(sc, helper, out)})")
        sc.vars[out].bound = helper.out_bound
        return lines, False

    def st_call_assign(self, sc):
        options = self.callable("array") + self.callable("tuple")
        helper = self.pick(options)
        self.called(sc, helper)
        self.note(f"call_{helper.kind}_helper")
        call = f"{helper.name}({self.arguments(sc, helper)})"
        y = self.new_name(sc, "F")
        if helper.kind == "tuple":
            self.note("tuple_return")
            s = self.new_name(sc, "S")
            sc.vars[y] = Var("F", helper.out_bound)
            sc.vars[s] = Var("S", helper.out_bound)
            return self.line(sc, f"{y}, {s} = {call}"), False
        sc.vars[y] = Var("F", helper.out_bound)
        return self.line(sc, f"{y} = {call}"), False

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

    def helper(self, index, kind):
        """One helper function of the given kind; returns (Helper, lines)."""
        names = {"inplace": ("relax", "update"), "array": ("step", "transform"),
                 "scalar": ("energy", "measure"), "tuple": ("split", "pair")}
        name = names[kind][index]
        params = [("v", "out" if kind == "inplace" else "F"), ("s", "S")]
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
        returns = {"inplace": None, "array": "F", "scalar": "S", "tuple": "FS"}[kind]
        sc = Scope(variables, ints, kind, returns=returns)
        self.note(f"helper_{kind}")
        self.helper_bound = 0.0
        lines = []
        if kind == "inplace":
            # a subroutine updates its output argument at least once
            lines, _ = self.pick((self.st_slice_update, self.st_whole_update, self.st_element_update))(sc, "v")
        more, done = self.block(sc, 0 if lines else 1, 4)
        lines += more
        if not done:
            if kind == "inplace":
                for p in sorted(sc.vars):
                    if sc.vars[p].pinned and sc.vars[p].bound > CAP:
                        lines += self.squash(sc, p)
            else:
                text, bound = self.return_expr(sc)
                self.helper_bound = max(self.helper_bound, bound)
                lines += self.line(sc, f"return {text}")
        helper = Helper(name, kind, tuple(params))
        helper.out_bound = CAP if kind == "inplace" else max(self.helper_bound, 1e-3)
        signature = ", ".join(p if pk != "kw" else f"{p}=0.5" for p, pk in params)
        return helper, [f"def {name}({signature}):"] + lines

    def call_statement(self, sc, helper):
        """Lines calling helper (which the head has not called yet), or [] if it cannot."""
        saved = self.available
        self.available = [helper]
        try:
            if helper.kind == "inplace":
                return self.st_call(sc)[0] if self.inplace_callable(sc) else []
            if helper.kind in ("array", "tuple"):
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
        # first values computed from the arguments, so that the cost depends on them
        lines = self.store(sc, "y", "F", self.array(sc, "F", self.draw(st.integers(0, 2))))
        lines += self.store(sc, "s", "S", self.scalar(sc, self.draw(st.integers(0, 2))))
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
        count = self.draw(st.integers(self.min_helpers, self.max_helpers))
        chunks = []
        used = {}
        for number in range(count):
            kind = self.pick(("inplace", "array", "scalar", "tuple"))
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
def programs(draw, min_helpers=0, max_helpers=2, statements=(2, 8)):
    """Random programs in adjoin's input language (see the module docstring), with min_helpers..
    max_helpers helper functions and, after two first assignments, ``statements`` = (fewest,
    most) top-level statements in the head, each possibly compound."""
    return _Writer(draw, min_helpers, max_helpers, statements).program()


@st.composite
def arguments(draw):
    """(x, a, n) for a generated f: x a float64 array of length 6..10, a a float, n in 0..N_MAX."""
    length = draw(st.integers(*LENGTHS))
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(0, N_MAX))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, length)
    a = float(rng.uniform(-1.0, 1.0))
    return x, a, n
