"""Effects of functions on arrays: which parameters they read and update in place, and aliasing.

The adjoint treats every name as holding its own value.  That is only right when no array that a
name will still read is updated in place through another name (a view ``v = a[1:]``, an alias
``b = a``, the same array passed twice).  A points-to analysis (storage objects: each parameter's
array, each allocating expression — its most recent array and the older ones — and module
arrays) finds the arrays a write reaches; a write that reaches an array another live name holds
is refused, never differentiated wrongly.  The same analysis gives the interprocedural summaries:
parameters whose arrays a function reads and writes, and which parameters its result may alias.

This module runs the pieces, each a module of its own, per function, callees first: liveness.py
(names still read later), points_to.py (the objects names hold; the refusals) and
entry_access.py (which parameters' entry values are read, and overwritten after that).
"""
from dataclasses import dataclass, field

from ..frontend.problems import Problems
from .entry_access import EntryAccess
from .liveness import Liveness
from .points_to import DISTINCT, PointsTo, _root, share


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

