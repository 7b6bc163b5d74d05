"""A Profile: one profiled adjoint run, its checkpoint tree, and the paper's per-site table.

For each site: ΔT, the run time spared by not checkpointing it (its advances and snapshot
traffic, summed over its instances); ΔPM, the change of the run's peak tape bytes if it alone
were not checkpointed; ΔPM at the next turn, the change of the tape at the turn of the forward
sweep that encloses it.  Both come from the model (model.py) evaluated on the tree, which is
how nested checkpoints pass their costs to the enclosing levels: a site's instances carry the
snapshots and tapes of everything below them.

The file format (JSON, ``"format": "adjoin-profile"``, ``"version": 6``) is documented in
docs/profile-format.md; :func:`adjoin.schemas.profile_schema` is its exact form, checked when a
file is read.  Source paths are stored absolute (and as given, for display), so that a profile
read from another folder still knows which files are the user's.
"""
import json
import os
from dataclasses import asdict, dataclass

from ..errors import UsageError
from ..fileio import read_text, write_text_atomic
from ..placement import Placement
from ..runtime.loops import iteration_id
from .loops import DiskCost
from .model import Prediction, Simulator
from .traffic import NONE, TrafficCost
from .tree import Child, Node

FORMAT = "adjoin-profile"
VERSION = 6                 # 1: the tree nested; 2: its distinct nodes listed once; 3: L;
                            # 4: absolute source paths (file_given, sources); 5: traffic; 6: loops
READABLE = (1, 2, 3, 4, 5, 6)
HINT = "profile again ('adjoin profile CASE.toml -o PROFILE.json'); docs/profile-format.md describes the file"


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
    file_given: str = ""        # ``file`` as the profiled run named it (for display)


class Profile:
    """The profile of one adjoint run (DESIGN.md, "Profiling events")."""

    def __init__(self, head, wrt, sites, off, tree, peak_tape_bytes, seconds, primal_ratio=1.0,
                 files=None, sources=(), traffic=None, loops=None, disk=None):
        """``files``: site id -> (absolute path, path as given) of the site's file; by default
        the sites' files, made absolute against the working folder.  ``sources``: more source
        files of the program (absolute), kept in the file so that commands reading the profile
        know them.  ``traffic``: what tape traffic costs by the depth of a stack episode
        (traffic.TrafficCost, calibrated when profiling; None: nothing, as before version 5).
        ``loops``: loop site id -> (snapshots, disk), its schedule when a placement checkpoints
        it without naming one (the profiled run tapes every iteration: loop sites are in ``off``);
        ``disk``: loop site id -> loops.DiskCost, what its state costs on disk."""
        self.head = head
        self.wrt = tuple(wrt)
        self.site_info = list(sites)            # [Site]
        self.profiled_off = frozenset(off)
        self.tree = tree
        self.peak_tape_bytes = int(peak_tape_bytes)
        self.seconds = float(seconds)
        self.primal_ratio = primal_ratio
        self.traffic = traffic if traffic is not None else NONE
        self.loops = {k: tuple(v) for k, v in (loops or {}).items()}
        self.disk = dict(disk or {})
        self.simulator = Simulator(tree, self.traffic, self.profiled_off, self.loops, self.disk)
        self._sites = None
        self.events = None
        if files is None:
            files = {site.id: (os.path.abspath(site.file), site.file) for site in self.site_info}
        self.files = dict(files)
        self.sources = {}               # absolute path -> as given
        self.add_sources(sources)

    def add_sources(self, paths):
        """Records more source files of the profiled program (paths as given, or (absolute,
        given) pairs): the commands reading the profile will not write over them."""
        for path in paths:
            absolute, given = path if isinstance(path, tuple) else (os.path.abspath(path), str(path))
            self.sources.setdefault(absolute, given)

    def source_files(self):
        """{absolute path: path as given} of every source file the profile names."""
        files = dict(self.sources)
        for absolute, given in self.files.values():
            files.setdefault(absolute, given)
        return files

    # -- the model --------------------------------------------------------------------------------
    def predict(self, placement):
        """Predicted seconds and peak tape bytes of ``placement`` (a Placement or a set of ids off)."""
        if isinstance(placement, Placement):
            off, schedules = placement.nocheckpoint, {k: (s, d) for k, s, d in placement.loops}
        else:
            off, schedules = frozenset(placement or ()), {}
        unknown = (set(off) - {s.id for s in self.site_info}) | (set(schedules) - set(self.loops))
        if unknown:
            raise UsageError(f"the placement names sites this profile does not have: {sorted(unknown)}")
        return self.simulator.evaluate(off, schedules)

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
            file, given = self.files.get(site.id, (site.file, site.file))
            rows.append(SiteProfile(site.id, site.callee, file, site.line, counts.get(site.id, 0),
                                    site.id not in self.profiled_off, on.seconds - off.seconds,
                                    off.peak_tape_bytes - on.peak_tape_bytes, turn.get(site.id, 0),
                                    given))
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
            "traffic": self.traffic.to_json(),
            "loops": {k: _loop_json(schedule, self.disk.get(k, DiskCost())) for k, schedule in sorted(self.loops.items())},
            "profiled_placement": {"nocheckpoint": sorted(self.profiled_off)},
            "sites": [asdict(row) for row in self.sites],
            "tree": _tree_json(self.tree),
            "sources": [{"path": path, "given": given}
                        for path, given in sorted(self.source_files().items())],
        }

    def save(self, path):
        """Writes the profile (JSON) atomically."""
        write_text_atomic(path, json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path):
        """Reads a profile written by :meth:`save` or ``adjoin profile -o``, checked against its
        version's schema: a damaged file is a UsageError naming the key path of the problem."""
        where = _shown(path)
        data = _decode(read_text(path, "profile", HINT), where)
        _check(data, where)
        from ..transform.module import Site
        version = data["version"]
        if version >= 4:
            files = {r["id"]: (r["file"], r.get("file_given", r["file"])) for r in data["sites"]}
            sources = [(item["path"], item["given"]) for item in data["sources"]]
        else:                       # paths as the profiled run named them: maybe relative
            files = {r["id"]: (r["file"], r["file"]) for r in data["sites"]}
            sources = []
        traffic = TrafficCost.from_json(data["traffic"]) if version >= 5 else None
        loops = data.get("loops", {}) if version >= 6 else {}
        try:
            sites = [Site(r["id"], "", r["callee"], r["file"], r["line"], r["checkpointed"])
                     for r in data["sites"]]
            return cls(data["head"], data["wrt"], sites, data["profiled_placement"]["nocheckpoint"],
                       _tree_from_json(data["tree"], version), data["peak_tape_bytes"],
                       data["seconds"], data.get("primal_ratio", 1.0), files=files, sources=sources,
                       traffic=traffic, loops={k: (v["snapshots"], v["disk"]) for k, v in loops.items()},
                       disk={k: DiskCost(v["disk_write"], v["disk_read"], v["disk_bytes"]) for k, v in loops.items()})
        except (KeyError, IndexError, TypeError, ValueError, RecursionError) as error:
            what = f"no {error}" if isinstance(error, KeyError) else str(error) or type(error).__name__
            raise UsageError(f"{where}: a damaged adjoin profile ({what}); {HINT}") from None


def _loop_json(schedule, disk):
    return {"snapshots": schedule[0], "disk": schedule[1], "disk_write": disk.write, "disk_read": disk.read,
            "disk_bytes": disk.nbytes}


def _shown(path):
    from ..fileio import shown
    return shown(path)


def _decode(text, where):
    """The JSON of a profile file; NaN and Infinity (which Python's json would accept) refused."""
    def constant(name):
        raise ValueError(f"{name} is not a number a profile holds")
    try:
        return json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as error:
        raise UsageError(f"{where}:{error.lineno}:{error.colno}: not a profile file: invalid JSON "
                         f"({error.msg}); {HINT}") from None
    except (ValueError, RecursionError) as error:
        raise UsageError(f"{where}: not a profile file: {error}; {HINT}") from None


def _check(data, where):
    """Raises UsageError unless ``data`` is a profile this adjoin reads, whole and consistent."""
    from ..schemas import key_path, profile_schema, validate
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"{where}: not an adjoin profile (no \"format\": \"{FORMAT}\"); {HINT}")
    version = data.get("version")
    if isinstance(version, bool) or version not in READABLE:
        raise UsageError(f"{where}: profile format version {version!r} is not one this adjoin reads "
                         f"(versions {', '.join(map(str, READABLE))}); profile again with this adjoin, "
                         "or upgrade adjoin if a newer one wrote it")
    validate(data, profile_schema(version), where, HINT)
    ids = [row["id"] for row in data["sites"]]
    seen = set()
    for k, site in enumerate(ids):
        if site in seen:
            raise UsageError(f"{where}: sites[{k}].id: {site!r} is listed twice; {HINT}")
        seen.add(site)
    for k, site in enumerate(data["profiled_placement"]["nocheckpoint"]):
        if site not in seen:
            raise UsageError(f"{where}: profiled_placement.nocheckpoint[{k}]: {site!r} is not one of "
                             f"the profile's sites; {HINT}")
    for k, loop in enumerate(data.get("loops", {})):
        if loop not in seen:
            raise UsageError(f"{where}: loops[{loop!r}]: not one of the profile's sites; {HINT}")
        seen.add(iteration_id(loop))        # the nodes of its iterations
    seen.add("")                # the root, the head
    if version == 1:
        stack = [(data["tree"], ["tree"])]
        while stack:
            node, path = stack.pop()
            if node["site"] not in seen:
                raise UsageError(f"{where}: {key_path(path + ['site'])}: {node['site']!r} is not one "
                                 f"of the profile's sites; {HINT}")
            stack += [(child[2], path + ["children", k, 2]) for k, child in enumerate(node["children"])]
        return
    nodes = data["tree"]["nodes"]
    for index, node in enumerate(nodes):
        if node["site"] not in seen:
            raise UsageError(f"{where}: tree.nodes[{index}].site: {node['site']!r} is not one of "
                             f"the profile's sites; {HINT}")
        for k, (_, _, child) in enumerate(node["children"]):
            if child >= index:
                raise UsageError(f"{where}: tree.nodes[{index}].children[{k}]: names node {child}, "
                                 "but a node's children come before it; " + HINT)
    if data["tree"]["root"] >= len(nodes):
        raise UsageError(f"{where}: tree.root: names node {data['tree']['root']}, but there are "
                         f"{len(nodes)}; {HINT}")


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
