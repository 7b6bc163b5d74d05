"""Effects of functions on arrays: which parameters they read and update in place, and aliasing.

The adjoint treats every name as holding its own value.  That is only right when no array that a
name will still read is updated in place through another name (a view ``v = a[1:]``, an alias
``b = a``, the same array passed twice).  A points-to analysis (storage objects: each parameter's
array, each allocating expression — its most recent array and the older ones — and module
arrays) finds the arrays a write reaches; a write that reaches an array another live name holds
is refused, never differentiated wrongly.  The same analysis gives the interprocedural summaries:
parameters whose arrays a function reads and writes, and which parameters its result may alias.
"""
import ast
from dataclasses import dataclass, field

from ..frontend.calls import other_rows as _other_rows
from ..frontend.problems import Problems
from ..rules import RULES
from .activity import storage_name
from .calls import bind_rule_call
from .flow import Backward, Forward

# Primitives whose result may share memory with their first argument: the table says which.
VIEW_RULES = frozenset(key for key, entry in RULES.items() if entry.view)


@dataclass
class Summary:
    """What a function does to its parameters' arrays."""
    params: tuple
    reads: frozenset = frozenset()        # params whose values on entry it may read
    writes: frozenset = frozenset()       # params whose entry arrays it updates in place
    result_aliases: tuple = ()            # per result: params the result may share memory with
    rewrites: frozenset = frozenset()     # written params it may write after reading their entry
                                          # values: the ones a checkpointed call must snapshot
    kills: frozenset = frozenset()        # params whose every element it overwrites (before reading)
    write_regions: tuple = ()             # (param, region) pairs: every write to param is in region,
                                          # a constant index such as "1:-1, 1:-1"
    shared_results: tuple = ()            # (i, j) pairs of results that may share memory
    # per result: the parameter whose entry array it is on every path (``return p`` after updating
    # p in place: ``p = f(p)`` keeps p the caller's array), else None
    result_is: tuple = ()

    def results_sharing(self, k):
        """Result k and the results that may share memory with it."""
        return {k} | {j for i, j in self.shared_results if i == k} | {i for i, j in self.shared_results if j == k}


@dataclass
class Summaries:
    """Summaries of every function of a program, and per-statement liveness."""
    by_key: dict = field(default_factory=dict)
    live_after: dict = field(default_factory=dict)     # key -> {id(stmt): frozenset}
    # key -> {id(stmt): names that may share memory with an array the statement updates in place}:
    # the write changes their values too, which TBR must know when the backward sweep needs them
    write_aliases: dict = field(default_factory=dict)
    # key -> groups (frozensets) of names that may share memory somewhere in the function
    sharing: dict = field(default_factory=dict)

    def params(self, key):
        return self.by_key[key].params

    def writes(self, key):
        return self.by_key[key].writes

    def reads(self, key):
        return self.by_key[key].reads


def infer_effects(program, kinds):
    """Summaries for every function (callees first), refusing harmful aliasing."""
    summaries = Summaries()
    problems = Problems()
    for key in reversed(program.order()):
        func = program.functions[key]
        expr_kinds = kinds.expr_kinds.get(key, {})
        live = Liveness(func, outputs=key != program.head).compute()
        summaries.live_after[key] = live
        analysis = PointsTo(func, expr_kinds, summaries, live, problems,
                            read_after=Liveness(func, outputs=False).compute())
        end_env = analysis.run(func.node.body, {p: frozenset({f"P:{p}"}) for p in func.params})
        if key != program.head:          # the head's parameters are private copies: no caller reads them
            _refuse_rebound_outputs(func, analysis.written_params, end_env or {}, problems)
        summaries.write_aliases[key] = {k: frozenset(v) for k, v in analysis.write_aliases.items()}
        summaries.sharing[key] = sharing_groups(list(analysis.env_before.values()) + [end_env or {}])
        result_aliases = tuple(
            frozenset(_root(o)[2:] for o in analysis.result_objects.get(name, ()) if o.startswith("P:"))
            for name in func.result_names)
        access = EntryAccess(func, expr_kinds, summaries, analysis.env_before)
        end = access.run(func.node.body, (frozenset(), frozenset()))
        kills = end[0] if end is not None else frozenset()
        regions = tuple(sorted((p, r) for p, r in access.regions.items()
                               if r is not None and p in analysis.written_params))
        objects = [analysis.result_objects.get(name, frozenset()) for name in func.result_names]
        shared = tuple((i, j) for i in range(len(objects)) for j in range(i + 1, len(objects))
                       if share(objects[i], objects[j]))
        result_is = tuple(_only_parameter(objs) for objs in objects)
        summaries.by_key[key] = Summary(func.params, frozenset(access.reads),
                                        frozenset(analysis.written_params), result_aliases,
                                        frozenset(access.rewrites) & frozenset(analysis.written_params),
                                        frozenset(kills) & frozenset(analysis.written_params), regions,
                                        shared, result_is)
    problems.raise_if_any(program.head)
    return summaries


def _only_parameter(objects):
    """The parameter p when ``objects`` is exactly {P:p}, p's whole entry array (not a view of it,
    not maybe a new array), else None."""
    if len(objects) == 1:
        (obj,) = objects
        if obj.startswith("P:") and _root(obj) == obj:
            return obj[2:]
    return None


def sharing_groups(envs):
    """Groups of names that may hold the same array (or parts of one) in some state of ``envs``:
    names are joined when their objects have a common root, rows of one array included."""
    parent = {}

    def find(n):
        while parent.setdefault(n, n) != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for env in envs:
        holders = {}
        for name, objs in env.items():
            if name == DISTINCT:
                continue
            for obj in objs:
                holders.setdefault(_root(obj), []).append(name)
        for names in holders.values():
            for other in names[1:]:
                parent[find(other)] = find(names[0])
    groups = {}
    for name in parent:
        groups.setdefault(find(name), set()).add(name)
    return tuple(frozenset(g) for g in groups.values() if len(g) > 1)


def _refuse_rebound_outputs(func, written, end_env, problems):
    """A parameter updated in place must name the caller's array at the end, where the caller's
    adjoint of that array comes in (normalization renames a rebinding at the top level)."""
    for param in sorted(written):
        if param in end_env and end_env[param] != frozenset({f"P:{param}"}):
            problems.add(func.user, func.user.node,
                         f"{func.name!r} updates its parameter {param!r} in place and may rebind it to a "
                         "new array on some path", f"give the new array a name of its own (not {param!r})")


# ---------------------------------------------------------------------------------------------
# liveness

def names_read(node):
    """Local names an expression reads."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def statement_uses_defs(stmt):
    """(names read, names rebound) by a simple statement."""
    uses, defs = set(), set()
    if isinstance(stmt, ast.Assign):
        uses |= names_read(stmt.value)
        for target in stmt.targets:
            if isinstance(target, ast.Subscript):
                uses |= names_read(target)
            else:
                defs |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    elif isinstance(stmt, ast.AugAssign):
        uses |= names_read(stmt.value) | names_read(stmt.target)
        if isinstance(stmt.target, ast.Name):
            uses.add(stmt.target.id)
            defs.add(stmt.target.id)
    elif isinstance(stmt, (ast.Expr, ast.Return, ast.Assert)):
        value = stmt.value if not isinstance(stmt, ast.Assert) else stmt.test
        if value is not None:
            uses |= names_read(value)
    return uses, defs


class Liveness(Backward):
    """Names whose current value may be read later, after each simple statement.  A callee's
    parameters are read at its end too: the caller sees its arrays as the callee left them."""

    def __init__(self, func, outputs=True):
        self.func = func
        self.after = {}
        self.outputs = outputs

    def compute(self):
        end = set(self.func.result_names) | (set(self.func.params) if self.outputs else set())
        self.run(self.func.node.body, frozenset(end))
        return self.after

    def join(self, a, b):
        return a | b

    def transfer(self, stmt, state):
        self.after[id(stmt)] = self.after.get(id(stmt), frozenset()) | state
        uses, defs = statement_uses_defs(stmt)
        return (state - defs) | uses

    def condition(self, stmt, state):
        return state | names_read(stmt.test)

    def loop_top(self, stmt, state):
        if isinstance(stmt, ast.For):
            return state - {stmt.target.id}
        return state | names_read(stmt.test)

    def loop_before(self, stmt, state):
        if isinstance(stmt, ast.For):
            return state | names_read(stmt.iter)
        return state | names_read(stmt.test)


# ---------------------------------------------------------------------------------------------
# points-to

class PointsTo(Forward):
    """Flow-sensitive storage objects of array names; checks every in-place write."""

    def __init__(self, func, expr_kinds, summaries, live_after, problems, read_after=None):
        self.func = func
        self.kinds = expr_kinds
        self.summaries = summaries
        self.live_after = live_after
        # names read later by the function itself (live_after adds the parameters at the end)
        self.read_after = live_after if read_after is None else read_after
        self.problems = problems
        self.read_params = set()
        self.written_params = set()
        self.result_objects = {}
        self.globals = func.user.globals
        self.env_before = {}
        self.write_aliases = {}     # id(stmt) -> names sharing memory with what it writes in place

    def join(self, a, b):
        out = {}
        for name in (set(a) | set(b)) - {DISTINCT}:
            out[name] = a.get(name, frozenset()) | b.get(name, frozenset())
        facts = _facts(a) & _facts(b)
        if facts:
            out[DISTINCT] = facts
        return out

    def maybe_array(self, node):
        kind = self.kinds.get(node)
        return kind is None or kind.maybe_array or kind.cat in ("tuple", "list")

    # reads -------------------------------------------------------------------------------------
    def note_reads(self, node, env):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                for obj in env.get(sub.id, ()):
                    if obj.startswith("P:"):
                        self.read_params.add(_root(obj)[2:])

    # objects of an expression -----------------------------------------------------------------
    def objects(self, node, env):
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id not in self.func.locals:
                if _holds_arrays(self.globals.get(node.id)):
                    return frozenset({f"G:{node.id}"})
            return frozenset()
        if not self.maybe_array(node):
            return frozenset()
        if isinstance(node, ast.Subscript):
            if _basic_index(node.slice, self.kinds):
                row = _constant_row(node.slice)       # x[0], x[1, :]: one row, apart from the others
                base = self.objects(node.value, env)
                return base if row is None else frozenset(o if ROW in o else f"{o}{ROW}{row}" for o in base)
            if _advanced_index(node.slice, self.kinds):
                return frozenset({f"A:{id(node)}:new"})
            # an index of unknown kind may be an int: the result may be a view
            return self.objects(node.value, env) | {f"A:{id(node)}:new"}
        if isinstance(node, ast.Attribute):
            if node.attr in ("T", "real"):
                return self.objects(node.value, env)
            return frozenset()
        if isinstance(node, ast.IfExp):
            return self.objects(node.body, env) | self.objects(node.orelse, env)
        if isinstance(node, ast.Call):
            callee = self.func.callees.get(id(node))
            if callee is not None and callee.kind == "rule" and callee.key in VIEW_RULES:
                return self.view_base(node, callee.key, env) | {f"A:{id(node)}:new"}
            if callee is not None and callee.kind == "user":
                return frozenset().union(*self.call_results(node, callee, env))
        if isinstance(node, (ast.Tuple, ast.List)):
            out = frozenset()
            for elt in node.elts:
                out |= self.objects(elt, env)
            return out
        if isinstance(node, ast.Constant):
            return frozenset()
        return frozenset({f"A:{id(node)}:new"})

    def view_base(self, node, key, env):
        """Objects of the array a view primitive's result may share memory with (its first
        parameter, however it is passed), or of every argument when the call cannot be bound."""
        rule = RULES.get(key)
        try:
            bound, _ = bind_rule_call(rule, node, key)
            base = bound.get(rule.params[0])
        except (ValueError, AttributeError, IndexError):
            base = None
        if base is None:
            parts = list(node.args) + [kw.value for kw in node.keywords]
            return frozenset().union(*(self.objects(p, env) for p in parts)) if parts else frozenset()
        return self.objects(base, env)

    def call_results(self, node, callee, env):
        """Objects of each result of a user call: a fresh array per result (results the callee may
        build from one array share it), and the arguments a result may be a view of."""
        summary = self.summaries.by_key.get(callee.key)
        if summary is None:
            return [frozenset({f"A:{id(node)}:new"})]
        out = []
        for k, aliases in enumerate(summary.result_aliases or ((),)):
            exact = summary.result_is[k] if k < len(summary.result_is) else None
            if exact is not None and summary.params.index(exact) < len(node.args):
                out.append(self.objects(node.args[summary.params.index(exact)], env))
                continue            # the argument's own array, returned
            objs = {f"A:{id(node)}.{j}:new" for j in summary.results_sharing(k)}
            for param in aliases:
                position = summary.params.index(param)
                if position < len(node.args):
                    objs |= self.objects(node.args[position], env)
            out.append(frozenset(objs))
        return out

    def allocate(self, node, env):
        """Recency: arrays made earlier by this expression become 'old'."""
        made = {str(id(sub)) for sub in ast.walk(node)}

        def older(obj):
            root, row = _root(obj), obj[len(_root(obj)):]
            fresh = root.startswith("A:") and root.endswith(":new") and root[2:-4].split(".")[0] in made
            return root[:-4] + ":old" + row if fresh else obj
        return {name: objs if name == DISTINCT else frozenset(older(o) for o in objs) for name, objs in env.items()}

    # statements ---------------------------------------------------------------------------------
    def loop_entry(self, loop, state):
        state = dict(state)
        if isinstance(loop, ast.For):
            state[loop.target.id] = frozenset()
            self.note_reads(loop.iter, state)
        else:
            self.note_reads(loop.test, state)
        return state

    def before_if(self, stmt, state):
        self.note_reads(stmt.test, state)
        return state

    def transfer(self, stmt, env):
        previous = self.env_before.get(id(stmt))
        self.env_before[id(stmt)] = env if previous is None else self.join(previous, env)
        if isinstance(stmt, ast.Assign):
            value = stmt.value
            self.note_reads(value, env)
            callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
            if callee is not None and callee.kind == "user":
                self.user_call(stmt, value, callee, env)
            objs = self.objects(value, env)
            env = self.allocate(value, env)
            for target in stmt.targets:
                env = self.assign(stmt, target, value, objs, env)
            return env
        if isinstance(stmt, ast.AugAssign):
            self.note_reads(stmt.value, env)
            self.note_reads(stmt.target, env) if isinstance(stmt.target, ast.Subscript) else None
            target = stmt.target
            if isinstance(target, ast.Name):
                for obj in env.get(target.id, ()):
                    if obj.startswith("P:"):
                        self.read_params.add(_root(obj)[2:])
                kind = self.kinds.get(target)
                if kind is not None and kind.array:
                    self.write(stmt, target.id, env)
                    return env
                if kind is not None and kind.maybe_array and env.get(target.id):
                    self.problems.add(self.func.user, stmt,
                                      f"cannot tell whether {target.id!r} is an array (updated in place by "
                                      f"'{ast.unparse(stmt).split('=')[0].strip()}=') or a number",
                                      "give the head arguments of definite kinds, or write "
                                      f"'{target.id} = {target.id} ...' explicitly")
                env = dict(env)
                env[target.id] = frozenset({f"A:{id(stmt)}:new"}) if kind is None or kind.maybe_array else frozenset()
                return env
            self.note_reads(target.value, env)
            if not self.refuse_item_store(stmt, target):
                self.write(stmt, storage_name(target), env)
            return env
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            self.note_reads(value, env)
            callee = self.func.callees.get(id(value))
            if callee is not None and callee.kind == "user":
                self.user_call(stmt, value, callee, env)
            return env
        if isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.note_reads(stmt.value, env)
                for name in self.func.result_names:
                    self.result_objects[name] = self.result_objects.get(name, frozenset()) | env.get(name, frozenset())
            return env
        if isinstance(stmt, ast.Assert):
            self.note_reads(stmt.test, env)
        return env

    def assign(self, stmt, target, value, objs, env):
        if isinstance(target, ast.Name):
            renamed = _rebind_facts(env, [target.id], [value.id if isinstance(value, ast.Name) else None])
            env = dict(env)
            env[target.id] = objs if self.maybe_array(target) else frozenset()
            env[DISTINCT] = renamed
            return env
        if isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else []
            renamed = _rebind_facts(env, [e.id for e in target.elts if isinstance(e, ast.Name)],
                                    [v.id if isinstance(v, ast.Name) else None for v in values])
            env = dict(env)
            env[DISTINCT] = renamed
            callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
            results = self.call_results(value, callee, env) if callee is not None and callee.kind == "user" else ()
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                parts = [self.objects(v, env) for v in value.elts]
            elif len(results) == len(target.elts):
                parts = results
            else:
                parts = [objs] * len(target.elts)
            for elt, part in zip(target.elts, parts):
                if isinstance(elt, ast.Name):
                    env[elt.id] = part if self.maybe_array(elt) else frozenset()
            return env
        if isinstance(target, ast.Subscript):
            self.note_reads(target.slice, env)
            if not self.refuse_item_store(stmt, target):
                self.write(stmt, storage_name(target), env)
        return env

    def refuse_item_store(self, stmt, target):
        """Lists are tuples to the analyses: their items are never assigned (True: refused)."""
        kind = self.kinds.get(target.value)
        if kind is None or kind.cat != "tuple":
            return False
        self.problems.add(self.func.user, stmt, f"assigning into an item of the list {ast.unparse(target.value)!r}",
                          "build a new list with every item, or keep the items in names or in an array")
        return True

    def write(self, stmt, name, env):
        """An in-place write through ``name``: record parameter writes, refuse harmful aliasing."""
        if name is None:
            return
        objs = env.get(name)
        if objs is None:
            if name not in self.func.locals:
                self.problems.add(self.func.user, stmt, f"writing into module-level array {name!r}",
                                  "module-level constants are read-only; copy the array into a local first")
            return
        for obj in objs:
            if obj.startswith("G:"):
                self.problems.add(self.func.user, stmt, f"writing into module-level array {_root(obj)[2:]!r} "
                                  f"through {name!r}", "copy the array into a local first")
            if obj.startswith("P:"):
                self.written_params.add(_root(obj)[2:])
        params = {_root(o) for o in objs if o.startswith("P:")}
        if params and len(params) < len({_root(o) for o in objs}) or len(params) > 1:
            self.problems.add(self.func.user, stmt,
                              f"{name!r} may or may not be the array passed in as parameter "
                              f"{sorted(p[2:] for p in params)[0]!r} when it is updated in place here",
                              "copy the parameter into a new array before updating it, on every path")
        live = self.live_after.get(id(stmt), frozenset())
        aliases = self.write_aliases.setdefault(id(stmt), set())
        # a result variable is assigned where the function returns, and only jumps to its end run
        # after that (normalization): no write ever happens while it holds a value
        others = [n for n in env if n not in (name, DISTINCT) and n not in self.func.result_names]
        for other in others:
            if not _distinct(env, name, other):
                aliases.add(other)
        read = self.read_after.get(id(stmt), frozenset())
        for other in others:
            if other not in live:
                continue
            seen = env
            if other in self.func.params and other not in read:
                # live only because the caller sees its own array at the end: what the name
                # holds now (w = np.tanh(v) rebinds it) does not matter, that array does
                seen = dict(env, **{other: frozenset(o for o in env.get(other, ()) if _root(o) == f"P:{other}")})
            if not _distinct(seen, name, other):
                self.problems.add(self.func.user, stmt,
                                  f"{name!r} is updated in place while {other!r}, which may share its memory "
                                  f"(a view or another name for the same array), is still used",
                                  f"make one of them a copy (e.g. '{other} = {other}.copy()')")
                break

    def user_call(self, stmt, call, callee, env):
        summary = self.summaries.by_key.get(callee.key)
        if summary is None:
            return
        written = []
        for k, param in enumerate(summary.params):
            if k >= len(call.args):
                break
            arg = call.args[k]
            if param in summary.reads:
                for obj in self.objects(arg, env):
                    if obj.startswith("P:"):
                        self.read_params.add(_root(obj)[2:])
            if param in summary.writes:
                name = storage_name(arg)
                written.append((k, param, arg))
                if name is not None and (isinstance(arg, ast.Name) or _basic_index(arg.slice, self.kinds)):
                    self.write(stmt, name, env)
        for k, param, arg in written:
            mine = self.objects(arg, env)
            for j, other in enumerate(call.args):
                if j == k:
                    continue
                roots = storage_name(arg), storage_name(other)
                known_apart = None not in roots and _distinct(env, *roots) or _other_rows(arg, other)
                if share(mine, self.objects(other, env)) and not known_apart:
                    self.problems.add(self.func.user, stmt,
                                      f"the same array is passed as {param!r} and as argument {j + 1} of "
                                      f"{callee.key}, which updates {param!r} in place",
                                      "pass a copy for one of them")
                    return
                # the reversal evaluates argument j again, after the call: it must not read memory
                # the call changes through another name
                shared = sorted(n for n in names_read(other) if share(mine, env.get(n, frozenset()))
                                and not (roots[0] is not None and _distinct(env, roots[0], n))
                                and not known_apart)
                if shared:
                    self.problems.add(self.func.user, stmt,
                                      f"argument {j + 1} of {callee.key} reads {shared[0]!r}, which shares "
                                      f"memory with {ast.unparse(arg)!r} that {callee.key} updates in place",
                                      f"compute argument {j + 1} into a variable of its own before the call")
                    return


# An object may be one row of an array ("P:state#r0"): it shares memory with the whole array
# and with itself, not with the array's other rows.
ROW = "#r"


def _holds_arrays(value):
    """A module-level value through which an array can be reached: an array, or a tuple or dict
    holding one (P = {"work": np.zeros(n)}: b = P["work"] is that array)."""
    if hasattr(value, "shape"):
        return True
    if isinstance(value, dict):
        value = tuple(value.values())
    return isinstance(value, tuple) and any(_holds_arrays(v) for v in value)


def _root(obj):
    return obj.split(ROW, 1)[0]


def _overlap(a, b):
    if _root(a) != _root(b):
        return False
    return ROW not in a or ROW not in b or a == b


def share(objs_a, objs_b):
    """May two sets of objects share memory (rows of one array do not share with each other)?"""
    if objs_a & objs_b:
        return True
    return any(_overlap(a, b) for a in objs_a for b in objs_b)


def _constant_row(index):
    first = index.elts[0] if isinstance(index, ast.Tuple) and index.elts else index
    if isinstance(first, ast.Constant) and isinstance(first.value, int) and not isinstance(first.value, bool) \
            and first.value >= 0:
        return first.value
    return None


# Distinctness facts: pairs of names known to hold two different arrays even where their objects
# overlap after a join (u, u_new = u_new, u: each may hold either array, never the same one).
DISTINCT = "<distinct>"


def _distinct(env, a, b):
    objs_a, objs_b = env.get(a, frozenset()), env.get(b, frozenset())
    return not share(objs_a, objs_b) or frozenset((a, b)) in env.get(DISTINCT, frozenset())


def _facts(env):
    """Every distinctness fact of a state: those kept, and those its objects show."""
    names = sorted(n for n, objs in env.items() if n != DISTINCT and objs)
    shown = {frozenset((a, b)) for i, a in enumerate(names) for b in names[i + 1:] if not share(env[a], env[b])}
    return frozenset(shown) | env.get(DISTINCT, frozenset())


def _rebind_facts(env, targets, values):
    """The facts after ``targets`` are bound to ``values`` (names, or None for a new value):
    facts about untouched names stay; a target bound to a name inherits that name's facts."""
    old = _facts(env)
    moved = set(targets)
    kept = {f for f in old if not f & moved}
    source = dict(zip(targets, values))
    for t in targets:
        v = source.get(t)
        if v is None:
            continue
        for w in (n for n in env if n not in moved and n != DISTINCT):
            if frozenset((v, w)) in old:
                kept.add(frozenset((t, w)))
        for u in targets:
            if u != t and source.get(u) is not None and frozenset((v, source[u])) in old:
                kept.add(frozenset((t, u)))
    return frozenset(kept)


def _basic_index(index, kinds):
    """True when indexing with ``index`` gives a view (ints, slices, None, Ellipsis only)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Slice):
            continue
        if isinstance(part, ast.Constant) and (part.value is None or part.value is Ellipsis
                                                or isinstance(part.value, int)):
            continue
        if isinstance(part, ast.Attribute) and part.attr == "newaxis":
            continue
        kind = kinds.get(part)
        if kind is not None and kind.cat in ("int",):
            continue
        return False
    return True


def _advanced_index(index, kinds):
    """True when indexing with ``index`` surely copies (a part is an array, a list or a tuple)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        kind = kinds.get(part)
        if isinstance(part, (ast.List, ast.Compare)) or kind is not None and (
                kind.array or kind.cat == "tuple"):
            return True
    return False


class EntryAccess(Forward):
    """Which parameters' values on entry a function reads, and which it writes after reading.

    State: (params whose every element is overwritten, on every path; params whose entry values
    may have been read).  A write to a parameter after a read of its entry values makes it part of
    the snapshot of a checkpointed call: its re-run must start from the values on entry.  A
    parameter written before it is read (a work array) needs no snapshot, and one read but never
    written after that read keeps its values until the call is reversed, if its caller keeps them.
    """

    def __init__(self, func, kinds, summaries, env_before):
        self.func = func
        self.kinds = kinds
        self.summaries = summaries
        self.env_before = env_before
        self.reads = set()
        self.rewrites = set()
        self.regions = {}         # param -> the one constant region all its writes touch, or None

    def join(self, a, b):
        return (a[0] & b[0], a[1] | b[1])

    def region(self, params, region):
        for p in params:
            if p in self.regions and self.regions[p] != region:
                self.regions[p] = None
            else:
                self.regions.setdefault(p, region)

    def params_of(self, node, env):
        """Parameters whose entry arrays (or values) an expression designates."""
        out = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):        # also the target of x += ...: it reads x
                for obj in env.get(sub.id, ()):
                    if obj.startswith("P:"):
                        out.add(_root(obj)[2:])
                if sub.id in self.func.params and sub.id not in env:
                    out.add(sub.id)
        return out

    def read(self, params, state):
        killed, read = state
        fresh = {p for p in params if p not in killed}
        self.reads |= fresh
        return (killed, read | frozenset(fresh))

    def write(self, params, state, whole=False):
        killed, read = state
        self.rewrites |= {p for p in params if p in read}
        if whole:
            killed = killed | frozenset(p for p in params if p not in read)
        return (killed, read)

    def loop_entry(self, loop, state):
        env = self.env_before.get(id(loop.body[0]), {}) if loop.body else {}
        test = loop.iter if isinstance(loop, ast.For) else loop.test
        return self.read(self.params_of(test, env), state)

    def before_if(self, stmt, state):
        env = self.env_before.get(id(stmt.body[0]), {}) if stmt.body else {}
        return self.read(self.params_of(stmt.test, env), state)

    def transfer(self, stmt, state):
        env = self.env_before.get(id(stmt), {})
        if isinstance(stmt, ast.Assign):
            value = stmt.value
            callee = self.func.callees.get(id(value)) if isinstance(value, ast.Call) else None
            if callee is not None and callee.kind == "user":
                state = self.call(value, callee, env, state)
            else:
                state = self.read(self.params_of(value, env), state)
            for target in stmt.targets:
                if isinstance(target, ast.Subscript):
                    state = self.read(self.params_of(target.slice, env), state)
                    storage = self.params_of(target.value, env)
                    self.region(storage, constant_region(target.slice))
                    state = self.write(storage, state, whole=_whole(target.slice))
            return state
        if isinstance(stmt, ast.AugAssign):
            target = stmt.target
            state = self.read(self.params_of(stmt.value, env), state)
            base = target if isinstance(target, ast.Name) else target.value
            if isinstance(target, ast.Subscript):
                state = self.read(self.params_of(target.slice, env), state)
            storage = self.params_of(base, env)
            state = self.read(storage, state)
            kind = self.kinds.get(target)
            if isinstance(target, ast.Subscript) or kind is not None and kind.array:
                self.region(storage, constant_region(target.slice) if isinstance(target, ast.Subscript) else None)
                state = self.write(storage, state)
            return state
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            callee = self.func.callees.get(id(value))
            if callee is not None and callee.kind == "user":
                return self.call(value, callee, env, state)
            return self.read(self.params_of(value, env), state)
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            return self.read(self.params_of(stmt.value, env), state)
        if isinstance(stmt, ast.Assert):
            return self.read(self.params_of(stmt.test, env), state)
        return state

    def call(self, node, callee, env, state):
        summary = self.summaries.by_key.get(callee.key)
        if summary is None:
            return self.read(self.params_of(node, env), state)
        for k, param in enumerate(summary.params[:len(node.args)]):
            arg = node.args[k]
            storage = isinstance(arg, ast.Name) or isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name)
            if not storage or param in summary.reads:
                state = self.read(self.params_of(arg, env), state)
            elif isinstance(arg, ast.Subscript):
                state = self.read(self.params_of(arg.slice, env), state)
        for k, param in enumerate(summary.params[:len(node.args)]):
            arg = node.args[k]
            if param not in summary.writes:
                continue
            base = arg.value if isinstance(arg, ast.Subscript) else arg
            targets = self.params_of(base, env)
            if param in summary.rewrites:
                # the callee reads what it is given, then writes it: the caller's entry values, unless
                # the caller had overwritten them all before
                self.rewrites |= {p for p in targets if p not in state[0] or p in state[1]}
            whole = param in summary.kills and (isinstance(arg, ast.Name) or _whole(arg.slice))
            inner = dict(summary.write_regions).get(param)
            self.region(targets, inner if isinstance(arg, ast.Name) else None)
            state = self.write(targets, state, whole)
        return state



def constant_region(index):
    """The text of an index made of integer constants, slices of them and None ("1:-1, 1:-1"),
    or None when it depends on values (only such regions can be compared)."""
    for sub in ast.walk(index):
        if isinstance(sub, ast.Name) or isinstance(sub, ast.Constant) and not (
                sub.value is None or isinstance(sub.value, int) and not isinstance(sub.value, bool)):
            return None
        if isinstance(sub, (ast.Call, ast.Attribute, ast.Subscript)):
            return None
    text = ast.unparse(index)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _whole(index):
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Constant) and part.value is Ellipsis:
            continue
        if isinstance(part, ast.Slice) and part.lower is None and part.upper is None and part.step is None:
            continue
        return False
    return True
