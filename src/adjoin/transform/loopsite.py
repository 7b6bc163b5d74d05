"""Loop sites: ``# $AD BINOMIAL-CKP`` before a ``for n in range(...)`` loop.

A checkpointed loop site keeps the tape of one iteration at a time: its adjoint is driven by a
binomial schedule (runtime/loops.py), which stores the **loop state** at a few iterations,
advances plain iterations from a stored state, tapes an iteration and reverses it.  The loop
state is what an iteration reads, or what the backward sweep of the code before the loop needs,
among the names the loop writes (in place or by rebinding, directly, through a call or through a
name sharing memory); the rest of what the loop reads it leaves alone, and the TBR analysis keeps
it for the backward sweep as it keeps a checkpointed call's arguments (``invariant_reads``).

Placed not checkpointed, a loop site is an ordinary loop: every iteration taped.
"""
import ast
from dataclasses import dataclass

from ..errors import UsageError
from ..frontend import syntax
from ..runtime.loops import DEFAULT_SNAPSHOTS, iteration_id
from ..runtime.profiler import BEGIN_SPLIT_REVERSE
from .code import Lines, inline_event
from .expression import quicker

DIRECTIVE = "BINOMIAL-CKP"
HINT = ("write '# $AD BINOMIAL-CKP' on the line before a 'for n in range(...)' loop, optionally "
        "with 'snapshots=N' (in memory) and 'disk=M' (docs/checkpointing.md, 'Loop sites')")


@dataclass(frozen=True)
class LoopSite:
    """A time loop checkpointed by a binomial schedule, with its snapshots in memory and on disk."""
    id: str
    caller: str
    file: str
    line: int
    checkpointed: bool = True
    snapshots: int = DEFAULT_SNAPSHOTS
    disk: int = 0
    callee: str = "loop"        # read like a call site's callee by listings


def find_loop_sites(program, nocheckpoint=()):
    """([LoopSite] in a stable order, {(function key, line): LoopSite}); copies of a function made
    for other argument kinds share its loop sites."""
    sites, by_id, by_loop = [], {}, {}
    for key in program.order():
        func = program.functions[key]
        loops = sorted((n for n in ast.walk(func.node) if isinstance(n, (ast.For, ast.While))),
                       key=lambda n: (n.lineno, n.col_offset))
        count = 0
        for loop in loops:
            words = directive_words_before(func, loop.lineno)
            if not words or words[0].upper() != DIRECTIVE:
                continue
            _check_loop(func, loop)
            count += 1
            snapshots, disk = _numbers(func, loop, words[1:])
            site_id = f"{func.site_name}/loop#{count}"
            checkpointed = site_id not in nocheckpoint
            site = by_id.setdefault(site_id, LoopSite(site_id, key, func.path, loop.lineno, checkpointed,
                                                      snapshots, disk))
            if site not in sites:
                sites.append(site)
            by_loop[(key, loop.lineno)] = site
    return sites, by_loop


def directive_words_before(func, line):
    """The words of the `# $AD` directive on the lines just above ``line`` (only comments and
    blank lines between), or None."""
    directives = func.user.source.directives
    lines = func.user.source.text.splitlines()
    k = line - 1
    while k >= 1:
        if k in directives:
            return directives[k].words
        text = lines[k - 1].strip() if k - 1 < len(lines) else ""
        if text and not text.startswith("#"):
            return None
        k -= 1
    return None


def _where(func, node):
    return f"{func.path}:{node.lineno}:{node.col_offset + 1}"


def _check_loop(func, loop):
    """A loop site is a ``for`` over a range that runs to its end."""
    if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Call)
            and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range"):
        raise UsageError(f"{_where(func, loop)}: '# $AD {DIRECTIVE}' is on a loop that is not "
                         f"'for n in range(...)'; {HINT}")
    for node in _own_statements(loop.body):
        if isinstance(node, (ast.Break, ast.Return)):
            raise UsageError(f"{_where(func, node)}: a loop under '# $AD {DIRECTIVE}' must run all its "
                             "iterations (a schedule knows their number in advance), and this "
                             f"{type(node).__name__.lower()} may leave it early; move the test after the "
                             "loop, or remove the directive")


def _own_statements(stmts):
    """Statements of a loop body, not those of loops nested in it (their breaks are their own)."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _own_statements(stmt.body + stmt.orelse)
        elif isinstance(stmt, (ast.For, ast.While)):
            yield from (n for n in ast.walk(stmt) if isinstance(n, ast.Return))


def _numbers(func, loop, words):
    """(snapshots, disk) from the directive's words: ``snapshots=N``, ``disk=M``, or one number N."""
    found = {"snapshots": DEFAULT_SNAPSHOTS, "disk": 0}
    for k, word in enumerate(words):
        key, sep, value = word.partition("=")
        if not sep and k == 0:
            key, value = "snapshots", word
        if key.lower() not in found or not value.isdigit():
            raise UsageError(f"{func.path}:{loop.lineno - 1}: '# $AD {DIRECTIVE}' does not understand "
                             f"{word!r}; {HINT}")
        found[key.lower()] = int(value)
    if found["snapshots"] + found["disk"] < 1:
        raise UsageError(f"{func.path}:{loop.lineno - 1}: a binomial schedule needs at least one snapshot; {HINT}")
    return found["snapshots"], found["disk"]


# -- what the loop reads and writes -------------------------------------------------------------

def written_names(gen, loop):
    """Names whose values the loop's body may change: rebound, updated in place, passed to a call
    that updates them, or sharing memory with an array it updates."""
    return rebound_names(loop) | in_place_names(gen, loop)


def rebound_names(loop):
    return syntax.assigned_names(ast.Module(body=loop.body, type_ignores=[]))


def read_names(loop):
    body = ast.Module(body=loop.body, type_ignores=[])
    return {n.id for n in ast.walk(body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def exposed_reads(loop):
    """Names an iteration may read before it sets them (an earlier iteration's value, or the one
    from before the loop), the loop index left out."""
    return syntax.exposed_reads(loop.body) - {loop.target.id}


def in_place_names(gen, loop):
    """Names whose arrays the body may update in place (directly, through a call or an alias)."""
    out = set()
    for node in ast.walk(ast.Module(body=loop.body, type_ignores=[])):
        effect = getattr(gen.pieces.get(id(node)), "effect", None)
        if effect is not None:
            out |= effect.partial_writes | effect.whole_writes | effect.alias_writes
            if effect.call is not None:
                out |= {base for _, base, _ in effect.call.written_args}
    return out


def invariant_reads(gen, loop):
    """What the loop's re-run iterations read that the schedule does not give them: the names its
    body reads but does not write (the TBR analysis keeps them, as loop reads, when code after the
    loop changes them).  A name the body writes is either in the loop state (restored by the
    schedule) or written by each iteration before it reads it; keeping it as a loop read made
    every iteration push it again where it changes (on the ocean, 68 % more tape per step)."""
    return read_names(loop) - written_names(gen, loop) - {loop.target.id}


def loop_state(gen, loop):
    """The loop state in a stable order: [(name, restored in place)]."""
    written = written_names(gen, loop) & gen.func.locals
    needed = gen.tbr.needed_before_loop.get(id(loop), set())
    state = sorted((written & (exposed_reads(loop) | set(needed))) - {loop.target.id})
    rebound = rebound_names(loop)
    out = []
    for n in state:
        kind = gen._kind_of_name(n)
        if kind is not None and kind.cat == "tuple" and n in rebound and _flat_items(kind):
            _refuse_shared(gen, loop, n, state)
            out.append((n, False))        # a sequence the loop rebinds: restored as a copy
            continue
        if kind is None or not (kind.array or kind.scalar):
            raise UsageError(f"{gen.func.path}:{loop.lineno}: the loop state of this loop site holds {n!r}, "
                             f"which is {kind or 'of unknown kind'}; a loop site's state is made of arrays, numbers, "
                             "and tuples or lists of them that the loop rebinds (keep other containers outside "
                             "the loop, or remove the directive)")
        in_place = bool(kind.array) and n not in rebound
        if kind.array and not in_place:
            _refuse_shared(gen, loop, n, state)
        out.append((n, in_place))
    return out


def _flat_items(kind):
    """True for a tuple or list kind whose items are arrays and numbers."""
    items = getattr(kind, "items", None) or ()
    return bool(items) and all(item.array or item.scalar for item in items)


def _refuse_shared(gen, loop, n, state):
    """A rebound name of the state is restored as a copy of its own: refused when another name of
    the state may share memory with it and the body updates one of them in place (the restored
    names would no longer see each other's updates).  A name sharing memory with it outside the
    state is not read by an iteration before the iteration rebinds it, so it does not matter."""
    updated = in_place_names(gen, loop)
    for group in gen.pctx.summaries.sharing.get(gen.key, ()):
        if n in group and len(group & set(state)) > 1 and group & updated:
            others = ", ".join(sorted((group & set(state)) - {n}))
            raise UsageError(f"{gen.func.path}:{loop.lineno}: this loop site rebinds {n!r}, which may share "
                             f"memory with {others}, which it updates in place; restoring the loop state would "
                             f"separate them. Update {n!r} in "
                             f"place ({n}[...] = ...), or remove the directive")


# -- emission -----------------------------------------------------------------------------------

def _header(site):
    if not site.checkpointed:
        return f"loop site {site.id}: not checkpointed, every iteration taped"
    kept = f"{site.snapshots} snapshots in memory" + (f", {site.disk} on disk" if site.disk else "")
    return f"loop site {site.id}: binomial checkpointing, {kept}"


def _store(var, state):
    return f"{var}.store({', '.join(n for n, _ in state)})"


def _restore(var, state):
    """``u[...], t = loop1.restore()``: names updated in place are restored in place."""
    targets = ", ".join(f"{n}[...]" if in_place else n for n, in_place in state)
    return f"{targets} = {var}.restore()"


def _primal(lines, stmts, indent, callees):
    """An iteration's primal: the normalized statements (a block normalization emptied gets a
    pass), quicker helpers for the primitives that have one."""
    for stmt in stmts:
        stmt = quicker(stmt, callees)
        for node in ast.walk(stmt):
            if isinstance(node, (ast.If, ast.For, ast.While)) and not node.body:
                node.body = [ast.Pass()]
        lines.stmt(indent, stmt)


def emit_forward(gen, lines, loop, site, indent, forward_body):
    """The loop's forward sweep: the schedule's actions up to the turn; the schedule goes on the
    tape for the backward sweep.  Profiled, the loop and each iteration it tapes are nodes of the
    checkpoint tree (profiling/tree.py), an iteration with the loop state as what it would store."""
    var = gen.namer.fresh("loop")
    action = gen.namer.fresh("action")
    state = loop_state(gen, loop)
    target = loop.target.id
    hooks = gen.pctx.hooks
    lines.add(indent, f"# {_header(site)}; its state: {', '.join(n for n, _ in state) or 'none'}")
    bound = gen.bound_before.get(id(loop), frozenset())
    for n, _ in state:
        if n not in bound:
            lines.add(indent, f"{n} = None  # stored before the loop first sets it")
    if hooks:
        lines.add(indent, f"prof.begin_split({site.id!r}, tape, ())")
    sampled = sampled_names(gen, loop) if hooks and not site.checkpointed else None
    for n in sampled or ():
        if n not in bound and n not in dict(state):
            lines.add(indent, f"{n} = None  # set aside before the loop first sets it")
    lines.add(indent, f"{var} = ad.LoopSchedule(tape, {ast.unparse(loop.iter)}, {site.snapshots}, "
                      f"{site.disk}{'' if sampled is None else ', prof.loop_samples'})  # line {loop.lineno}")
    if not site.checkpointed:
        lines.add(indent, f"for {action}, {target} in {var}.forward():  # every action is ad.TAPE")
        if sampled is not None:
            _sampled(gen, lines, loop, site, sampled, action, indent + 1)
        lines.extend(_taped(site, state, forward_body, indent + 1, hooks))
    else:
        lines.add(indent, f"for {action}, {target} in {var}.forward():")
        _branches(lines, var, action, state, loop, indent + 1, _taped(site, state, forward_body, indent + 2, hooks),
                  None, gen.func.callees)
    lines.add(indent, f"tape.push({var})")
    if hooks:
        lines.add(indent, f"prof.end_split({site.id!r}, tape)")


def emit_backward(gen, lines, loop, site, indent, forward_body, backward_body):
    """The loop's backward sweep: the rest of the schedule's actions."""
    var = gen.namer.fresh("loop")
    action = gen.namer.fresh("action")
    state = loop_state(gen, loop)
    target = loop.target.id
    hooks = gen.pctx.hooks
    if hooks:
        lines.add(indent, inline_event(BEGIN_SPLIT_REVERSE, site.id))
    lines.add(indent, f"{var} = tape.pop()  # line {loop.lineno}: {_header(site)}, reversed")
    reverse = _reversed(site, backward_body, indent + (2 if site.checkpointed else 1), hooks)
    if not site.checkpointed:
        lines.add(indent, f"for {action}, {target} in {var}.backward():  # every action is ad.REVERSE")
        lines.extend(reverse)
    else:
        lines.add(indent, f"for {action}, {target} in {var}.backward():")
        _branches(lines, var, action, state, loop, indent + 1, _taped(site, state, forward_body, indent + 2, hooks),
                  reverse, gen.func.callees)
    if hooks:
        lines.add(indent, f"prof.end_split_reverse({site.id!r}, tape)")


def sampled_names(gen, loop):
    """What a profiled run sets aside before advancing an iteration and sets back after: every
    name the iteration may change (not only the state: a name it rebinds before reading may hold
    a value an ordinary loop pushes for the previous iteration's reversal), or None when one of
    them is not an array, a number or a tuple of them (that loop site is then not sampled)."""
    names = sorted((written_names(gen, loop) & gen.func.locals) - {loop.target.id})
    for n in names:
        kind = gen._kind_of_name(n)
        if kind is None or not (kind.array or kind.scalar or (kind.cat == "tuple" and _flat_items(kind))):
            return None
    return names


def _sampled(gen, lines, loop, site, names, action, indent):
    """Profiling a loop site placed not checkpointed: the few iterations its schedule advances
    first run their primal timed, what they change (``names``) set aside before and set back
    after (runtime/profiler.py: arrays get their contents back in place, every name its value)."""
    listed = "".join(n + ", " for n in names)           # a tuple's items, also of one
    lines.add(indent, f"if {action} is ad.ADVANCE:  # profiled: this iteration's primal timed, then undone")
    lines.add(indent + 1, f"prof.begin_sample({iteration_id(site.id)!r}, tape, ({listed}))")
    _primal(lines, loop.body, indent + 1, gen.func.callees)
    end = f"prof.end_sample({iteration_id(site.id)!r}, tape)"
    lines.add(indent + 1, f"{listed.rstrip(' ')} = {end}" if names else end)
    lines.add(indent + 1, "continue")


def _taped(site, state, forward_body, indent, hooks):
    """An iteration's forward sweep; profiled, with its events."""
    out = Lines()
    if hooks:
        out.add(indent, f"prof.begin_split({iteration_id(site.id)!r}, tape, ({''.join(n + ', ' for n, _ in state)}))")
    out.extend(forward_body(indent))
    if hooks:
        out.add(indent, f"prof.end_split({iteration_id(site.id)!r}, tape)")
    return out


def _reversed(site, backward_body, indent, hooks):
    """An iteration's backward sweep; profiled, with its events."""
    out = Lines()
    if hooks:
        out.add(indent, inline_event(BEGIN_SPLIT_REVERSE, iteration_id(site.id)))
    out.extend(backward_body)
    if hooks:
        out.add(indent, f"prof.end_split_reverse({iteration_id(site.id)!r}, tape)")
    return out


def _branches(lines, var, action, state, loop, indent, taped, reverse, callees):
    lines.add(indent, f"if {action} is ad.STORE:")
    lines.add(indent + 1, _store(var, state))
    if reverse is not None:
        lines.add(indent, f"elif {action} is ad.RESTORE:")
        lines.add(indent + 1, _restore(var, state) if state else f"{var}.restore()")
    lines.add(indent, f"elif {action} is ad.ADVANCE:")
    _primal(lines, loop.body, indent + 1, callees)
    if reverse is None:
        lines.add(indent, "else:  # ad.TAPE")
        lines.extend(taped)
        return
    lines.add(indent, f"elif {action} is ad.TAPE:")
    lines.extend(taped)
    lines.add(indent, "else:  # ad.REVERSE")
    lines.extend(reverse)
