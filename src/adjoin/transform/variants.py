"""The generated functions of one user function, from its two sweeps: ``f_b``, ``f_fwd``, ``f_bwd``.

``f_b`` (joint mode, and the head) is the forward sweep, the turn, then the backward sweep.  In
split mode the sweeps are two functions: ``f_fwd`` ends by pushing what its backward sweep reads
that dies or changes when it returns (``turn_locals``), and ``f_bwd`` begins by popping it.
"""
from pathlib import Path

from ..runtime.profiler import SPLIT_TURN, TURN
from .backward import BackwardSweep
from .code import Lines, inline_event
from .forward import ForwardSweep
from .verify import Marks, turn_check


def emit(gen, modes, head=False):
    """Source text of the requested variants ('b', 'fwd', 'bwd') of ``gen``'s function."""
    forward, backward = sweeps(gen)      # one text of each sweep serves every variant
    turn_pushes = gen.turn_locals()
    out = Lines()
    label = f"{gen.func.name} ({Path(gen.func.path).name}:{gen.func.user.node.lineno})"
    init = pre_init(gen, turn_pushes if "fwd" in modes else [])
    if "b" in modes:
        _joint(gen, out, label, init, forward, backward, turn_pushes, head)
    if "fwd" in modes:
        _split_forward(gen, out, label, init, forward, turn_pushes)
    if "bwd" in modes:
        _split_backward(gen, out, label, backward, turn_pushes)
    return "\n".join(out.lines)


def sweeps(gen):
    """(forward Lines, backward Lines) of the body, at indent 1; the backward sweep is written
    first: the forward sweep pushes only what it pops, and keeps what its checks compare."""
    backward_of, marks = {}, Marks()
    backward = BackwardSweep(gen, backward_of, marks).block(gen.func.node.body, 1)
    forward = Lines()
    ForwardSweep(gen, backward_of, marks).block(forward, gen.func.node.body, 1)
    return forward, backward


def _joint(gen, out, label, init, forward, backward, turn_pushes, head):
    out.add(0, f"def {gen.pctx.generated_name(gen.key, 'b')}({', '.join(signature(gen, 'b'))}):")
    what = "the head" if head else "joint mode, run when a checkpointed call is reversed"
    out.add(1, f'"""Adjoint of {label}, {what}: forward sweep, turn, backward sweep."""')
    if gen.pctx.hooks:          # the turn's hook measures them: bound, as a split forward sweep binds them
        init = list(init) + [n for n in turn_pushes if n not in init and n not in gen.func.params]
    for n in init:
        out.add(1, f"{n} = None")
    out.extend(forward)
    out.add(1, "# turn")
    if gen.pctx.verify and not head:
        out.add(1, turn_check(gen))
    if gen.pctx.hooks:
        out.add(1, _turn_hook(gen, "turn", TURN, turn_pushes))
    if head:
        out.add(1, f"value = {', '.join(gen.func.result_names)}")
    for line in adjoint_init(gen):
        out.add(1, line)
    out.extend(backward)
    ret = returns(gen)
    if head:
        out.add(1, f"return value, ({ret}{',' if ret and ',' not in ret else ''})" if ret else
                "return value, ()")
    elif ret:
        out.add(1, f"return {ret}")
    out.add(0, "")
    out.add(0, "")


def _split_forward(gen, out, label, init, forward, turn_pushes):
    out.add(0, f"def {gen.pctx.generated_name(gen.key, 'fwd')}({', '.join(signature(gen, 'fwd'))}):")
    out.add(1, f'"""Forward sweep of {label}, split mode (its backward sweep is '
               f'{gen.pctx.generated_name(gen.key, "bwd")})."""')
    for n in init:
        out.add(1, f"{n} = None")
    out.extend(forward)
    if gen.pctx.hooks:
        out.add(1, _turn_hook(gen, "split_turn", SPLIT_TURN, turn_pushes))
    if turn_pushes:
        out.add(1, "# what the backward sweep reads that dies or changes when this function returns")
    dying = set(gen.func.locals) - set(gen.func.params) - set(gen.func.result_names)
    for n in turn_pushes:
        # a local dies here: an array that only it holds goes onto the tape uncopied
        out.add(1, f"tape.move({n})" if n in dying else f"tape.push({n})")
    if gen.func.result_names:
        out.add(1, f"return {', '.join(gen.func.result_names)}")
    out.add(0, "")
    out.add(0, "")


def _split_backward(gen, out, label, backward, turn_pushes):
    out.add(0, f"def {gen.pctx.generated_name(gen.key, 'bwd')}({', '.join(signature(gen, 'bwd'))}):")
    out.add(1, f'"""Backward sweep of {label}, split mode (after '
               f'{gen.pctx.generated_name(gen.key, "fwd")})."""')
    for n in reversed(turn_pushes):
        out.add(1, gen.restore_turn_local(n))
    for line in adjoint_init(gen):
        out.add(1, line)
    out.extend(backward)
    ret = returns(gen)
    if ret:
        out.add(1, f"return {ret}")
    elif not backward.lines and not turn_pushes and not adjoint_init(gen):
        out.add(1, "pass")
    out.add(0, "")
    out.add(0, "")


def pre_init(gen, turn_pushes):
    """Names pushed while possibly unbound get None first (so the push is defined)."""
    names = set()
    for stmt_id, pushed in gen.tbr.full_pushes.items():
        names |= {n for n in pushed if n not in gen.bound_before.get(stmt_id, frozenset())}
    for stmt_id, pushed in gen.tbr.alias_pushes.items():
        names |= {n for n in pushed if n not in gen.bound_before.get(stmt_id, frozenset())}
    for loop_id, pushed in gen.tbr.loop_pushes.items():
        names |= {n for n in pushed if n not in gen.bound_before.get(loop_id, frozenset())}
    names |= {n for n in turn_pushes if n not in gen.bound_end}
    return sorted(names)


def adjoint_init(gen):
    """Lines at the turn: adjoints start at zero, except the ones passed in."""
    given = set(gen.adjoint_inputs())
    results = list(gen.func.result_names) if gen.result_active() else []
    zeros = sorted(n for n in gen.ctx.active if n not in given and n not in results
                   and n in gen.func.locals)
    lines = []
    if len(results) > 1:
        lines.append(", ".join(gen.ctx.adj(r) for r in results) + f" = ad.items(result_b, {len(results)})")
    dense = gen.ctx.dense_names
    for n in zeros:
        if n in dense:
            lines.append(f"{gen.ctx.adj(n)} = np.zeros_like({n}, dtype=float)")
        else:
            lines.append(f"{gen.ctx.adj(n)} = 0.0")
    for n in sorted(given & dense):
        lines.append(f"{gen.ctx.adj(n)} = ad.dense({gen.ctx.adj(n)}, {n})")
    return lines


def signature(gen, mode):
    """The parameters of the variant ``mode``: the tape, the primal's, then (but for ``f_fwd``)
    the adjoints passed in, then the profiler and the verifier when on."""
    params = list(gen.func.params)
    head = ["tape"] + params
    if mode == "fwd":
        return head + [a.id for a in gen.run_arguments()]
    extra = []
    if gen.result_active():
        extra.append("result_b" if len(gen.func.result_names) > 1 else gen.ctx.adj(gen.func.result_names[0]))
    extra += [gen.ctx.adj(p) for p in gen.adjoint_inputs()]
    return head + extra + [a.id for a in gen.run_arguments()]


def returns(gen):
    """What a joint or backward sweep returns: the adjoints of its active parameters, or None."""
    outs = [gen.ctx.adj(p) for p in gen.active_params]
    if not outs:
        return None
    return outs[0] if len(outs) == 1 else ", ".join(outs)


def _turn_hook(gen, hook, kind, turn_pushes):
    """The profiling event at a turn, given the locals a split forward sweep pushes there: a
    hook that measures them, or, with none, an inline event."""
    if not turn_pushes:
        return inline_event(kind, gen.key)
    return f"prof.{hook}({gen.key!r}, tape, ({', '.join(turn_pushes)},))"
