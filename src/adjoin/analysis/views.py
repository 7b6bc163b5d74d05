"""Names for views, written out: ``x = state[0]`` then ``x += dt * v`` is ``state[0] += dt * v``.

A name bound once to a view of an array by a constant index (``x = state[0]``, ``inner =
u[1:-1]``, ``col = m[:, 2]``) is only another way to write that subscript, as long as neither
name is bound again.  So is a name bound in a loop or a branch (``row = m[i]`` in ``for i in
range(n)``), or by an index of int names, when it is used only after its binding in the same
block and neither the array nor the index's names are bound again there.  The adjoint treats each name as holding its own value, so an update
through the view would be refused (or, before, differentiated as if the array kept its old
values); written as the subscript it is an ordinary update of a region of the array.  The kinds
decide: only a name whose value is an array is a view (``x = y[0]`` of a vector is a number, a
copy).
"""
import ast
import copy

from .kind_lattice import INT, Kind


def inline_views(program, kinds):
    """Rewrites, in every function, the names bound once to a view by a fixed index; True when
    any was (the kinds must then be inferred again)."""
    changed = False
    for key, func in program.functions.items():
        table = kinds.expr_kinds.get(key, {})
        for block in _blocks(func.node):
            for stmt in list(block):
                view = _view(stmt, block, func, table)
                if view is not None:
                    _write_out(func, block, stmt, *view, table)
                    changed = True
    return changed


def _blocks(function):
    """Every list of statements of a function: its body, and those of its loops and branches."""
    blocks = [function.body]
    for node in ast.walk(function):
        if isinstance(node, (ast.For, ast.While, ast.If)):
            blocks += [node.body, node.orelse]
    return blocks


def _view(stmt, block, func, table):
    """(name, subscript) when ``stmt`` binds a name to a view that every later use of the name
    can write out, else None."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return None
    name, value = stmt.targets[0].id, stmt.value
    if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
        return None
    kind = table.get(stmt.targets[0])
    if not isinstance(kind, Kind) or not kind.array or name in func.params or name in func.result_names:
        return None           # a result variable is the function's result: it stays a name
    stores = _stores(func.node)
    base = value.value.id
    if block is func.node.body and _constant(value.slice) and stores.get(name, 0) == 1:
        if stores.get(base, 0) > (0 if base in func.params else 1):
            return None
    elif not (_fixed_in_block(stmt, block, name, value, table) and _uses_follow_bindings(func, name)):
        return None
    indexed = any(isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id == name
                  for sub in ast.walk(func.node))
    if indexed and _composer(value.slice, table) is None:
        return None           # x[i] of a view by a range of rows: no simple subscript of the array
    return name, value


def _fixed_in_block(stmt, block, name, value, table):
    """``name = base[index]`` with an index of ints: the subscript means the same view at every use
    of the name after the binding in its block, where neither the name, ``base`` nor a name of the
    index is bound again (``i += 1`` binds an int again; ``base += v`` or ``name += v`` on an
    array updates it in place, which both see)."""
    index_names = set()
    if not _int_index(value.slice, table, index_names):
        return False
    later = block[block.index(stmt) + 1:]
    updates = {id(sub.target) for s in later for sub in ast.walk(s) if isinstance(sub, ast.AugAssign)}
    base, base_kind = value.value.id, table.get(value.value)
    in_place = isinstance(base_kind, Kind) and base_kind.array
    for s in later:
        for node in ast.walk(s):
            if not isinstance(node, ast.Name) or isinstance(node.ctx, ast.Load):
                continue
            if node.id in index_names or node.id in (base, name) and not (in_place and id(node) in updates):
                return False
    return True


def _uses_follow_bindings(func, name):
    """Every use of ``name`` comes after one of its bindings (``name = ...``) in that binding's
    block, with no other binding between: it can only see that binding's value (a block is entered
    at its top), so writing out one binding's uses leaves every other use as it was.  (Normalized
    code may hold one binding several times, one per path after an early return.)"""
    bindings, covered = set(), set()
    for block in _blocks(func.node):
        for position, stmt in enumerate(block):
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name):
                continue
            bindings.add(id(stmt.targets[0]))
            later = [node for s in block[position + 1:] for node in ast.walk(s)]
            updates = {id(n.target) for n in later if isinstance(n, ast.AugAssign)}
            if not any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)
                       and id(n) not in updates for n in later):
                covered |= {id(n) for n in later}
    return all(id(node) in covered or id(node) in bindings for node in ast.walk(func.node)
               if isinstance(node, ast.Name) and node.id == name)


def _int_index(index, table, names):
    """An index of ints (constants, int names, sums and products of them), slices of them, None
    and Ellipsis: a basic index, whose result is a view; collects the names it reads."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Slice):
            if not all(b is None or _int_expression(b, table, names) for b in (part.lower, part.upper, part.step)):
                return False
        elif not (_int_expression(part, table, names)
                  or isinstance(part, ast.Constant) and part.value in (None, Ellipsis)):
            return False
    return True


def _int_expression(node, table, names):
    if _int(node):
        return True
    if isinstance(node, ast.Name):
        names.add(node.id)
        return table.get(node) == INT
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _int_expression(node.operand, table, names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
        return _int_expression(node.left, table, names) and _int_expression(node.right, table, names)
    return False


def _write_out(func, block, stmt, name, subscript, table):
    """Every later use of ``name`` in its block becomes the subscript; the binding goes."""
    position = block.index(stmt)
    compose = _composer(subscript.slice, table)

    class Replace(ast.NodeTransformer):
        def visit_Subscript(self, node):
            if isinstance(node.value, ast.Name) and node.value.id == name:
                # x[i] of x = state[0] is state[0, i]; of x = h[:] it is h[i]
                index = compose(self.visit(node.slice))
                out = ast.Subscript(value=copy.deepcopy(subscript.value), slice=index, ctx=node.ctx)
                return ast.copy_location(out, node)
            self.generic_visit(node)
            return node

        def visit_Name(self, node):
            if node.id != name:
                return node
            out = copy.deepcopy(subscript)
            out.ctx = node.ctx
            return ast.copy_location(out, node)
    rest = [Replace().visit(s) for s in block[position + 1:]]
    block[position:] = [ast.fix_missing_locations(s) for s in rest] or [ast.copy_location(ast.Pass(), stmt)]
    if not any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(func.node)):
        func.locals = frozenset(func.locals - {name})
    _rescan_callees(func)


def _rescan_callees(func):
    """Calls were keyed by node: the copies of the subscript hold none, the rest are unchanged."""
    known = {id(node) for node in ast.walk(func.node) if isinstance(node, ast.Call)}
    func.callees = {k: v for k, v in func.callees.items() if k in known}


def _composer(view_index, table):
    """How ``base[view_index][i]`` is written as one subscript of ``base``, or None: a view by one
    int (a row) puts it in front of the index, a view of everything (``[:]``) keeps the index."""
    parts = view_index.elts if isinstance(view_index, ast.Tuple) else [view_index]
    if all(isinstance(p, ast.Slice) and p.lower is None and p.upper is None and p.step is None for p in parts):
        return lambda index: index
    if len(parts) == 1 and _int_expression(parts[0], table, set()):
        def prepend(index):
            rest = index.elts if isinstance(index, ast.Tuple) else [index]
            return ast.Tuple(elts=[copy.deepcopy(parts[0])] + list(rest), ctx=ast.Load())
        return prepend
    return None


def _constant(index):
    """An index of int constants, slices of them, None and Ellipsis: always the same region."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Slice):
            bounds = [b for b in (part.lower, part.upper, part.step) if b is not None]
            if not all(_int(b) for b in bounds):
                return False
        elif not (_int(part) or isinstance(part, ast.Constant) and part.value in (None, Ellipsis)):
            return False
    return True


def _int(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool)


def _stores(node):
    """How many times each name is bound (``x += e`` on an array updates it in place: no binding;
    the names checked are arrays, the kinds said so)."""
    updates = {id(sub.target) for sub in ast.walk(node) if isinstance(sub, ast.AugAssign)}
    counts = {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store) and id(sub) not in updates:
            counts[sub.id] = counts.get(sub.id, 0) + 1
    return counts
