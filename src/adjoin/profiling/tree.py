"""The checkpoint tree: from the profiling events of one adjoint run to the model's quantities.

Every checkpoint instance is a node with, in DESIGN.md's notation: ``S`` snapshot bytes, ``Tj`` /
``Ts`` its own bytes pushed by its forward sweep in joint / split mode, ``P`` primal time of its
subtree (the advance), ``W`` / ``R`` snapshot write / read times, ``F`` / ``B`` its own forward /
backward sweep times (in joint mode), ``L`` the time a split forward sweep spends pushing the
locals its backward sweep needs and that sweep popping them (added in split mode only), and its
children in call order, each with the own bytes its parent pushed just before it.  The root is
the head, always joint.

Instances repeated identically (the same site, the same structure and bytes: a time loop) are
merged into one node with a count as they finish, so the tree stays small; at the end, identical
subtrees anywhere in the tree become one node (``unify``), their times averaged (``robust_mean``),
so the simulator evaluates each once.
"""
from dataclasses import dataclass, field
from operator import attrgetter, mul

from ..runtime import profiler as ev
from ..runtime.loops import iteration_id
from ..runtime.profiler import timed


@dataclass
class Node:
    """One checkpoint instance (or several identical ones: see ``Child.count``)."""
    site: str                     # site id ("" for the root)
    function: str = ""
    measured_joint: bool = True   # the mode it ran in when profiled
    S: int = 0
    Tj: int = 0
    Ts: int = 0
    P: float = 0.0
    W: float = 0.0
    R: float = 0.0
    F: float = 0.0
    B: float = 0.0
    L: float = 0.0
    children: list = field(default_factory=list)     # [Child]
    P_measured: bool = None       # P timed (an advance, or a sample of a split one); default: measured_joint

    def __post_init__(self):
        if self.P_measured is None:
            self.P_measured = self.measured_joint


_FIELDS = frozenset(Node.__dataclass_fields__)
TIMES = ("P", "W", "R", "F", "B", "L")      # a node's times (the rest are bytes and structure)


@dataclass
class Child:
    """A run of ``count`` identical child instances, each after ``own_before`` own bytes of its parent."""
    node: Node
    own_before: int
    count: int = 1


class TreeError(Exception):
    """The events do not nest as generated code makes them (a bug)."""


def _new(site, joint):
    """A node being built: the model's fields, and what the builder keeps while its sweeps run
    (clocks and tape sizes at its events, its children's parts so far).  ``unify`` drops these."""
    node = Node(site, measured_joint=joint)
    node.parts = 0          # bytes its children's snapshots or tapes took on the tape so far
    node.own = 0            # own bytes pushed before its last child
    node.fwd = 0.0          # time of its children in its forward sweep
    node.bwd = 0.0          # time of its children in its backward sweep
    node.pending = []       # children whose reversal is to come, in call order
    node.shape = None       # names its bytes and structure once finished
    node.split_locals = 0   # the locals a split forward sweep pushes at its turn (none: an iteration)
    return node


class TreeBuilder:
    """Builds the checkpoint tree while the run goes (DESIGN.md: bounded memory on long runs).

    Each finished instance is merged at once with the identical run of siblings after it
    (siblings are reversed last first), so a time loop of thousands of steps holds a handful of
    nodes; only the instances whose reversal is still to come are kept one by one.
    """

    def __init__(self):
        self.root = _new("", True)
        self.root.base = 0
        self.root.t_begin = 0.0
        self.stack = [self.root]     # nodes whose forward or backward sweep is running
        self.shapes = {}             # (site, bytes, children's shapes) -> a small number
        self.writing = None          # the instance whose snapshot is being written
        self.reading = None          # the instance whose snapshot is being read
        self._handlers = {           # event kind -> the method that takes it
            ev.SNAPSHOT_WRITE: self._snapshot_write, ev.BEGIN_ADVANCE: self._begin_advance,
            ev.END_ADVANCE: self._end_advance, ev.TURN: self._turn,
            ev.SNAPSHOT_READ: self._snapshot_read, ev.BEGIN_REVERSE: self._begin_reverse,
            ev.END_REVERSE: self._end_reverse, ev.END_SPLIT_REVERSE: self._end_reverse,
            ev.BEGIN_SPLIT: self._begin_split, ev.SPLIT_TURN: self._split_turn,
            ev.END_SPLIT: self._end_split, ev.BEGIN_SPLIT_REVERSE: self._begin_split_reverse,
            ev.BEGIN_SAMPLE: self._begin_sample, ev.END_SAMPLE: self._end_sample}
        self.sampled = None          # (site, seconds) of the primal just timed
        self.samples = {}            # site -> [(primal seconds, forward sweep seconds)] (split ones)

    def ready(self):
        """Nothing to wait for (TreeProcess waits for its helper to start)."""

    def feed(self, events, header):
        """Takes one batch of a Recorder's raw events (a Recorder's sink)."""
        for event in timed(events, header):
            self(*event)

    def finish(self, end):
        """The finished tree, once the run is over at ``end`` seconds: (root, primal ratio)."""
        return complete(self.root, end, self.shapes, self.samples)

    def __call__(self, kind, site, nbytes, t, extra, extra_t):
        """One timed event (see profiler.timed)."""
        handler = self._handlers.get(kind)
        if handler is None:
            raise TreeError(f"unknown event {kind}")
        handler(site, nbytes, t, extra, extra_t)

    # -- checkpointed (joint) instances ---------------------------------------------------------
    def _snapshot_write(self, site, nbytes, t, extra, extra_t):
        node = _new(site, True)
        node.sw_bytes = nbytes
        node.sw_t = t
        _attach(self.stack[-1], node, nbytes)
        self.writing = node

    def _begin_advance(self, site, nbytes, t, extra, extra_t):
        node = self.writing
        if node is None:             # an empty snapshot: no snapshot-write event
            node = _new(site, True)
            node.sw_t = t
            _attach(self.stack[-1], node, nbytes)
        elif node.site != site:
            raise TreeError(f"advance of {site} after the snapshot of {node.site}")
        else:
            node.S = nbytes - node.sw_bytes
            node.W = t - node.sw_t
            self.stack[-1].parts += node.S
            self.writing = None
        node.ba_t = t

    def _end_advance(self, site, nbytes, t, extra, extra_t):
        current = self.stack[-1]
        node = _last_child(current, site)
        node.P = t - node.ba_t
        current.fwd += t - node.sw_t

    def _turn(self, site, nbytes, t, extra, extra_t):
        current = self.stack[-1]
        current.turn_t = t
        current.Tj = nbytes - current.base - current.parts
        current.F = t - current.t_begin - current.fwd
        current.Ts = current.Tj + extra
        current.L = extra_t
        current.function = site

    def _snapshot_read(self, site, nbytes, t, extra, extra_t):
        node = _next_to_reverse(self.stack[-1], site)
        node.sr_t = t
        self.stack.append(node)
        self.reading = node

    def _begin_reverse(self, site, nbytes, t, extra, extra_t):
        node = self.reading
        if node is None:             # an empty snapshot: no snapshot-read event
            node = _next_to_reverse(self.stack[-1], site)
            node.sr_t = t
            self.stack.append(node)
        elif node.site != site:
            raise TreeError(f"reversal of {site} after the snapshot of {node.site} was read")
        else:
            node.R = t - node.sr_t
            self.reading = None
        node.base = nbytes
        node.t_begin = t

    def _end_reverse(self, site, nbytes, t, extra, extra_t):
        """The end of a joint reversal or of a split backward sweep."""
        node = self.stack.pop()
        if node.site != site:
            raise TreeError(f"end of the reversal of {site} while in {node.site}")
        node.B = t - node.turn_t - node.bwd
        parent = self.stack[-1]
        parent.bwd += t - node.sr_t
        self._finished(parent, node)

    # -- split instances ------------------------------------------------------------------------
    def _begin_split(self, site, nbytes, t, extra, extra_t):
        node = _new(site, False)
        node.S = extra
        node.W = extra_t
        node.base = nbytes
        node.t_begin = t
        if self.sampled is not None and self.sampled[0] == site:
            node.sampled = self.sampled[1]
            self.sampled = None
        _attach(self.stack[-1], node, nbytes)
        self.stack.append(node)

    def _split_turn(self, site, nbytes, t, extra, extra_t):
        current = self.stack[-1]
        current.split_locals = extra
        current.L = extra_t

    def _end_split(self, site, nbytes, t, extra, extra_t):
        node = self.stack.pop()
        if node.site != site:
            raise TreeError(f"end of split {site} while in {node.site}")
        pushed = nbytes - node.base
        node.Ts = pushed - node.parts
        node.Tj = node.Ts - node.split_locals
        node.F = max(t - node.t_begin - node.fwd - node.L, 0.0)     # as in joint mode
        parent = self.stack[-1]
        parent.parts += pushed
        parent.fwd += t - node.t_begin
        if getattr(node, "sampled", None) is not None:
            # its forward sweep as the node's P will be derived from (_forward_seconds): its own
            # and its children's, split locals' pushes and the primals timed below it left out
            self.samples.setdefault(site, []).append((node.sampled, _forward_seconds(node, {})))

    # -- primals timed from a copy set back after: a loop site's iterations (runtime/loops.py,
    # samples) and a split call's first instances (transform/calls.py, _sampled) ---------------
    def _begin_sample(self, site, nbytes, t, extra, extra_t):
        self.sample_t = t

    def _end_sample(self, site, nbytes, t, extra, extra_t):
        seconds = t - self.sample_t
        self.stack[-1].fwd += seconds      # not its caller's own forward sweep time
        self.sampled = (site, seconds)

    def _begin_split_reverse(self, site, nbytes, t, extra, extra_t):
        # a split reversal is its backward sweep alone: it ends like a joint one (_end_reverse)
        node = _next_to_reverse(self.stack[-1], site)
        node.sr_t = node.turn_t = t
        self.stack.append(node)

    def _finished(self, parent, node):
        """Merges a finished instance with the run of identical siblings that follows it."""
        node.pending = None
        node.shape = self.shapes.setdefault(
            (node.site, node.S, node.Tj, node.Ts,
             tuple((c.node.shape, c.own_before, c.count) for c in node.children)), len(self.shapes))
        children = parent.children
        k = len(children) - 1
        while children[k].node is not node:      # those after it were reversed before it
            k -= 1
        if k + 1 < len(children):
            this, after = children[k], children[k + 1]
            if after.own_before == this.own_before and after.node.shape == node.shape:
                # the run's own times are averaged here; those below it, when the whole tree is
                # unified at the end (unify), which is cheaper than averaging subtrees at every merge
                n, m = after.count, this.count
                other = after.node
                other.P = (other.P * n + node.P * m) / (n + m)
                other.W = (other.W * n + node.W * m) / (n + m)
                other.R = (other.R * n + node.R * m) / (n + m)
                other.F = (other.F * n + node.F * m) / (n + m)
                other.B = (other.B * n + node.B * m) / (n + m)
                other.L = (other.L * n + node.L * m) / (n + m)
                after.count += m
                del children[k]


def complete(root, end, shapes=None, samples=None):
    """Finishes a built tree: the root's backward sweep, the primal times of split instances
    sampled or estimated, identical subtrees made one node with their times averaged: (root,
    primal ratio).

    Runs of identical siblings were merged as the instances finished; ``shapes`` is the
    builder's table naming them; ``samples``: the primals timed (split sites' and loop site
    iterations')."""
    finish_root(root, end)
    root = unify(root, shapes)          # first: the estimate then runs on the distinct nodes
    sampled_primals(root, samples or {})
    ratio = estimate_unmeasured(root)
    return root, ratio


def finish_root(root, end_t):
    """The root's backward sweep time, once the run is over."""
    root.B = end_t - root.turn_t - root.bwd


def _attach(parent, node, nbytes):
    own = nbytes - parent.base - parent.parts       # own bytes pushed so far
    parent.children.append(Child(node, own - parent.own))
    parent.own = own
    parent.pending.append(node)


def _last_child(parent, site):
    node = parent.children[-1].node if parent.children else None
    if node is None or node.site != site:
        raise TreeError(f"no instance of {site} under {parent.site or 'the head'}")
    return node


def _next_to_reverse(parent, site):
    queue = parent.pending
    if not queue or queue[-1].site != site:
        raise TreeError(f"reversal of {site} out of order under {parent.site or 'the head'}")
    return queue.pop()


def _strip(node):
    """Drops what the builder kept on a node."""
    for name in [name for name in vars(node) if name not in _FIELDS]:
        delattr(node, name)


# -- merging identical instances ------------------------------------------------------------------

def _shape(node, shapes):
    """The small number naming a node's site, bytes and structure below it (``shapes`` maps the
    signature, with children named by their numbers, to numbers); the builder names each instance
    as it finishes, so only nodes it did not finish are named here."""
    number = getattr(node, "shape", None)
    if number is None:
        key = (node.site, node.S, node.Tj, node.Ts,
               tuple((_shape(c.node, shapes), c.own_before, c.count) for c in node.children))
        number = node.shape = shapes.setdefault(key, len(shapes))
    return number


def unify(root, shapes=None):
    """Gives every instance with the same site, bytes and structure below it (anywhere in the tree)
    the same times, averaged over all of them (``robust_mean``), and makes them one node: the
    tree becomes a graph where a subtree seen thousands of times in the run is held once, and the
    simulator evaluates it once per placement.  What the builder kept on the nodes is dropped."""
    shapes = {} if shapes is None else shapes
    groups = {}                  # shape number -> [(node, weight)]

    def walk(node, weight):
        for c in node.children:
            walk(c.node, weight * c.count)
        number = getattr(node, "shape", None)
        groups.setdefault(_shape(node, shapes) if number is None else number, []).append((node, weight))
    walk(root, 1)
    first_of = {}
    times = attrgetter(*TIMES)
    for number, members in groups.items():
        first = members[0][0]
        if len(members) > 1:
            columns = zip(*[times(n) for n, _ in members])
            weights = [w for _, w in members]
            for name, values in zip(TIMES, columns):
                setattr(first, name, robust_mean(values, weights))
        first_of[number] = first
    for first in first_of.values():
        for child in first.children:
            child.node = first_of[child.node.shape]
    unified = first_of[root.shape]
    for first in first_of.values():
        _strip(first)
    return unified


# an instance that took more than this many times the median of its identical instances, plus
# STALL_SECONDS, was interrupted (the system, a page-in): it counts at that bound
OUTLIER = 10.0
STALL_SECONDS = 1e-3


def robust_mean(values, weights):
    """The weighted mean of ``values`` (seconds), each first bounded by OUTLIER times their
    weighted median plus STALL_SECONDS.  Thousands of identical instances (the iterations of a
    solver in every time step) make one node, and a site's ΔT sums them: one instance that the
    machine stalled for half a second would otherwise add half a second to ΔT."""
    total = sum(weights)
    mean = sum(map(mul, values, weights)) / total
    if len(values) < 3 or max(values) <= OUTLIER * min(values) + STALL_SECONDS:
        return mean                 # (the median is at least the smallest: nothing to bound)
    values = list(values)
    half, seen = total / 2.0, 0
    for median, w in sorted(zip(values, weights)):
        seen += w
        if seen >= half:
            break
    bound = OUTLIER * median + STALL_SECONDS
    return sum(min(v, bound) * w for v, w in zip(values, weights)) / total


def distinct_nodes(root):
    """Every distinct node of the tree (a graph once unified), each once."""
    seen, stack, out = set(), [root], []
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            out.append(node)
            stack.extend(c.node for c in node.children)
    return out


def advances_measured(root):
    """Whether some instance ran an advance (was checkpointed) in the profiled run."""
    return any(c.node.measured_joint or advances_measured(c.node) for c in root.children)


def estimate_unmeasured(root, primal_seconds=None):
    """Primal times of instances profiled in split mode whose primal was not timed (no advance
    ran, no sample: ``P_measured`` false): their forward sweep time, scaled by the ratio primal /
    forward sweep seen on the call instances whose primal was measured (checkpointed, or split
    and sampled); when there are none, by ``primal_seconds`` (the head's primal, timed) over the
    root's whole forward sweep, else 1.  Measured primal times are left as they are."""
    pairs, totals = [], {}

    def forward_total(node):
        return _forward_seconds(node, totals)

    for node in distinct_nodes(root):
        if (node is not root and (node.measured_joint or node.P_measured) and not node.site.endswith(ITERATION)
                and node.P > 0 and forward_total(node) > 0):
            pairs.append(node.P / forward_total(node))
    pairs.sort()
    if pairs:
        ratio = pairs[len(pairs) // 2]
    elif primal_seconds and forward_total(root) > 0:
        ratio = primal_seconds / forward_total(root)
    else:
        ratio = 1.0
    for node in distinct_nodes(root):
        if not node.measured_joint and not node.P_measured and not node.site.endswith(ITERATION):
            node.P = ratio * forward_total(node)
            node.R = node.W
            node.P_measured = False
    return ratio


ITERATION = iteration_id("")    # the end of a loop site iteration's name


def sampled_primals(root, samples):
    """The primal time of every split instance whose site had some timed (``samples``: site ->
    [(primal, forward sweep seconds)]: loop site iterations, the first instances of split call
    sites): the median ratio of the two times its forward sweep; the restore of its snapshot or
    state costs its copy.  Measured (P_measured): profiling hooks left no time in it, unlike the
    sweeps that fit_to_plain_run scales.  A loop site iteration with none gets its forward sweep
    (not measured); the other split instances are left to estimate_unmeasured."""
    totals = {}
    for node in distinct_nodes(root):
        if node.measured_joint:
            continue
        ratios = sorted(p / f for p, f in samples.get(node.site, ()) if f > 0)
        if not ratios and not node.site.endswith(ITERATION):
            continue
        ratio = ratios[len(ratios) // 2] if ratios else 1.0
        node.P = ratio * _forward_seconds(node, totals)
        node.R = node.W
        node.P_measured = bool(ratios)


def _forward_seconds(node, totals):
    """The seconds of a node's forward sweep, its children's included (a checkpointed child's
    snapshot and advance), split locals' pushes left out; ``totals`` caches them by node."""
    total = totals.get(id(node))
    if total is None:
        total = totals[id(node)] = node.F + sum(
            c.count * (c.node.W + c.node.P if c.node.measured_joint else _forward_seconds(c.node, totals))
            for c in node.children)
    return total


def median_tree(trees):
    """The first of ``trees`` (profiles of the same run: the same structure and bytes) with, on
    every node, the median of its times over all of them; the first unchanged when they differ
    in structure (a run whose bytes depend on timing, say)."""
    first = trees[0]
    if len(trees) < 2:
        return first
    pairs, stack, seen = [], [tuple(trees)], set()
    while stack:
        nodes = stack.pop()
        if id(nodes[0]) in seen:
            continue
        seen.add(id(nodes[0]))
        shapes = {(n.site, n.S, n.Tj, n.Ts, tuple((c.own_before, c.count) for c in n.children))
                  for n in nodes}
        if len(shapes) != 1:
            return first
        pairs.append(nodes)
        stack.extend(tuple(c.node for c in children) for children in zip(*(n.children for n in nodes)))
    for nodes in pairs:
        for name in TIMES:
            values = sorted(getattr(n, name) for n in nodes)
            k = len(values) // 2
            setattr(nodes[0], name, values[k] if len(values) % 2 else (values[k - 1] + values[k]) / 2)
    return first


def fit_to_plain_run(root, plain_seconds):
    """Makes the tree's times add up to a plain run's (no hooks): what the hooks cost beyond what
    the recorder left out of its clocks is taken from the sweeps' own times F and B, the only
    intervals that hold hook calls, in proportion to them.  Advances (P), snapshot copies (W,
    R) and split locals' pushes (L) run no hook between their two events, so they keep their
    measured times, as do the sampled primals of split instances (P_measured: timed from a copy
    set back after, outside this run's time); the estimated ones were derived from sweep times
    and are scaled with them.

    Returns the factor applied to the sweeps (1 when the run had no overhead left)."""
    sweeps = 0.0             # instances' F + B, weighted by how many instances each node stands for
    fixed = 0.0              # measured advances and snapshot copies of checkpointed instances

    def total(node, weight):
        nonlocal sweeps, fixed
        sweeps += weight * (node.F + node.B)
        for child in node.children:
            c = child.node
            if c.measured_joint:
                fixed += weight * child.count * (c.W + c.P + c.R)
            else:
                fixed += weight * child.count * c.L
            total(c, weight * child.count)
    total(root, 1)
    if sweeps <= 0:
        return 1.0
    factor = (plain_seconds - fixed) / sweeps
    if factor <= 0:          # the plain run was faster than the advances alone: noise; scale all
        factor = plain_seconds / (sweeps + fixed)
        names = ("P", "W", "R", "F", "B", "L")
    else:
        names = ("F", "B")
    seen = set()

    def scale(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for name in names:
            setattr(node, name, getattr(node, name) * factor)
        if not node.P_measured and "P" not in names:
            node.P *= factor
        for child in node.children:
            scale(child.node)
    scale(root)
    return factor
