"""A Profile: one profiled adjoint run, its checkpoint tree, and the paper's per-site table.

For each site: ΔT, the run time spared by not checkpointing it (its advances and snapshot
traffic, summed over its instances); ΔPM, the change of the run's peak tape bytes if it alone
were not checkpointed; ΔPM at the next turn, the change of the tape at the turn of the forward
sweep that encloses it.  Both come from the model (model.py) evaluated on the tree, which is
how nested checkpoints pass their costs to the enclosing levels: a site's instances carry the
snapshots and tapes of everything below them.

The file format (JSON, ``"format": "adjoin-profile"``, ``"version": 3``) is documented in
docs/profile-format.md.
"""
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import UsageError
from ..fileio import write_text_atomic
from ..placement import Placement
from .model import Prediction, Simulator
from .tree import Child, Node

FORMAT = "adjoin-profile"
VERSION = 3                 # 1: the tree nested; 2: its distinct nodes listed once; 3: L
READABLE = (1, 2, 3)


@dataclass(frozen=True)
class SiteProfile:
    """One row of the paper's table."""
    id: str
    callee: str
    file: str
    line: int
    instances: int
    checkpointed: bool          # its decision in the profiled run
    delta_t: float              # seconds spared by NOT checkpointing it
    delta_pm: int               # change of peak tape bytes if it alone is not checkpointed
    delta_pm_turn: int          # change of the tape at the next turn


class Profile:
    """The profile of one adjoint run (DESIGN.md, "Profiling events")."""

    def __init__(self, head, wrt, sites, off, tree, peak_tape_bytes, seconds, primal_ratio=1.0):
        self.head = head
        self.wrt = tuple(wrt)
        self.site_info = list(sites)            # [Site]
        self.profiled_off = frozenset(off)
        self.tree = tree
        self.peak_tape_bytes = int(peak_tape_bytes)
        self.seconds = float(seconds)
        self.primal_ratio = primal_ratio
        self.simulator = Simulator(tree)
        self._sites = None
        self.events = None

    # -- the model --------------------------------------------------------------------------------
    def predict(self, placement):
        """Predicted seconds and peak tape bytes of ``placement`` (a Placement or a set of ids off)."""
        off = placement.nocheckpoint if isinstance(placement, Placement) else frozenset(placement or ())
        unknown = set(off) - {s.id for s in self.site_info}
        if unknown:
            raise UsageError(f"the placement names sites this profile does not have: {sorted(unknown)}")
        return self.simulator.evaluate(off)

    @property
    def sites(self):
        """Per site: id, callee, file, line, instances, delta_t, delta_pm, delta_pm_turn."""
        if self._sites is None:
            self._sites = self._site_table()
        return self._sites

    def _site_table(self):
        counts = {}
        turn = {}

        def walk(node, multiplicity):
            per_parent = {}
            for child in node.children:
                c = child.node
                counts[c.site] = counts.get(c.site, 0) + multiplicity * child.count
                tape_split = self.simulator.tape(c, False, self.profiled_off)
                per_parent[c.site] = per_parent.get(c.site, 0) + child.count * (tape_split - c.S)
                walk(c, multiplicity * child.count)
            for site, delta in per_parent.items():
                turn[site] = max(turn.get(site, delta), delta)
        walk(self.tree, 1)
        rows = []
        for site in self.site_info:
            on = self.simulator.evaluate(self.profiled_off - {site.id})
            off = self.simulator.evaluate(self.profiled_off | {site.id})
            rows.append(SiteProfile(site.id, site.callee, site.file, site.line, counts.get(site.id, 0),
                                    site.id not in self.profiled_off, on.seconds - off.seconds,
                                    off.peak_tape_bytes - on.peak_tape_bytes, turn.get(site.id, 0)))
        return rows

    def advise(self, memory_budget=None, strategy="auto"):
        """The fastest placement predicted to fit ``memory_budget`` bytes (see advisor.py)."""
        from .advisor import advise
        return advise(self, memory_budget, strategy)

    # -- files ------------------------------------------------------------------------------------
    def to_json(self):
        return {
            "format": FORMAT,
            "version": VERSION,
            "head": self.head,
            "wrt": list(self.wrt),
            "peak_tape_bytes": self.peak_tape_bytes,
            "seconds": self.seconds,
            "primal_ratio": self.primal_ratio,
            "profiled_placement": {"nocheckpoint": sorted(self.profiled_off)},
            "sites": [asdict(row) for row in self.sites],
            "tree": _tree_json(self.tree),
        }

    def save(self, path):
        """Writes the profile (JSON) atomically."""
        write_text_atomic(path, json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path):
        """Reads a profile written by :meth:`save` or ``adjoin profile -o``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise UsageError(f"{path}: no such profile file") from None
        except json.JSONDecodeError as error:
            raise UsageError(f"{path}: not a profile file (invalid JSON: {error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UsageError(f"{path}: not an adjoin profile (no \"format\": \"{FORMAT}\")")
        if data.get("version") not in READABLE:
            raise UsageError(f"{path}: profile format version {data.get('version')} is not supported "
                             f"(this adjoin reads versions {', '.join(map(str, READABLE))}); profile again")
        from ..transform.module import Site
        try:
            sites = [Site(r["id"], "", r["callee"], r["file"], r["line"], r["checkpointed"])
                     for r in data["sites"]]
            return cls(data["head"], data["wrt"], sites, data["profiled_placement"]["nocheckpoint"],
                       _tree_from_json(data["tree"], data["version"]), data["peak_tape_bytes"],
                       data["seconds"], data.get("primal_ratio", 1.0))
        except (KeyError, IndexError, TypeError, ValueError) as error:
            what = f"no {error}" if isinstance(error, KeyError) else str(error)
            raise UsageError(f"{path}: a damaged adjoin profile ({what}); profile again "
                             f"(docs/profile-format.md describes the file)") from None


_FIELDS = ("site", "function", "measured_joint", "S", "Tj", "Ts", "P", "W", "R", "F", "B", "L", "P_measured")
_ADDED = {"L": 3}           # node fields added after version 1 -> the version that added them


def _fields(version):
    """The node fields a file of ``version`` holds (the others keep Node's defaults)."""
    return [name for name in _FIELDS if _ADDED.get(name, 1) <= version]


def _tree_json(root):
    """Version 2: every distinct node once, children before parents; a child names its node by
    its index in ``nodes`` (identical subtrees are one node: see tree.unify)."""
    nodes, index = [], {}

    def visit(node):
        if id(node) not in index:
            children = [[c.own_before, c.count, visit(c.node)] for c in node.children]
            out = {name: getattr(node, name) for name in _FIELDS}
            out["children"] = children
            index[id(node)] = len(nodes)
            nodes.append(out)
        return index[id(node)]
    return {"root": visit(root), "nodes": nodes}


def _tree_from_json(data, version):
    fields = _fields(version)
    if version == 1:
        return _node_from_json(data, fields)
    nodes = []
    for item in data["nodes"]:
        node = Node(**{name: item[name] for name in fields})
        node.children = [Child(nodes[k], own, count) for own, count, k in item["children"]]
        nodes.append(node)
    return nodes[data["root"]]


def _node_from_json(data, fields):
    """Version 1: the tree nested."""
    node = Node(**{name: data[name] for name in fields})
    node.children = [Child(_node_from_json(child, fields), own, count)
                     for own, count, child in data["children"]]
    return node


__all__ = ["Prediction", "Profile", "SiteProfile"]
