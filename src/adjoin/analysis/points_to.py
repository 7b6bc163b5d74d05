"""Points-to: the storage objects each array name may hold, and the refusal of harmful writes.

Storage objects are each parameter's array (``P:x``), each allocating expression's most recent
array and the older ones (``A:<id>:new``, ``A:<id>:old``), module arrays (``G:name``), and one
row of any of them (``P:x#r0``).  An in-place write that reaches an array another live name holds
is refused (effects.py runs the analysis and keeps what the summaries need).
"""
import ast

from ..frontend.calls import other_rows as _other_rows
from ..rules import RULES
from .activity import storage_name
from .calls import bind_rule_call
from .flow import Forward
from .liveness import names_read

# Primitives whose result may share memory with their first argument: the table says which.
VIEW_RULES = frozenset(key for key, entry in RULES.items() if entry.view)


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
                shown = self.func.user.alias_names.get(name, name)     # params=PARAMS: PARAMS_default
                self.problems.add(self.func.user, stmt, f"writing into module-level array {shown!r}",
                                  "module-level constants are read-only; copy the array into a local first")
            return
        for obj in objs:
            if obj.startswith("G:"):
                array = _root(obj)[2:]
                array = self.func.user.alias_names.get(array, array)
                self.problems.add(self.func.user, stmt, f"writing into module-level array {array!r} "
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

