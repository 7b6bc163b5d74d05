"""Directives: ``# $AD INACTIVE`` statements and ``# $AD CHECKPOINT-START`` ... ``# $AD CHECKPOINT-END``
fragments, each outlined as a function of its own."""
import ast
import copy

from .source import UserFunction, compiled_function
from .specialize import NOTHING
from .syntax import assigned_names, exposed_reads, names_expr


def checkpoint_fragments(func):
    """[(start_line, end_line, label)] of `# $AD CHECKPOINT-START` ... `# $AD CHECKPOINT-END` in func."""
    directives = func.source.directives
    start = func.node.lineno
    end = getattr(func.node, "end_lineno", start)
    found, open_ = [], []
    for line in sorted(directives):
        if not start <= line <= end:
            continue
        words = directives[line].words
        if not words:
            continue
        word = words[0].upper()
        if word == "CHECKPOINT-START":
            open_.append((line, " ".join(words[1:])))
        elif word == "CHECKPOINT-END" and open_:
            first, label = open_.pop()
            found.append((first, line, label))
    return sorted(found)


def marked_inactive(func, stmt):
    """A statement under ``# $AD INACTIVE`` (on the line before, or at its end): the user's word
    that no derivative flows through it and that it changes nothing the adjoint reads (plotting,
    logging, diagnostics)."""
    directives = func.source.directives
    lines = func.source.text.splitlines()
    line = stmt.lineno
    while line >= 1:
        if line != stmt.lineno:
            text = lines[line - 1].strip() if line - 1 < len(lines) else ""
            if text and not text.startswith("#"):
                return False           # a directive at the end of that line is that line's
        found = directives.get(line)
        if found is not None and found.words and found.words[0].upper() == "INACTIVE":
            return True
        line -= 1
    return False


class FragmentFunction(UserFunction):
    """A fragment cut out of a user function: a function with the fragment's statements."""
    synthetic = True


def _interface(inner, body, node, statements, locals_):
    """(inputs, outputs) of a fragment: the names it may read that have a value before it (an
    augmented assignment reads its target; a name it sets on some paths only keeps its old value
    on the others), and the names it sets that are read after it, that are parameters, or that a
    loop around it carries to its next run (read by the fragment itself)."""
    stored = assigned_names(inner)
    read = {n.id for n in ast.walk(inner) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    read |= {n.target.id for n in ast.walk(inner) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
    outside = [s for s in ast.walk(ast.Module(body=body, type_ignores=[]))
               if not any(s is t for t in ast.walk(inner))]
    stored_outside = {n.id for n in outside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    read_outside = {n.id for n in outside if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    params_ = set(a.arg for a in node.args.args + node.args.posonlyargs + node.args.kwonlyargs)
    carried = exposed_reads(statements) if _inside_loop(body, statements[0]) else set()
    outputs = sorted(n for n in stored if n in read_outside or n in params_ or n in carried)
    bound_before = params_ | stored_outside
    inputs = sorted(n for n in (read | set(outputs)) if n in locals_ and n in bound_before)
    return inputs, outputs


def _inside_loop(stmts, target):
    """True when the statement ``target`` is inside a loop of ``stmts``."""
    for stmt in stmts:
        if isinstance(stmt, (ast.For, ast.While)) and any(n is target for n in ast.walk(stmt)):
            return True
        for field_name in ("body", "orelse"):
            child = getattr(stmt, field_name, None)
            if isinstance(child, list) and not isinstance(stmt, (ast.For, ast.While)) and _inside_loop(child, target):
                return True
    return False


def outline_fragment(key, func, node, body, start, end, label, ordinal, keys, problems, locals_):
    """Replaces the statements between the directives by a call to a new function."""
    block, first, last = _find_block(body, start, end)
    if block is None:
        problems.add(func, func.node, f"the checkpointed fragment between lines {start} and {end} does not "
                     "hold whole statements of one block", "put START and END around statements of one block")
        return None
    statements = block[first:last]
    inner = ast.Module(body=statements, type_ignores=[])
    for sub in ast.walk(inner):
        if isinstance(sub, (ast.Return, ast.Break, ast.Continue)) and _leaves_fragment(sub, statements):
            problems.add(func, sub, "a jump out of a checkpointed fragment", "end the fragment before it")
            return None
    inputs, outputs = _interface(inner, body, node, statements, locals_)
    name = f"{func.name}_{_identifier(label) if label else 'fragment'}{ordinal}"
    while name in func.globals or name in locals_ or name in keys.fragments:
        name += "_"
    definition = ast.FunctionDef(
        name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in inputs], vararg=None,
                                      kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=copy.deepcopy(statements) + ([ast.Return(value=ast.Tuple(
            elts=[ast.Name(id=n, ctx=ast.Load()) for n in outputs], ctx=ast.Load()) if len(outputs) > 1
            else ast.Name(id=outputs[0], ctx=ast.Load()))] if outputs else []),
        decorator_list=[], returns=None, type_params=[])
    ast.copy_location(definition, statements[0])
    definition.lineno = start
    for sub in definition.body[-1:]:
        ast.copy_location(sub, statements[-1])
        for child in ast.walk(sub):
            ast.copy_location(child, statements[-1])
    fn = compiled_function(definition, func.path, {**func.fn.__globals__, **func.aliases}, func.fn.__module__)
    fragment = FragmentFunction(name, fn, definition, func.source)
    fragment.fragment_of = key
    fragment.fragment_label = label or "fragment"
    fragment.primal_source = ast.unparse(definition)
    keys.fragments[name] = fragment
    keys[(id(fn), NOTHING)] = name
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[ast.Name(id=n, ctx=ast.Load()) for n in inputs],
                    keywords=[])
    if len(outputs) > 1:
        replacement = ast.Assign(targets=[ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store()) for n in outputs],
                                                    ctx=ast.Store())], value=call)
    elif outputs:
        replacement = ast.Assign(targets=[ast.Name(id=outputs[0], ctx=ast.Store())], value=call)
    else:
        replacement = ast.Expr(value=call)
    ast.copy_location(call, statements[0])
    ast.copy_location(replacement, statements[0])
    ast.fix_missing_locations(replacement)
    block[first:last] = [replacement]
    return body, (name, fragment)


def _identifier(text):
    cleaned = "".join(c if c.isalnum() else "_" for c in text).strip("_")
    return cleaned or "fragment"


def _find_block(stmts, start, end):
    """(block list, first, last) of the statements strictly between lines start and end."""
    inside = [k for k, s in enumerate(stmts) if start < s.lineno < end]
    if inside:
        first, last = inside[0], inside[-1] + 1
        if all(start < s.lineno and getattr(s, "end_lineno", s.lineno) < end for s in stmts[first:last]):
            return stmts, first, last
        return None, 0, 0
    for s in stmts:
        for field_name in ("body", "orelse"):
            child = getattr(s, field_name, None)
            if isinstance(child, list) and child and s.lineno < start < getattr(s, "end_lineno", 0):
                found = _find_block(child, start, end)
                if found[0] is not None:
                    return found
    return None, 0, 0


def _leaves_fragment(jump, statements):
    if isinstance(jump, ast.Return):
        return True
    for s in statements:
        for loop in ast.walk(s):
            if isinstance(loop, (ast.For, ast.While)) and any(j is jump for j in ast.walk(loop)):
                return False
    return True


def outline_inactive(func, body, keys, namer):
    """Each statement marked INACTIVE becomes a call of a function holding it (a primitive with no
    derivative, Callee kind "inactive"), given the names the rest of the function binds that it
    reads, returning those it binds that the rest of the function reads."""
    everything = ast.Module(body=body, type_ignores=[])

    def outside(stmt, ctx):
        inner = {id(n) for n in ast.walk(stmt)}
        return {n.id for n in ast.walk(everything) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)
                and id(n) not in inner}

    def block(stmts):
        out = []
        for stmt in stmts:
            if marked_inactive(func, stmt):
                out.append(_inactive_call(func, stmt, keys, namer, outside(stmt, ast.Load),
                                          outside(stmt, ast.Store) | set(_parameters(func))))
                continue
            for field_name in ("body", "orelse"):
                if isinstance(getattr(stmt, field_name, None), list):
                    setattr(stmt, field_name, block(getattr(stmt, field_name)))
            out.append(stmt)
        return out
    return block(body)


def _parameters(func):
    node = func.node
    return [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]


def _inactive_call(func, stmt, keys, namer, read_outside, bound_outside):
    inner = ast.Module(body=[stmt], type_ignores=[])
    stored = assigned_names(inner)
    inputs = sorted({n.id for n in ast.walk(inner) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                     and n.id in bound_outside})
    outputs = sorted(n for n in stored if n in read_outside)
    name = namer.fresh(f"{func.name}_inactive")
    returned = [ast.Return(value=names_expr(outputs))] if outputs else []
    definition = ast.FunctionDef(
        name=name, args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in inputs], vararg=None,
                                      kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[copy.deepcopy(stmt)] + returned, decorator_list=[], returns=None, type_params=[])
    ast.fix_missing_locations(ast.copy_location(definition, stmt))
    keys.inactive[name] = (definition, func)
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=[ast.Name(id=n, ctx=ast.Load()) for n in inputs],
                    keywords=[])
    if outputs:
        target = ast.Name(id=outputs[0], ctx=ast.Store()) if len(outputs) == 1 else ast.Tuple(
            elts=[ast.Name(id=n, ctx=ast.Store()) for n in outputs], ctx=ast.Store())
        replacement = ast.Assign(targets=[target], value=call)
    else:
        replacement = ast.Expr(value=call)
    return ast.fix_missing_locations(ast.copy_location(replacement, stmt))
