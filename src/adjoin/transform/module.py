"""The generated module: every adjoint variant a placement needs, with its imports.

Pipeline from a user function to adjoint source text: load the program (frontend), infer kinds,
effects and activity (analysis), find the checkpoint sites and their decisions, iterate the
interprocedural TBR to a fixed point, then emit each function's variants.
"""
import ast
import dataclasses
import types
from dataclasses import dataclass

from ..version import __version__
from ..analysis.activity import infer_activity
from ..analysis.bound import refuse_unbound_reads
from ..analysis.effects import infer_effects
from ..analysis.kind_lattice import UNKNOWN, of_value
from ..analysis.kinds import infer_kinds
from ..analysis.polymorphism import specialize_on_kinds
from ..analysis.useful import restrict_to_useful
from ..analysis.views import inline_views
from ..errors import UsageError
from ..frontend.program import load_program
from ..frontend.source import MISSING, is_user_function, resolve
from .function import FunctionGen
from .loopsite import directive_words_before, find_loop_sites
from .tidy import drop_dead_resets
from .variants import emit
from .verify import VerifyPoints
from ..rules import RULES


@dataclass(frozen=True)
class Site:
    """A checkpoint site: a call between user functions, or a marked fragment."""
    id: str
    caller: str
    callee: str
    file: str
    line: int
    checkpointed: bool = True


def find_sites(program, nocheckpoint=()):
    """Sites in a stable order (callers from the head down, calls in source order).  A site is a
    call in the source: the copies of a function made for other argument kinds share its sites
    (ids name the functions as written, not their copies)."""
    sites, by_id = [], {}
    by_call = {}
    nocheckpoint = set(nocheckpoint)
    for key in program.order():
        func = program.functions[key]
        calls = [node for node in ast.walk(func.node) if isinstance(node, ast.Call)
                 and func.callees.get(id(node)) is not None and func.callees[id(node)].kind == "user"]
        calls.sort(key=lambda n: (n.lineno, n.col_offset))
        counts = {}
        seen_lines = {}
        for node in calls:
            callee = func.callees[id(node)].key
            target = program.functions[callee]
            position = (node.lineno, node.col_offset, target.site_name)
            if position in seen_lines:       # a call duplicated by normalization: same site
                by_call[id(node)] = seen_lines[position]
                continue
            if target.fragment_of is not None:
                # a checkpointed fragment: its id names the fragment, its line is the START directive
                label = target.fragment_label
                counts[label] = counts.get(label, 0) + 1
                line = target.user.node.lineno
                site = Site(f"{func.site_name}/{label}#{counts[label]}", key, callee, func.path, line,
                            label not in nocheckpoint)
            else:
                name = target.site_name
                counts[name] = counts.get(name, 0) + 1
                directive = _directive_before(func, node.lineno)
                checkpointed = not (directive == "NOCHECKPOINT" or callee in nocheckpoint
                                    or target.name in nocheckpoint)
                site = Site(f"{func.site_name}/{name}#{counts[name]}", key, callee, func.path, node.lineno,
                            checkpointed)
            site = by_id.setdefault(site.id, site)
            if site not in sites:
                sites.append(site)
            seen_lines[position] = site
            by_call[id(node)] = site
    return sites, by_call


def _directive_before(func, line):
    words = directive_words_before(func, line)
    return words[0].upper() if words else None


class ProgramContext:
    """Everything the generation of one adjoint module shares."""

    def __init__(self, program, kinds, activity, summaries, sites, site_of_call, placement, hooks=False):
        self.program = program
        self.kinds = kinds
        self.activity = activity
        self.summaries = summaries
        self.rules = RULES
        self.sites = sites
        self.site_of_call = site_of_call
        self.placement = placement
        self.hooks = hooks
        self.needed_in = {}
        self.needed_at_exit = {}
        self.global_names = set()
        self.functions_gen = {}
        self.names = {}

    def checkpointed(self, site):
        if self.placement is None:
            return site.checkpointed
        return self.placement.checkpointed(site.id)

    def loop_site(self, key, line):
        """The LoopSite of the loop at ``line`` of function ``key`` with this placement's schedule
        (none when placed not checkpointed: 0 snapshots, every iteration taped), or None when that
        loop is no loop site."""
        site = self.site_of_loop.get((key, line))
        if site is None:
            return None
        if not self.checkpointed(site):
            return dataclasses.replace(site, checkpointed=False, snapshots=0, disk=0)
        if self.placement is None:
            return site
        snapshots, disk = self.placement.schedule(site.id, (site.snapshots, site.disk))
        return dataclasses.replace(site, snapshots=snapshots, disk=disk)

    def primal_name(self, key):
        return self.names[(key, "primal")]

    def generated_name(self, key, mode):
        return self.names[(key, mode)]


@dataclass(frozen=True)
class Analysis:
    """What both modes start from: the program and its kinds, effects and activity."""
    program: object
    kinds: object
    summaries: object
    activity: object
    wrt: tuple
    user_name: dict          # the head's parameters: generated name -> the user's name


def analyze(fn, wrt, head_kinds=None, values=None, scalar_result=True):
    """Loads the program of ``fn`` (specialized on the functions among ``values``, the head's
    arguments, when given) and infers kinds, effects and activity for the parameters ``wrt``."""
    program = load_program(fn, values)
    head = program.functions[program.head]
    wrt = _wrt_names(head, wrt)
    if not head.result_names:
        raise UsageError(f"{head.path}:{head.user.node.lineno}: {head.name} returns nothing; the function "
                         "differentiated must return the scalar cost (e.g. 'return np.sum(...)')")
    refuse_unbound_reads(program)
    user_name = dict(zip(head.params, head.user_params))
    kinds_in = {p: UNKNOWN for p in head.params}
    if head_kinds:
        kinds_in.update({p: head_kinds[u] for p, u in user_name.items() if u in head_kinds})
    for p in wrt:
        kind = kinds_in.get(p)
        if kind is not None and kind.cat not in ("float", "array", "unknown"):
            raise UsageError(f"cannot differentiate with respect to {user_name[p]!r}: it is {kind} (ints, "
                             "bools and strings carry no derivative); pass a float or a float array")
        if kind is not None and kind.array and kind.dtype not in ("f", None):
            raise UsageError(f"cannot differentiate with respect to {p!r}: it is an array of integers; "
                             "pass a float array (e.g. x.astype(float))")
    kinds = infer_kinds(program, RULES, kinds_in)
    for _ in range(4):                     # a helper called with a number and with an array: two
        if not specialize_on_kinds(program, kinds):
            break
        kinds = infer_kinds(program, RULES, kinds_in)
    if inline_views(program, kinds):       # x = state[0]; x += v  ->  state[0] += v
        kinds = infer_kinds(program, RULES, kinds_in)
    result = kinds.result_kinds.get(program.head)
    if scalar_result and result is not None and (result.array and (result.rank or 0) > 0 or result.cat == "tuple"):
        raise UsageError(f"{head.path}:{head.user.node.lineno}: {head.name} returns {result}; adjoin "
                         "differentiates functions returning a scalar cost (e.g. 'return np.sum(...)')")
    summaries = infer_effects(program, kinds)
    activity = infer_activity(program, kinds, RULES, summaries, wrt)
    return Analysis(program, kinds, summaries, activity, wrt, user_name)


def build(fn, wrt, placement=None, nocheckpoint=(), head_kinds=None, hooks=False, verify=False, locate=False,
          values=None):
    """Analyses the program of ``fn`` for its adjoint; returns (ProgramContext, wrt names)."""
    analysis = analyze(fn, wrt, head_kinds, values)
    program, kinds, summaries, activity = analysis.program, analysis.kinds, analysis.summaries, analysis.activity
    wrt, user_name = analysis.wrt, analysis.user_name
    restrict_to_useful(program, kinds, activity, RULES, summaries)
    sites, site_of_call = find_sites(program, nocheckpoint)
    pctx = ProgramContext(program, kinds, activity, summaries, sites, site_of_call, placement, hooks)
    pctx.loop_sites, pctx.site_of_loop = find_loop_sites(program, set(nocheckpoint))
    pctx.user_name = user_name      # the head's parameters: generated name -> the user's name
    pctx.verify = verify or locate      # locating non-finite adjoints checks them with the verifier
    pctx.locate = locate
    pctx.verify_points = VerifyPoints()
    _bindings(pctx)
    for key in program.order():
        if key in kinds.expr_kinds:
            gen = FunctionGen(pctx, key)
            pctx.functions_gen[key] = gen
    for gen in pctx.functions_gen.values():
        gen.prepare()
    for _ in range(30):
        changed = False
        for key, gen in pctx.functions_gen.items():
            exit_needs, callee_needs = gen.analyze()
            if exit_needs != pctx.needed_at_exit.get(key, set()):
                pctx.needed_at_exit[key] = exit_needs
                changed = True
            for callee, params in callee_needs.items():
                current = pctx.needed_in.setdefault(callee, set())
                if not params <= current:
                    current |= params
                    changed = True
        if not changed:
            break
        for gen in pctx.functions_gen.values():
            for piece in gen.pieces.values():
                if piece.call is not None:
                    piece.effect = gen._call_effect(piece.call)
    return pctx, wrt


def _wrt_names(head, wrt):
    """The head's parameters named by ``wrt`` (names as the user wrote them, or positions), as the
    generated code names them."""
    internal = dict(zip(head.user_params, head.params))
    return tuple(internal[w] for w in _user_wrt_names(head.user_params, head.name, wrt))


def _user_wrt_names(params, head_name, wrt):
    if isinstance(wrt, (str, int)):
        wrt = (wrt,)
    if not isinstance(wrt, (tuple, list)):
        raise UsageError(f"wrt must name the parameters to differentiate with respect to (a name, a "
                         f"position, or a tuple of them), not {wrt!r}; {head_name} has parameters "
                         f"{', '.join(params)}")
    names = []
    for w in wrt:
        if isinstance(w, int) and not isinstance(w, bool):
            if not 0 <= w < len(params):
                raise UsageError(f"wrt position {w} is out of range: {head_name}({', '.join(params)}) "
                                 f"has {len(params)} parameters")
            names.append(params[w])
        elif isinstance(w, str):
            if w not in params:
                raise UsageError(f"wrt names {w!r}, but {head_name}({', '.join(params)}) has no parameter "
                                 f"{w!r}; choose among {', '.join(params)}")
            names.append(w)
        else:
            raise UsageError(f"wrt must name parameters (strings) or give their positions (ints), not {w!r}")
    if not names:
        raise UsageError("wrt is empty: name at least one parameter to differentiate with respect to")
    if len(set(names)) != len(names):
        raise UsageError(f"wrt names a parameter twice: {names}")
    return tuple(names)


def _bindings(pctx):
    """Names the generated module binds: user functions (for advances), module constants, modules."""
    program = pctx.program
    imports = {}         # local name -> (module name, attribute or None)
    scopes = [(func.node, func) for func in program.functions.values()]
    scopes += [(definition, _Scope(user, definition)) for definition, user in program.inactive.values()]
    for key, func in program.functions.items():
        if func.user.primal_source is None:        # fragments and lifted defs are written out
            imports[key] = (func.user.fn.__module__, func.user.fn.__name__, func.user.fn)
    for tree, func in scopes:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in func.locals:
                if node.id not in func.user.globals:
                    continue  # a builtin
                value = resolve(node, func.user.globals)
                if value is MISSING or node.id in program.functions:
                    continue
                if isinstance(value, types.ModuleType):
                    entry = (value.__name__, None, value)
                elif isinstance(value, types.FunctionType) and node.id in {f.user.fn.__name__ for f in
                                                                         program.functions.values()}:
                    continue
                elif is_user_function(value):
                    entry = (value.__module__, value.__name__, value)   # a function passed as a value
                elif callable(value) and not isinstance(value, type):
                    if not isinstance(func, _Scope):
                        continue     # NumPy/builtin functions are reached through their module
                    entry = (func.user.fn.__module__, node.id, value)   # anything an INACTIVE line calls
                else:
                    entry = (func.user.fn.__module__, func.user.alias_names.get(node.id, node.id), value)
                previous = imports.get(node.id)
                if previous is not None and previous[2] is not value and not (
                        _same_constant(previous[2], value)):
                    raise UsageError(f"module-level name {node.id!r} means different things in "
                                     f"{previous[0]} and {entry[0]}; rename one of them")
                imports[node.id] = entry
    pctx.imports = imports
    # generated functions are named apart from every name of the user's (sq_b may be a local)
    taken = set(imports) | {"np", "math", "ad", "tape", "prof", "verify"} | set().union(
        *(f.locals for f in program.functions.values()))
    pctx.global_names = set(taken)
    from ..frontend.names import Namer as _Namer
    namer = _Namer(taken)
    for key in program.functions:
        pctx.names[(key, "primal")] = key
        for mode, suffix in (("b", "_b"), ("fwd", "_fwd"), ("bwd", "_bwd")):
            pctx.names[(key, mode)] = namer.fresh(f"{key}{suffix}")
    pctx.global_names |= {v for v in pctx.names.values()}


class _Scope:
    """A statement marked INACTIVE, outlined as a function: the names it binds for itself."""

    def __init__(self, user, definition):
        self.user = user
        self.locals = frozenset(a.arg for a in definition.args.args) | frozenset(
            n.id for n in ast.walk(definition) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))


def _same_constant(a, b):
    try:
        import numpy as np
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.array_equal(a, b)
        return a == b
    except Exception:
        return False


USER_IMPORT = "  # the user's code"


def bindings(pctx):
    """The objects the user-import lines bind, for running the module in this process."""
    return {local: value for local, (module, attr, value) in pctx.imports.items()}


def variants(pctx):
    """{key: set of 'b'/'fwd'/'bwd'} the placement needs (the head's joint adjoint first)."""
    needed = {pctx.program.head: {"b"}}
    pctx.plain_calls = set()
    for key in pctx.program.order():
        if key not in needed or key not in pctx.functions_gen:
            continue
        gen = pctx.functions_gen[key]
        for piece in gen.pieces.values():
            if piece.call is None or piece.call.passive:
                continue
            modes = {"b"} if pctx.checkpointed(piece.call.site) else {"fwd", "bwd"}
            needed.setdefault(piece.call.callee, set()).update(modes)
        for piece in gen.pieces.values():
            # profiled, a split call's first instances run its primal too (calls.py, _sampled)
            if piece.call is not None and (piece.call.passive or pctx.checkpointed(piece.call.site) or pctx.hooks):
                pctx.plain_calls.add(piece.call.callee)
        pctx.plain_calls |= gen.advanced_calls
    return needed


def _docstring(pctx, head, wrt):
    """The generated module's docstring: what it differentiates, and every site's decision."""
    on = [s.id for s in pctx.sites if pctx.checkpointed(s)]
    off = [s.id for s in pctx.sites if not pctx.checkpointed(s)]
    lines = [f'"""Adjoint of {head.name} ({head.path}), generated by adjoin {__version__}.', "",
             f"Differentiated with respect to: {', '.join(pctx.user_name.get(w, w) for w in wrt)}.",
             f"Checkpointed sites (joint mode): {', '.join(on) if on else 'none'}.",
             f"Sites not checkpointed (split mode): {', '.join(off) if off else 'none'}."]
    for site in pctx.loop_sites:
        placed = pctx.loop_site(site.caller, site.line)
        lines.append(f"Loop site {site.id}: " + (f"binomial checkpointing, {placed.snapshots} snapshots in memory, "
                                                  f"{placed.disk} on disk." if placed.checkpointed else
                                                  "not checkpointed, every iteration taped."))
    lines.append("Every function takes the tape first; x_b is the adjoint of x; f_b is the joint adjoint of f,")
    lines.append("f_fwd / f_bwd its forward and backward sweeps in split mode; '# line N' points to the source.")
    lines.append('"""')
    return lines


def module_source(pctx, wrt):
    """The text of the adjoint module."""
    program = pctx.program
    head = program.functions[program.head]
    needed = variants(pctx)
    lines = []
    lines.extend(_docstring(pctx, head, wrt))
    lines.append("import math")
    lines.append("")
    lines.append("import numpy as np")
    lines.append("")
    lines.append("from adjoin.runtime import vjp as ad")
    by_module = {}
    plain_imports = []
    for local, (module, attr, value) in sorted(pctx.imports.items()):
        if attr is None:
            if module == "numpy" and local == "np" or module == "math" and local == "math":
                continue
            plain_imports.append(f"import {module} as {local}" if local != module else f"import {module}")
        else:
            by_module.setdefault(module, []).append((attr, local))
    for text in sorted(plain_imports):
        lines.append(text + USER_IMPORT)
    for module in sorted(by_module):
        parts = ", ".join(a if a == l else f"{a} as {l}" for a, l in sorted(by_module[module]))
        lines.append(f"from {module} import {parts}" + USER_IMPORT)
    lines.append("")
    lines.append("")
    for name, (definition, user) in sorted(program.inactive.items()):
        lines.append(f"# line {definition.lineno} of {user.name}, marked INACTIVE: no derivative flows through it")
        lines.append(ast.unparse(definition))
        lines.append("")
        lines.append("")
    for key in program.order():
        func = program.functions[key]
        if func.user.primal_source is not None and key in pctx.plain_calls:
            what = (f"the checkpointed fragment of {func.fragment_of}" if func.fragment_of is not None else
                    f"the function {func.user.fn.__qualname__}, nested in the user's code,")
            lines.append(f"# {what} at line {func.user.node.lineno}, as a function: its advance")
            lines += [func.user.primal_source, "", ""]
    for key in program.order():
        modes = needed.get(key)
        if not modes or key not in pctx.functions_gen:
            continue
        gen = pctx.functions_gen[key]
        text = emit(gen, [m for m in ("b", "fwd", "bwd") if m in modes], head=(key == program.head))
        lines.append(text)
    return drop_dead_resets("\n".join(lines).rstrip() + "\n", unparsed=USER_IMPORT)


def head_kinds_from_example(head_params, example):
    """Kinds of the head's parameters from example argument values."""
    return {p: of_value(example[p]) for p in head_params if p in example}
