"""To-be-recorded analysis: which overwritten values the forward sweep must push on the tape.

Forward over the function: the state maps each name whose current value the backward sweep will
read to 'v' (its value) or 'b' (only its binding: shape and identity, for ``ad.sum_to`` and
``ad.dense``).  A statement first adds what its own adjoint reads (values before it), then
overwrites: a rebound name that is needed is pushed whole; an array updated in place is pushed
(the updated region) only if its value is needed — its binding survives.

Calls between user functions follow the contract that makes both modes of a site leave the
caller's code unchanged: the caller provides, when the backward sweep reaches the call, the
arguments' bindings, the values of the arguments the callee only reads, and the after-call values
the callee's backward sweep reads (``needed_at_exit``); the callee's reverse restores the
before-call values of the arrays it updated that the caller still needs (``needed_in``).  The
snapshot of a checkpointed call restores the arrays the call both reads and updates.
"""
import ast
from dataclasses import dataclass, field

from .flow import Forward

VALUE, BINDING = "v", "b"
# A third kind of need, ("e", region): the value is needed except in ``region``, a constant index
# that the array's later writers all stay within (a work array whose interior a routine rewrites
# and whose boundary it only reads).  Writes to that region need no push.


def stronger(a, b):
    """The need that covers both ``a`` and ``b``."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if VALUE in (a, b):
        return VALUE
    if a == BINDING:
        return b
    if b == BINDING:
        return a
    return VALUE       # two different exempt regions


def overwrites_needed(need, region):
    """Does writing ``region`` (None: unknown or whole) destroy values that ``need`` keeps?"""
    if need == VALUE:
        return True
    if isinstance(need, tuple):
        return region is None or region != need[1]
    return False


@dataclass
class StatementEffect:
    """What TBR needs to know of one simple statement."""
    value_reads: frozenset = frozenset()
    binding_reads: frozenset = frozenset()
    full_writes: frozenset = frozenset()       # names rebound
    partial_writes: frozenset = frozenset()    # names updated in place (push the region)
    call: object = None                        # CallEffect for user calls
    reads_after: frozenset = frozenset()       # names whose after-statement values its reverse reads
    whole_writes: frozenset = frozenset()      # arrays whose every element is overwritten in place
    write_regions: tuple = ()                  # (name, constant region) of its partial writes
    kept_except: tuple = ()                    # (name, region): after it, needed except region
    alias_writes: frozenset = frozenset()      # other names whose memory its in-place writes may reach


@dataclass
class CallEffect:
    """A user call's written arguments, for needed_in propagation."""
    callee: str
    written_args: tuple       # (param, storage name, region the callee writes or None) triples


@dataclass
class TBRResult:
    """Push decisions of one function."""
    full_pushes: dict = field(default_factory=dict)       # id(stmt) -> set of names
    shape_only: set = field(default_factory=set)          # (id(stmt), name): only its shape is needed
    _kinds: dict = field(default_factory=dict, repr=False)
    partial_pushes: dict = field(default_factory=dict)    # id(stmt) -> set of names
    loop_pushes: dict = field(default_factory=dict)       # id(loop) -> set of names (loop index)
    alias_pushes: dict = field(default_factory=dict)      # id(stmt) -> names pushed whole because
                                                          # an in-place write through another name
                                                          # may change them
    needed_at_end: dict = field(default_factory=dict)     # name -> 'v' | 'b'
    # id(loop) -> names the backward sweep of the code before the loop needs when the loop starts
    # (the loop's own reads left out): a loop site's state holds those the loop overwrites
    needed_before_loop: dict = field(default_factory=dict)
    callee_needed_in: dict = field(default_factory=dict)  # callee -> set of params


class TBR(Forward):
    """Runs TBR over one function body given the effects of its simple statements."""

    def __init__(self, effects, loop_reads, loop_given=None):
        self.effects = effects          # id(stmt) -> StatementEffect
        self.loop_reads = loop_reads    # id(loop) -> names its reverse re-evaluates (range bounds)
        self.loop_given = loop_given or {}  # id(loop) -> names each reversed iteration computes again
        self.result = TBRResult()

    def join(self, a, b):
        out = dict(a)
        for k, v in b.items():
            out[k] = stronger(out.get(k), v)
        return out

    @staticmethod
    def need(state, names, kind):
        for n in names:
            state[n] = stronger(state.get(n), kind)

    def given(self, loop):
        """Names the reversed loop gives their values: its index, and the indices it computes again."""
        names = set(self.loop_given.get(id(loop), ()))
        if isinstance(loop, ast.For):
            names.add(loop.target.id)
        return names

    def before_loop(self, stmt, state):
        self.result.needed_before_loop.setdefault(id(stmt), set()).update(state)
        state = dict(state)
        self.need(state, self.loop_reads.get(id(stmt), ()), VALUE)
        for n in sorted(self.given(stmt)):
            if n in state:
                self.result.loop_pushes.setdefault(id(stmt), set()).add(n)
                del state[n]
        return state

    def loop_entry(self, loop, state):
        given = self.given(loop) & set(state)
        return {k: v for k, v in state.items() if k not in given} if given else state

    def after_loop(self, loop, state):
        # the reversed loop gives these names their values, and the push before the loop the old ones
        if state is None:
            return state
        return self.loop_entry(loop, state)

    def transfer(self, stmt, state):
        effect = self.effects.get(id(stmt))
        if effect is None:
            return state
        before = state
        state = dict(state)
        self.need(state, effect.binding_reads, BINDING)
        self.need(state, effect.value_reads, VALUE)
        full = {n for n in effect.full_writes if n in state}
        regions = dict(effect.write_regions)
        partial = {n for n in effect.partial_writes if overwrites_needed(state.get(n), regions.get(n))}
        # a name sharing memory with an array written in place (a view, a second name) changes too
        aliased = {n for n in effect.alias_writes if overwrites_needed(state.get(n), None)
                   and n not in effect.full_writes and n not in effect.partial_writes}
        if aliased:
            self.result.alias_pushes.setdefault(id(stmt), set()).update(aliased)
        if full:
            self.result.full_pushes.setdefault(id(stmt), set()).update(full)
            for n in full:
                key = (id(stmt), n)
                self.result._kinds[key] = stronger(self.result._kinds.get(key), state[n])
                if self.result._kinds[key] == BINDING:
                    self.result.shape_only.add(key)
                else:
                    self.result.shape_only.discard(key)
        if partial:
            self.result.partial_pushes.setdefault(id(stmt), set()).update(partial)
        if effect.call is not None:
            # the callee's reverse must give back the before-call values of the arrays it updates
            # that earlier statements read, or that this call's own argument expressions read
            wanted = {param for param, arg, region in effect.call.written_args
                      if overwrites_needed(before.get(arg), region) or arg in effect.value_reads}
            if wanted:
                self.result.callee_needed_in.setdefault(effect.call.callee, set()).update(wanted)
        for n in effect.full_writes:
            state.pop(n, None)
        for n in effect.whole_writes | aliased:
            if n in state:
                state[n] = BINDING    # the old values are saved; the array object is still needed
        self.need(state, effect.reads_after, VALUE)
        for n, region in effect.kept_except:
            self.need(state, (n,), ("e", region) if region is not None else VALUE)
        return state


def run_tbr(body, effects, loop_reads, needed_in_params, loop_given=None):
    """TBR of one function; ``needed_in_params`` are needed at entry (the callers' contract);
    ``loop_given``: id(loop) -> the indices its reversed iterations compute again."""
    analysis = TBR(effects, loop_reads, loop_given)
    start = {p: VALUE for p in needed_in_params}
    end = analysis.run(body, start)
    analysis.result.needed_at_end = end or {}
    return analysis.result
