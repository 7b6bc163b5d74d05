"""The tangent module: ``f_d`` for the head and every function it reaches, with its imports.

Each ``f_d`` takes ``f``'s parameters, then the tangents of its parameters that carry one, and
returns ``(value, value_d)`` when its result carries a derivative (its value otherwise).  The
statements are the primal's, in the same order, each preceded by its tangent (tangent.py).
"""
import ast
import copy

from ..errors import UnsupportedError
from ..frontend.names import Namer as _Namer
from ..rules import RULES
from ..version import __version__
from .code import assign, call, const, name
from .expression import FunctionContext
from .module import USER_IMPORT, ProgramContext, _bindings, analyze
from .tangent import TangentExpr, tangent_target


class TangentGen:
    """The tangent ``f_d`` of one function."""

    def __init__(self, tctx, key):
        self.tctx = tctx
        self.key = key
        self.func = tctx.program.functions[key]
        namer = _Namer(set(self.func.locals) | tctx.global_names | {"ad", "np", "math"})
        self.ctx = FunctionContext(self.func, dict(tctx.kinds.expr_kinds.get(key, {})),
                                   tctx.activity.active.get(key, set()), RULES, namer)
        self.names = {}

    # -- names -------------------------------------------------------------------------------------
    def tangent_name(self, primal):
        found = self.names.get(primal)
        if found is None:
            found = self.names[primal] = self.ctx.namer.fresh(f"{primal}_d")
        return found

    def has_tangent(self, node):
        kind = self.ctx.kind(node)
        return node.id in self.ctx.active and (kind is None or kind.numeric or kind.cat in ("tuple", "list"))

    def zero(self, node, value):
        kind = self.ctx.kind(node)
        if isinstance(node, ast.Constant) or kind is not None and kind.scalar:
            return const(0.0)
        return call("ad.zero_of", value)

    @property
    def function_name(self):
        return self.tctx.names[self.key]

    @property
    def tangent_params(self):
        """Parameters whose tangent the caller passes: those a caller's derivative reaches, and
        those this function updates in place with one (the caller's array gets it)."""
        activity, writes = self.tctx.activity, self.tctx.summaries.writes(self.key)
        if self.key == self.tctx.program.head:
            return [p for p in self.func.params if p in self.tctx.wrt]
        return [p for p in self.func.params if p in activity.active_params[self.key]
                or p in self.ctx.active and p in writes]

    def result_active(self):
        return self.tctx.activity.result_active[self.key]

    # -- statements --------------------------------------------------------------------------------
    def block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        return out or [ast.Pass()]

    def statement(self, stmt):
        if isinstance(stmt, ast.If):
            return [_line(ast.If(test=copy.deepcopy(stmt.test), body=self.block(stmt.body),
                                 orelse=self.block(stmt.orelse) if stmt.orelse else []), stmt)]
        if isinstance(stmt, ast.For):
            return [_line(ast.For(target=copy.deepcopy(stmt.target), iter=copy.deepcopy(stmt.iter),
                                  body=self.block(stmt.body), orelse=[]), stmt)]
        if isinstance(stmt, ast.While):
            return [_line(ast.While(test=copy.deepcopy(stmt.test), body=self.block(stmt.body), orelse=[]), stmt)]
        value = getattr(stmt, "value", None)
        callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
        if callee is not None and callee.kind == "user":
            return self.user_call(stmt, value, callee)
        if isinstance(stmt, ast.Assign):
            return self.assignment(stmt)
        if isinstance(stmt, ast.AugAssign):
            return self.update(stmt)
        if isinstance(stmt, ast.Return):
            return self.returns(stmt)
        return [_line(copy.deepcopy(stmt), stmt)]

    def assignment(self, stmt):
        target = stmt.targets[0]
        lines = []
        exprs = TangentExpr(self, lines)
        value, tangent = exprs.emit(stmt.value)
        target_d = tangent_target(self, target)
        primal = _line(ast.Assign(targets=[copy.deepcopy(target)], value=value), stmt)
        if target_d is None:                # no derivative here; later, maybe (zeros_after)
            return lines + [primal] + self.zeros_after(target)
        if tangent is not None:
            return lines + [ast.Assign(targets=[target_d], value=tangent), primal]
        if isinstance(target, ast.Subscript):
            return lines + [ast.Assign(targets=[target_d], value=const(0.0)), primal]
        return lines + [primal] + self.zeros_after(target)

    def zeros_after(self, target):
        """Tangents of names just bound to values without a derivative: zeros."""
        if isinstance(target, ast.Name):
            # active is enough: an int here may be a float later (t = 0, then t += x in a loop)
            if target.id not in self.ctx.active:
                return []
            return [assign(self.tangent_name(target.id), self.zero(target, name(target.id)))]
        if isinstance(target, (ast.Tuple, ast.List)):
            return [line for elt in target.elts for line in self.zeros_after(elt)]
        return []

    def update(self, stmt):
        """``x op= e``: the tangent updated the same way, in place exactly when the value is."""
        target, op = stmt.target, stmt.op
        target_d = tangent_target(self, target)
        lines = []
        exprs = TangentExpr(self, lines)
        if isinstance(op, (ast.Mult, ast.Div)):
            exprs.needed.add(id(stmt.value))      # read twice: by the tangent and the update
        value, tangent = exprs.emit(stmt.value)
        primal = _line(ast.AugAssign(target=copy.deepcopy(target), op=copy.deepcopy(op), value=value), stmt)
        if target_d is None:
            return lines + [primal]
        old = _load(target)
        updates = []
        if isinstance(op, (ast.Add, ast.Sub)):
            if tangent is not None:
                updates.append(ast.AugAssign(target=target_d, op=copy.deepcopy(op), value=tangent))
        elif isinstance(op, ast.Mult):
            if tangent is not None:     # computed first: the tangent of e may be x_d itself (x *= x)
                term = self.ctx.namer.fresh("tmp_d")
                updates.append(assign(term, ast.BinOp(left=old, op=ast.Mult(), right=tangent)))
            updates.append(ast.AugAssign(target=target_d, op=ast.Mult(), value=copy.deepcopy(value)))
            if tangent is not None:
                updates.append(ast.AugAssign(target=copy.deepcopy(target_d), op=ast.Add(), value=name(term)))
        elif isinstance(op, ast.Div):
            if tangent is not None:
                ratio = ast.BinOp(left=old, op=ast.Div(), right=copy.deepcopy(value))
                updates.append(ast.AugAssign(target=target_d, op=ast.Sub(),
                                             value=ast.BinOp(left=ratio, op=ast.Mult(), right=tangent)))
            updates.append(ast.AugAssign(target=copy.deepcopy(target_d), op=ast.Div(), value=copy.deepcopy(value)))
        elif isinstance(op, ast.FloorDiv):
            updates.append(ast.AugAssign(target=target_d, op=ast.Mult(), value=const(0.0)))
        else:
            updates = self.general_update(stmt, target_d, lines)
        return lines + updates + [primal]

    def general_update(self, stmt, target_d, lines):
        """``x **= e``, ``x %= e``, ``x @= e``: the tangent of ``x op e``, stored as the update
        stores (into the array, or rebinding a number)."""
        whole = ast.copy_location(ast.BinOp(left=_load(stmt.target), op=copy.deepcopy(stmt.op),
                                            right=stmt.value), stmt)
        self.ctx.kinds[whole] = self.ctx.kind(stmt.target)
        self.ctx.kinds[whole.left] = self.ctx.kind(stmt.target)
        exprs = TangentExpr(self, lines)
        _, tangent = exprs.emit(whole)
        kind = self.ctx.kind(stmt.target)
        if isinstance(stmt.target, ast.Name) and (kind is None or kind.cat == "unknown"):
            raise UnsupportedError(f"{self.func.path}:{stmt.lineno}: cannot tell whether {stmt.target.id!r} is an "
                                   f"array (updated in place) or a number (rebound) here; write "
                                   f"{stmt.target.id} = {ast.unparse(_load(stmt.target))} {_OP_TEXT.get(type(stmt.op), '?')} ...")
        if kind is not None and kind.array and isinstance(stmt.target, ast.Name):
            target_d = ast.Subscript(value=name(target_d.id), slice=const(Ellipsis), ctx=ast.Store())
        return [ast.Assign(targets=[target_d], value=tangent if tangent is not None else const(0.0))]

    def user_call(self, stmt, node, callee):
        """``t = f(a, b)`` -> ``t, t_d = f_d(a, b, a_d)``: the callee updates the tangents of the
        arrays it updates."""
        gen = self.tctx.gens[callee.key]
        lines = []
        exprs = TangentExpr(self, lines)
        params = self.tctx.summaries.params(callee.key)
        values, tangents = [], []
        for param, arg in zip(params, node.args):
            value, tangent = exprs.emit(arg)
            values.append(value)
            if param in gen.tangent_params:
                tangents.append(tangent if tangent is not None else self.zero(arg, copy.deepcopy(value)))
        invoke = ast.Call(func=name(gen.function_name), args=values + tangents, keywords=[])
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else None
        if target is None:
            return lines + [_line(ast.Expr(value=invoke), stmt)]
        target_d = tangent_target(self, target)
        if gen.result_active():
            if target_d is None:
                target_d = name(self.ctx.namer.fresh("unused_d"), store=True)
            both = ast.Tuple(elts=[copy.deepcopy(target), target_d], ctx=ast.Store())
            return lines + [_line(ast.Assign(targets=[both], value=invoke), stmt)]
        primal = _line(ast.Assign(targets=[copy.deepcopy(target)], value=invoke), stmt)
        return lines + [primal] + self.zeros_after(target)

    def returns(self, stmt):
        lines = []
        if stmt.value is None:
            return [_line(copy.deepcopy(stmt), stmt)]
        exprs = TangentExpr(self, lines)
        value, tangent = exprs.emit(stmt.value)
        if not self.result_active() and self.key != self.tctx.program.head:
            return lines + [_line(ast.Return(value=value), stmt)]
        if tangent is None:
            tangent = self.zero(stmt.value, copy.deepcopy(value))
        pair = ast.Tuple(elts=[value, tangent], ctx=ast.Load())
        return lines + [_line(ast.Return(value=pair), stmt)]

    # -- the function --------------------------------------------------------------------------------
    def source(self):
        params = list(self.func.params) + [self.tangent_name(p) for p in self.tangent_params]
        body = []
        for p in self.func.params:
            if p in self.ctx.active and p not in self.tangent_params:
                body.append(assign(self.tangent_name(p), call("ad.zero_of", name(p))))
        body += self.block(self.func.node.body)
        label = f"{self.func.name} ({_short(self.func.path)}:{self.func.user.node.lineno})"
        given = ", ".join(self.tangent_name(p) for p in self.tangent_params) or "none"
        out = [f"def {self.function_name}({', '.join(params)}):",
               f'    """Tangent of {label}; tangents given: {given}."""']
        out += _text(body, 1)
        return "\n".join(out) + "\n"


_OP_TEXT = {ast.Pow: "**", ast.Mod: "%", ast.MatMult: "@"}


def _load(target):
    node = copy.deepcopy(target)
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    return node


def _line(node, original):
    node.source_line = getattr(original, "lineno", None)
    return node


def _short(path):
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _text(stmts, indent):
    """Source lines of statements, the primal ones with their line in the user's file."""
    pad = "    " * indent
    out = []
    for stmt in stmts:
        line = getattr(stmt, "source_line", None)
        comment = f"  # line {line}" if line else ""
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            header = ast.unparse(ast.fix_missing_locations(_header(stmt))).splitlines()[0]
            out.append(pad + header + comment)
            out += _text(stmt.body, indent + 1)
            if getattr(stmt, "orelse", None):
                out.append(pad + "else:")
                out += _text(stmt.orelse, indent + 1)
            continue
        text = ast.unparse(ast.fix_missing_locations(stmt)).splitlines()
        out.append(pad + text[0] + comment)
        out += [pad + rest for rest in text[1:]]
    return out


def _header(stmt):
    shell = copy.copy(stmt)
    shell.body, shell.orelse = [ast.Pass()], []
    return shell


def tangent_source(fn, wrt, head_kinds=None, values=None):
    """(source text of the tangent module, context) of ``fn`` along its parameters ``wrt``."""
    analysis = analyze(fn, wrt, head_kinds, values, scalar_result=False)
    tctx = ProgramContext(analysis.program, analysis.kinds, analysis.activity, analysis.summaries, [], {}, None)
    tctx.wrt, tctx.user_name = analysis.wrt, analysis.user_name
    _bindings(tctx)
    namer = _Namer(tctx.global_names)
    program = analysis.program
    keys = [k for k in program.order() if k in analysis.kinds.expr_kinds]
    tctx.names = {key: namer.fresh(f"{key}_d") for key in keys}
    tctx.global_names |= set(tctx.names.values())
    tctx.gens = {key: TangentGen(tctx, key) for key in keys}
    return _module_text(tctx), tctx


def _module_text(tctx):
    program = tctx.program
    head = program.functions[program.head]
    given = ", ".join(tctx.user_name.get(w, w) for w in tctx.wrt)
    lines = [f'"""Tangent of {head.name} ({head.path}), generated by adjoin {__version__}.', "",
             f"Tangents along: {given}.",
             "x_d is the tangent of x; f_d(args..., tangents...) returns (value, value_d) when its value",
             "carries a derivative; '# line N' points to the source.", '"""',
             "import math", "", "import numpy as np", "", "from adjoin.runtime import jvp as ad"]
    lines += _user_imports(tctx) + ["", ""]
    for _, (definition, user) in sorted(program.inactive.items()):
        lines += [f"# line {definition.lineno} of {user.name}, marked INACTIVE: no derivative flows through it",
                  ast.unparse(definition), "", ""]
    for key, gen in tctx.gens.items():
        lines += [gen.source(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _user_imports(tctx):
    by_module, plain = {}, []
    for local, (module, attr, value) in sorted(tctx.imports.items()):
        if attr is None:
            if not (module == "numpy" and local == "np" or module == "math" and local == "math"):
                plain.append(f"import {module} as {local}" if local != module else f"import {module}")
        else:
            by_module.setdefault(module, []).append((attr, local))
    out = [text + USER_IMPORT for text in sorted(plain)]
    for module in sorted(by_module):
        parts = ", ".join(a if a == l else f"{a} as {l}" for a, l in sorted(by_module[module]))
        out.append(f"from {module} import {parts}" + USER_IMPORT)
    return out
