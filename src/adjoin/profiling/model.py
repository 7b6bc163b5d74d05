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


@dataclass(frozen=True)
class Prediction:
    """Predicted run time (s) and peak tape (bytes) of a placement."""
    seconds: float
    peak_tape_bytes: int


class Simulator:
    """Evaluates placements on a (merged) checkpoint tree.

    ``traffic``: the extra seconds of a stack episode by its bytes (a traffic.TrafficCost; None:
    none); ``profiled_off``: the sites not checkpointed in the profiled run, whose episodes the
    measured times hold."""

    def __init__(self, root, traffic=None, profiled_off=()):
        self.root = root
        self.traffic = traffic if traffic is not None and traffic.depths else None
        self.bit = {}            # site id -> its bit in a placement mask
        self.below = {}          # id(node) -> mask of the sites in its subtree
        self.shape = {}          # id(node) -> id of the first node with the same bytes and times
        self.cache = {}
        self._shapes = {}
        self._index(root)
        self.profiled_traffic = self._node(root, True, self.mask(profiled_off))[3]

    def _index(self, node):
        """Sites below each node (as a bit mask), and identical subtrees (their results are shared)."""
        mask = 0
        parts = []
        for child in node.children:
            site = child.node.site
            if site not in self.bit:
                self.bit[site] = 1 << len(self.bit)
            mask |= self.bit[site] | self._index(child.node)
            parts.append((self.shape[id(child.node)], child.own_before, child.count))
        self.below[id(node)] = mask
        key = (node.site, node.S, node.Tj, node.Ts, node.P, node.W, node.R, node.F, node.B, node.L,
               tuple(parts))
        self.shape[id(node)] = self._shapes.setdefault(key, id(node))
        return mask

    def mask(self, off):
        """The bit mask of a set of site ids."""
        mask = 0
        for site in off:
            mask |= self.bit.get(site, 0)
        return mask

    def evaluate(self, off):
        """Prediction for the placement whose non-checkpointed sites are ``off``."""
        _, peak, seconds, traffic = self._node(self.root, True, self.mask(off))
        return Prediction(seconds + traffic - self.profiled_traffic, peak)

    def traffic_seconds(self, off):
        """The extra seconds of the placement's stack episodes (``X``, before ``X0`` is taken)."""
        return self._node(self.root, True, self.mask(off))[3]

    def tape(self, node, joint, off):
        """Tape(node) in a mode, for the placement ``off`` (a set of site ids)."""
        return self._node(node, joint, self.mask(off))[0]

    def _node(self, node, joint, off):
        relevant = self.below[id(node)] & off
        key = (self.shape[id(node)], joint, relevant)
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
            checkpointed = not (self.bit[c.site] & relevant)
            tape_c, peak_c, time_c, traffic_c = self._node(c, checkpointed, off)
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
