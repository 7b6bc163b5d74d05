"""Binding the arguments of a call to a derivative-table primitive to the rule's parameters."""
import ast


def bind_rule_call(rule, call, key):
    """Maps each rule parameter to the argument node passed for it (methods: the object first).

    Returns ``(bound, extra)`` where ``bound`` is {param: node} for the parameters given and
    ``extra`` the nodes passed beyond the rule's parameters (e.g. reshape's dims), or raises
    ValueError with a readable reason.
    """
    args = list(call.args)
    if key.startswith("method.") or key.startswith("attr."):
        args = [call.func.value] + args
    params = list(rule.params)
    bound = {}
    extra = []
    if rule.varargs:
        # params before the varargs are positional, the rest of the positional arguments go to the
        # varargs, and params after it are keyword-only (np.meshgrid(x, y, indexing="ij"))
        head = params[:params.index(rule.varargs)]
        for name, node in zip(head, args):
            bound[name] = node
        extra = args[len(head):]
        bound[rule.varargs] = ast.Tuple(elts=list(extra), ctx=ast.Load())
    else:
        if len(args) > len(params):
            raise ValueError(f"{len(args)} positional arguments for {len(params)} parameters")
        for name, node in zip(params, args):
            bound[name] = node
    for kw in call.keywords:
        if kw.arg in bound:
            raise ValueError(f"argument {kw.arg!r} given twice")
        if kw.arg not in params:
            raise ValueError(f"unknown keyword argument {kw.arg!r}")
        bound[kw.arg] = kw.value
    return bound, extra


def sequence_items(node):
    """The element nodes of a list/tuple literal passed to a sequence parameter, or None."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    return None
