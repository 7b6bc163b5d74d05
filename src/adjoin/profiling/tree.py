"""The checkpoint tree: from the profiling events of one adjoint run to the model's quantities.

Every checkpoint instance is a node with, in DESIGN.md's notation: ``S`` snapshot bytes, ``Tj`` /
``Ts`` its own bytes pushed by its forward sweep in joint / split mode, ``P`` primal time of its
subtree (the advance), ``W`` / ``R`` snapshot write / read times, ``F`` / ``B`` its own forward /
backward sweep times, and its children in call order, each with the own bytes its parent pushed
just before it.  The root is the head, always joint.

Instances repeated identically (the same site, the same structure and bytes: a time loop) are
merged into one node with a count, so the tree stays small and the simulator fast.  Their times
are averaged.
"""
from dataclasses import dataclass, field

from ..runtime import profiler as ev


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
    children: list = field(default_factory=list)     # [Child]
    P_measured: bool = True
    # raw marks while building
    marks: dict = field(default_factory=dict, repr=False)


@dataclass
class Child:
    """A run of ``count`` identical child instances, each after ``own_before`` own bytes of its parent."""
    node: Node
    own_before: int
    count: int = 1


class TreeError(Exception):
    """The events do not nest as generated code makes them (a bug)."""


class TreeBuilder:
    """Builds the checkpoint tree while the run goes (DESIGN.md: bounded memory on long runs).

    Each finished instance is merged at once with the identical run of siblings after it
    (siblings are reversed last first), so a time loop of thousands of steps holds a handful of
    nodes; only the instances whose reversal is still to come are kept one by one.
    """

    def __init__(self):
        self.root = Node("", measured_joint=True)
        self.root.marks["t_begin"] = 0.0
        self.root.marks["base"] = 0
        self.stack = [self.root]     # nodes whose forward or backward sweep is running
        self.pending = {}            # id(node) -> children not reversed yet (in call order)
        self.shapes = {}             # (site, bytes, children's shapes) -> a small number

    def __call__(self, kind, site, nbytes, t, extra, extra_t):
        stack, pending = self.stack, self.pending
        current = stack[-1]
        if kind == ev.SNAPSHOT_WRITE:
            node = Node(site, measured_joint=True)
            node.marks.update(sw_bytes=nbytes, sw_t=t)
            _attach(current, node, nbytes)
            pending.setdefault(id(current), []).append(node)
        elif kind == ev.BEGIN_ADVANCE:
            node = _last_child(current, site)
            node.S = nbytes - node.marks["sw_bytes"]
            node.W = t - node.marks["sw_t"]
            node.marks.update(ba_t=t, contribution=node.S)
            _add_mark(current, "parts", node.S)
        elif kind == ev.END_ADVANCE:
            node = _last_child(current, site)
            node.P = t - node.marks["ba_t"]
            node.marks["fwd_time"] = t - node.marks["sw_t"]
            _add_mark(current, "fwd", node.marks["fwd_time"])
        elif kind == ev.BEGIN_SPLIT:
            node = Node(site, measured_joint=False)
            node.S = extra
            node.W = extra_t
            node.marks.update(base=nbytes, t_begin=t)
            _attach(current, node, nbytes)
            pending.setdefault(id(current), []).append(node)
            stack.append(node)
        elif kind == ev.SPLIT_TURN:
            current.marks.update(turn_bytes=nbytes, turn_t=t, split_locals=extra)
        elif kind == ev.END_SPLIT:
            node = stack.pop()
            if node.site != site:
                raise TreeError(f"end of split {site} while in {node.site}")
            node.marks.update(end_bytes=nbytes, end_t=t)
            node.marks["contribution"] = nbytes - node.marks["base"]
            node.marks["fwd_time"] = t - node.marks["t_begin"]
            _own_forward(node, nbytes - node.marks["base"], t - node.marks["t_begin"])
            node.Tj = node.Ts - node.marks.get("split_locals", 0)
            _add_mark(stack[-1], "parts", node.marks["contribution"])
            _add_mark(stack[-1], "fwd", node.marks["fwd_time"])
        elif kind == ev.TURN:
            current.marks.update(turn_bytes=nbytes, turn_t=t, split_locals=extra)
            _own_forward(current, nbytes - current.marks["base"], t - current.marks["t_begin"])
            current.Ts = current.Tj + extra
            current.function = site
        elif kind == ev.SNAPSHOT_READ:
            node = _next_to_reverse(pending, current, site)
            node.marks.update(sr_t=t)
            stack.append(node)
        elif kind == ev.BEGIN_REVERSE:
            node = stack[-1]
            node.R = t - node.marks["sr_t"]
            node.marks.update(base=nbytes, t_begin=t)
        elif kind == ev.END_REVERSE:
            node = stack.pop()
            node.B = t - node.marks["turn_t"] - _children_backward(node)
            node.marks["bwd_time"] = t - node.marks["sr_t"]
            _add_mark(stack[-1], "bwd", node.marks["bwd_time"])
            self._finished(stack[-1], node)
        elif kind == ev.BEGIN_SPLIT_REVERSE:
            node = _next_to_reverse(pending, current, site)
            node.marks.update(bwd_begin=t)
            stack.append(node)
        elif kind == ev.END_SPLIT_REVERSE:
            node = stack.pop()
            node.B = t - node.marks["bwd_begin"] - _children_backward(node)
            node.marks["bwd_time"] = t - node.marks["bwd_begin"]
            _add_mark(stack[-1], "bwd", node.marks["bwd_time"])
            self._finished(stack[-1], node)
        else:
            raise TreeError(f"unknown event {kind}")

    def _shape(self, node):
        """A number naming the node's bytes and structure (children are finished, so named)."""
        key = (node.site, node.S, node.Tj, node.Ts,
               tuple((c.node.marks.get("shape"), c.own_before, c.count) for c in node.children))
        return self.shapes.setdefault(key, len(self.shapes))

    def _finished(self, parent, node):
        """Merges a finished instance with the run of identical siblings that follows it."""
        self.pending.pop(id(node), None)
        children = parent.children
        for k in range(len(children) - 1, -1, -1):
            if children[k].node is node:
                break
        else:
            return
        node.marks["shape"] = self._shape(node)
        if k + 1 < len(children):
            this, after = children[k], children[k + 1]
            if after.own_before == this.own_before and after.node.marks.get("done") and \
                    after.node.marks["shape"] == node.marks["shape"]:
                # the run's own times are averaged here; those below it, when the whole tree is
                # unified at the end (unify), which is cheaper than averaging subtrees at every merge
                n, m = after.count, this.count
                for name in ("P", "W", "R", "F", "B"):
                    setattr(after.node, name, (getattr(after.node, name) * n + getattr(node, name) * m) / (n + m))
                for name in ("fwd_time", "bwd_time"):
                    after.node.marks[name] = (after.node.marks.get(name, 0.0) * after.count +
                                              node.marks.get(name, 0.0) * this.count) / (after.count + this.count)
                after.count += this.count
                del children[k]
                return
        node.marks["done"] = True


def build_tree(events):
    """The checkpoint tree of a run's recorded events (profiles build it as the run goes)."""
    builder = TreeBuilder()
    for event in events:
        builder(*event)
    return builder.root


def finish_root(root, end_t):
    """The root's backward sweep time, once the run is over."""
    root.B = end_t - root.marks["turn_t"] - _children_backward(root)


def _attach(parent, node, nbytes):
    marks = parent.marks
    own = nbytes - marks["base"] - marks.get("parts", 0)       # own bytes pushed so far
    before = own - marks.get("own", 0)
    marks["own"] = own
    parent.children.append(Child(node, before))


def _add_mark(node, name, value):
    node.marks[name] = node.marks.get(name, 0) + value


def _last_child(parent, site):
    for child in reversed(parent.children):
        if child.node.site == site:
            return child.node
    raise TreeError(f"no instance of {site} under {parent.site or 'the head'}")


def _next_to_reverse(pending, parent, site):
    queue = pending.get(id(parent), [])
    if not queue or queue[-1].site != site:
        raise TreeError(f"reversal of {site} out of order under {parent.site or 'the head'}")
    return queue.pop()


def _own_forward(node, pushed, seconds):
    """Own bytes and time of a forward sweep: what is left after the children's parts."""
    contributions = node.marks.get("parts", 0)
    child_time = node.marks.get("fwd", 0.0)
    if node.measured_joint:
        node.Tj = pushed - contributions
    else:
        node.Ts = pushed - contributions
    node.F = seconds - child_time


def _children_backward(node):
    return node.marks.get("bwd", 0.0)


# -- merging identical instances ------------------------------------------------------------------

def signature(node):
    """What makes two instances interchangeable for the model: site, bytes and children's signatures."""
    return (node.site, node.S, node.Tj, node.Ts,
            tuple((signature(c.node), c.own_before, c.count) for c in node.children))


def merge(root):
    """Merges identical siblings in runs (a loop's instances) and averages their times."""
    for child in root.children:
        merge(child.node)
    merged = []
    for child in root.children:
        if merged and merged[-1].own_before == child.own_before and \
                signature(merged[-1].node) == signature(child.node):
            last = merged[-1]
            _average_into(last.node, child.node, last.count, child.count)
            last.count += child.count
        else:
            merged.append(child)
    root.children = merged
    return root


def unify(root):
    """Gives every instance with the same site, bytes and structure below it (anywhere in the tree)
    the same times, averaged over all of them: the model then sees one kind of subtree where the
    run had thousands, and the simulator evaluates it once per placement."""
    groups = {}

    def walk(node, weight):
        parts = tuple((walk(c.node, weight * c.count), c.own_before, c.count) for c in node.children)
        key = (node.site, node.S, node.Tj, node.Ts, parts)
        groups.setdefault(key, []).append((node, weight))
        return key
    walk(root, 1)
    for members in groups.values():
        total = sum(w for _, w in members)
        for name in ("P", "W", "R", "F", "B"):
            mean = sum(getattr(n, name) * w for n, w in members) / total
            for n, _ in members:
                setattr(n, name, mean)
    return root


def _average_into(target, other, n, m):
    for name in ("P", "W", "R", "F", "B"):
        setattr(target, name, (getattr(target, name) * n + getattr(other, name) * m) / (n + m))
    _average_children(target.children, other.children, n, m)


def _average_children(a, b, n, m):
    for x, y in zip(a, b):
        _average_into(x.node, y.node, n, m)


def estimate_unmeasured(root):
    """Primal times of instances profiled in split mode (no advance ran): their forward sweep time,
    scaled by the ratio primal / forward sweep seen on the instances that did run an advance."""
    pairs = []

    def forward_total(node):
        return node.F + sum(c.count * (forward_total(c.node) if not c.node.measured_joint else
                                       c.node.W + c.node.P) for c in node.children)

    def collect(node):
        for c in node.children:
            if c.node.measured_joint and c.node.P > 0:
                inner = forward_total(c.node)
                if inner > 0:
                    pairs.append(c.node.P / inner)
            collect(c.node)
    collect(root)
    pairs.sort()
    ratio = pairs[len(pairs) // 2] if pairs else 1.0

    def fill(node):
        for c in node.children:
            fill(c.node)
            if not c.node.measured_joint:
                c.node.P = ratio * forward_total(c.node)
                c.node.R = c.node.W
                c.node.P_measured = False
    fill(root)
    return ratio


def scale_times(root, factor):
    """Multiplies every time of the tree by ``factor`` (the plain run's time over the profiled
    run's): what the hooks cost is spread over the instances as they slowed them."""
    seen = set()

    def walk(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for name in ("P", "W", "R", "F", "B"):
            setattr(node, name, getattr(node, name) * factor)
        for child in node.children:
            walk(child.node)
    walk(root)
    return root
