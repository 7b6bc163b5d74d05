"""The model (DESIGN.md, "The model"): predicted time and peak tape of any placement.

For an instance n in mode m (joint or split), with children in call order:

* ``Tape(n) = T(n) + sum(S(c) if c checkpointed else Tape(c))``, ``T(n)`` = Tj or Ts by m;
* ``Peak(n) = max(Tape(n), max_k prefix_k(n) + Peak(k))`` where ``prefix_k(n)`` is what n's forward
  sweep pushed before child k; a checkpointed child is reversed after its snapshot is popped, in
  joint mode, a split child's backward sweep starts with its forward sweep's pushes on the tape;
* ``J(n) = F(n) + B(n) + sum(W(c) + P(c) + R(c) + J(c) if c checkpointed else J(c))``, plus
  ``L(n)`` in split mode: a split forward sweep pushes the locals its backward sweep needs (copies),
  which a joint adjoint keeps alive instead (DESIGN.md's model extended as Tj/Ts extends bytes).

Tape traffic (traffic.py): every joint instance is a stack episode whose forward sweep pushes
``Tape(n)`` bytes and whose backward sweep pops them; it costs ``X(Tape(n))`` seconds more than
the same bytes would cost in the cache (calibrated when profiling).  The measured times hold the
profiled placement's episodes, ``X0 = sum over them``, so a placement is predicted at
``J(root) + sum over its episodes of X(Tape(n)) - X0``: the profiled placement at ``J(root)``.

A run of ``count`` identical children peaks at its last one.  Results are cached per node and
per the decisions of the sites below it, so searching many placements stays fast.
"""
from dataclasses import dataclass

from .loops import DiskCost, fixed_costs, plan
from .tree import distinct_nodes
from ..runtime.loops import iteration_id


@dataclass(frozen=True)
class Prediction:
    """Predicted run time (s) and peak tape (bytes) of a placement."""
    seconds: float
    peak_tape_bytes: int


class Simulator:
    """Evaluates placements on a (merged) checkpoint tree.

    ``traffic``: the extra seconds of a stack episode by its bytes (a traffic.TrafficCost; None:
    none); ``profiled_off``: the sites not checkpointed in the profiled run, whose episodes the
    measured times hold; ``loops``: loop site id -> (snapshots, disk) it gets when a placement
    checkpoints it and names no schedule; ``disk``: loop site id -> loops.DiskCost.

    A loop site's run is a node of the tree whose children are its iterations (profiled with
    every iteration taped, the site placed not checkpointed); checkpointed, it is evaluated by
    ``_loop`` from its schedule's plan (loops.py)."""

    def __init__(self, root, traffic=None, profiled_off=(), loops=None, disk=None):
        self.root = root
        self.traffic = traffic if traffic is not None and traffic.depths else None
        self.loop_defaults = dict(loops or {})
        self.disk = dict(disk or {})
        self.unsited = set(self.loop_defaults) | {iteration_id(k) for k in self.loop_defaults}
        self.bit = {}            # site id -> its bit in a placement mask
        self.below = {}          # id(node) -> mask of the sites in its subtree
        self.loops_below = {}    # id(node) -> the loop sites in its subtree
        self.shape = {}          # id(node) -> id of the first node with the same bytes and times
        self.cache = {}
        self._shapes = {}
        self._index(root)
        self.profiled_traffic = self._node(root, True, self.mask(profiled_off), ())[3]

    def _index(self, node):
        """Sites below each node (as a bit mask), and identical subtrees (their results are shared)."""
        mask = 0
        loops = set()
        parts = []
        for child in node.children:
            site = child.node.site
            if site in self.loop_defaults:
                loops.add(site)
            elif site not in self.unsited and site not in self.bit:
                self.bit[site] = 1 << len(self.bit)
            mask |= self.bit.get(site, 0) | self._index(child.node)
            loops |= self.loops_below[id(child.node)]
            parts.append((self.shape[id(child.node)], child.own_before, child.count))
        self.below[id(node)] = mask
        self.loops_below[id(node)] = frozenset(loops)
        key = (node.site, node.S, node.Tj, node.Ts, node.P, node.W, node.R, node.F, node.B, node.L,
               tuple(parts))
        self.shape[id(node)] = self._shapes.setdefault(key, id(node))
        return mask

    def iterations(self, loop_id):
        """The most iterations a run of the loop site ``loop_id`` made in the profiled run."""
        return max((sum(c.count for c in node.children) for node in distinct_nodes(self.root)
                    if node.site == loop_id), default=0)

    def mask(self, off):
        """The bit mask of a set of site ids."""
        mask = 0
        for site in off:
            mask |= self.bit.get(site, 0)
        return mask

    def schedules(self, off, schedules=None):
        """((loop site id, snapshots, disk), ...) of the loop sites checkpointed by the placement
        whose sites not checkpointed are ``off``: ``schedules``' numbers, else the defaults."""
        chosen = dict(schedules or {})
        return tuple(sorted((site, *chosen.get(site, default)) for site, default in self.loop_defaults.items()
                            if site not in off))

    def evaluate(self, off, schedules=None):
        """Prediction for the placement whose non-checkpointed sites are ``off`` (loop sites
        checkpointed get ``schedules``' numbers, {id: (snapshots, disk)}, else their defaults)."""
        _, peak, seconds, traffic = self._node(self.root, True, self.mask(off), self.schedules(off, schedules))
        return Prediction(seconds + traffic - self.profiled_traffic, peak)

    def traffic_seconds(self, off, schedules=None):
        """The extra seconds of the placement's stack episodes (``X``, before ``X0`` is taken)."""
        return self._node(self.root, True, self.mask(off), self.schedules(off, schedules))[3]

    def tape(self, node, joint, off, schedules=None):
        """Tape(node) in a mode, for the placement ``off`` (a set of site ids)."""
        return self._node(node, joint, self.mask(off), self.schedules(off, schedules))[0]

    def _node(self, node, joint, off, loops):
        relevant = self.below[id(node)] & off
        inside = self.loops_below[id(node)]
        placed = tuple(entry for entry in loops if entry[0] in inside) if inside else ()
        key = (self.shape[id(node)], joint, relevant, placed)
        found = self.cache.get(key)
        if found is not None:
            return found
        own = node.Tj if joint else node.Ts
        prefix = 0          # own bytes and children's parts pushed so far
        peak = 0
        seconds = node.F + node.B if joint else node.F + node.B + node.L
        traffic = 0.0       # extra seconds of the stack episodes in its subtree
        for child in node.children:
            c = child.node
            bit = self.bit.get(c.site)
            checkpointed = bit is not None and not (bit & relevant)
            schedule = next((entry[1:] for entry in placed if entry[0] == c.site), None) if placed else None
            if schedule is not None:
                tape_c, peak_c, time_c, traffic_c = self._loop(c, schedule, off, loops)
            else:
                tape_c, peak_c, time_c, traffic_c = self._node(c, checkpointed, off, loops)
            part = c.S if checkpointed else tape_c
            m = child.count
            last = prefix + m * child.own_before + (m - 1) * part
            peak = max(peak, last + peak_c)
            prefix += m * (child.own_before + part)
            seconds += m * (time_c + (c.W + c.P + c.R if checkpointed else 0.0))
            traffic += m * traffic_c
        children_parts = prefix - sum(ch.count * ch.own_before for ch in node.children)
        tape = own + children_parts
        peak = max(peak, tape)
        if joint and self.traffic is not None:       # an episode: its forward sweep's tape
            traffic += self.traffic(tape)
        result = (tape, peak, seconds, traffic)
        self.cache[key] = result
        return result

    def _loop(self, run, schedule, off, loops):
        """(tape left after the forward sweep, peak, seconds, traffic) of one run of a loop site
        under ``schedule`` (snapshots, disk): every iteration taped once and reversed once, as
        without checkpointing, plus what the schedule's plan adds (advances, stores, restores),
        and on the tape only the states in memory and the iteration being taped."""
        key = ("loop", self.shape[id(run)], schedule, self.below[id(run)] & off,
               tuple(e for e in loops if e[0] in self.loops_below[id(run)]))
        found = self.cache.get(key)
        if found is not None:
            return found
        fixed = self._loop_fixed(run, schedule)
        seconds = run.F + run.B + fixed.seconds
        peak = 0
        traffic = 0.0
        tape_k = 0          # the last iteration's tape (none when the loop ran no iteration)
        for child, in_memory in zip(run.children, fixed.in_memory):
            tape_k, peak_k, time_k, traffic_k = self._node(child.node, False, off, loops)
            seconds += child.count * time_k
            peak = max(peak, in_memory + peak_k)
            traffic += child.count * (traffic_k + (self.traffic(tape_k) if self.traffic is not None else 0.0))
        tape = fixed.after_forward + tape_k + run.Ts       # the last iteration is taped in the forward sweep
        if self.traffic is not None and run.children:    # the last iteration's tape: the caller's episode
            traffic -= self.traffic(tape_k)
        result = (tape, max(peak, tape), seconds, traffic)
        self.cache[key] = result
        return result

    def _loop_fixed(self, run, schedule):
        """What a loop site run costs under ``schedule`` whatever the placement inside it: see
        loops.fixed_costs."""
        key = ("fixed", id(run), schedule)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = fixed_costs(run, plan(sum(c.count for c in run.children), *schedule),
                                                  self.disk.get(run.site, DiskCost()))
        return found
