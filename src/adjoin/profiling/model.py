"""The model (DESIGN.md, "The model"): predicted time and peak tape of any placement.

For an instance n in mode m (joint or split), with children in call order:

* ``Tape(n) = T(n) + sum(S(c) if c checkpointed else Tape(c))``, ``T(n)`` = Tj or Ts by m;
* ``Peak(n) = max(Tape(n), max_k prefix_k(n) + Peak(k))`` where ``prefix_k(n)`` is what n's forward
  sweep pushed before child k; a checkpointed child is reversed after its snapshot is popped, in
  joint mode, a split child's backward sweep starts with its forward sweep's pushes on the tape;
* ``J(n) = F(n) + B(n) + sum(W(c) + P(c) + R(c) + J(c) if c checkpointed else J(c))``.

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
    """Evaluates placements on a (merged) checkpoint tree."""

    def __init__(self, root):
        self.root = root
        self.below = {}          # id(node) -> frozenset of site ids in its subtree (children's sites)
        self.cache = {}
        self._index(root)

    def _index(self, node):
        sites = set()
        for child in node.children:
            sites.add(child.node.site)
            sites |= self._index(child.node)
        self.below[id(node)] = frozenset(sites)
        return self.below[id(node)]

    def evaluate(self, off):
        """Prediction for the placement whose non-checkpointed sites are ``off``."""
        off = frozenset(off)
        _, peak, seconds = self._node(self.root, True, off)
        return Prediction(seconds, peak)

    def _node(self, node, joint, off):
        relevant = self.below[id(node)] & off
        key = (id(node), joint, relevant)
        found = self.cache.get(key)
        if found is not None:
            return found
        own = node.Tj if joint else node.Ts
        prefix = 0          # own bytes and children's parts pushed so far
        peak = 0
        seconds = node.F + node.B
        for child in node.children:
            c = child.node
            checkpointed = c.site not in relevant
            tape_c, peak_c, time_c = self._node(c, checkpointed, off)
            part = c.S if checkpointed else tape_c
            m = child.count
            last = prefix + m * child.own_before + (m - 1) * part
            peak = max(peak, last + peak_c)
            prefix += m * (child.own_before + part)
            seconds += m * (time_c + (c.W + c.P + c.R if checkpointed else 0.0))
        children_parts = prefix - sum(ch.count * ch.own_before for ch in node.children)
        tape = own + children_parts
        peak = max(peak, tape)
        result = (tape, peak, seconds)
        self.cache[key] = result
        return result
