"""A function called with arguments of different kinds becomes one function per kind.

``step(2.0, 1.0)`` and ``step(y, a)`` call one helper with a number and with an array: the
kinds of its parameters join to "unknown", and an update in place (``v += ...``) or a view
(``y[1]``) can no longer be told from a number, which is refused.  As the functions given as
arguments are (frontend/specialize.py), the argument kinds are a specialization: each call site
with other kinds gets a copy of the function of its own (``step_float``), and the kinds are
inferred again.
"""
import ast
import copy

MAX_COPIES = 4          # beyond this many kinds of calls, one function takes them all (joined)


def specialize_on_kinds(program, kinds):
    """Gives the call sites of a function that pass arguments of other kinds a copy of it; True
    when any was made (the kinds must then be inferred again)."""
    changed = False
    for key in list(program.order()):
        groups = _calls_by_kinds(program, kinds, key)
        if len(groups) < 2:
            continue
        for signature, calls in list(groups.items())[1:MAX_COPIES]:
            copy_key = _copy_function(program, key, _label(signature))
            for caller, call in calls:
                caller.callees[id(call)] = type(caller.callees[id(call)])("user", copy_key)
            changed = True
    return changed


def _calls_by_kinds(program, kinds, key):
    """{argument kinds: [(caller Function, call node)]} of the calls of ``key``, first seen first."""
    groups = {}
    for caller_key in program.order():
        caller = program.functions[caller_key]
        table = kinds.expr_kinds.get(caller_key, {})
        for node in ast.walk(caller.node):
            callee = caller.callees.get(id(node)) if isinstance(node, ast.Call) else None
            if callee is None or callee.kind != "user" or callee.key != key:
                continue
            signature = tuple(str(table.get(arg)) for arg in node.args)
            groups.setdefault(signature, []).append((caller, node))
    return groups


def _label(signature):
    return "_".join(s.replace("array(rank ", "array").replace(")", "").replace("?", "")
                    .replace("(", "").replace(", ", "_") for s in signature if s != "None")[:40] or "copy"


def _copy_function(program, key, label):
    """A copy of function ``key`` under a new key: its own tree, the same callees."""
    original = program.functions[key]
    name = f"{key}_{''.join(c if c.isalnum() else '_' for c in label)}"
    while name in program.functions:
        name += "_"
    function = copy.copy(original)
    function.key = name
    function.copy_of = original.site_name
    function.node = copy.deepcopy(original.node)
    function.callees = {}
    for old, new in zip(ast.walk(original.node), ast.walk(function.node)):
        if isinstance(old, ast.Call) and id(old) in original.callees:
            function.callees[id(new)] = original.callees[id(old)]
    program.functions[name] = function
    return name
