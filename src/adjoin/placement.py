"""Placements: for every checkpoint site, checkpointed (joint mode) or not (split mode); for a
loop site (``# $AD BINOMIAL-CKP``), checkpointed means driven by a binomial schedule, with how
many snapshots it keeps in memory and on disk.

A placement file is TOML (docs/checkpointing.md, "Placement files")::

    format = 1
    [sites]
    "cost/energy#1" = "checkpoint"
    "cost/residual#1" = "nocheckpoint"
    "cost/loop#1" = "checkpoint"
    [loops]
    "cost/loop#1" = { snapshots = 20, disk = 0 }

Reading one checks it against :data:`adjoin.schemas.PLACEMENT`; a damaged file, or one of a
format this adjoin does not know, is refused with a UsageError naming the key.
"""
from dataclasses import dataclass, field

import tomllib

import tomli_w

from .errors import UsageError

FORMAT_VERSION = 1
READABLE = (1,)
HINT = ("a placement file is written by 'adjoin advise -o' or Placement.save (docs/checkpointing.md "
        "describes it)")


@dataclass(frozen=True)
class Placement:
    """The sites NOT checkpointed; every other site is checkpointed (Tapenade's default).

    A placement, when given, decides every site: source directives and ``--nocheckpoint`` apply
    only when no placement is given.
    """
    nocheckpoint: frozenset = field(default_factory=frozenset)
    # (loop site id, snapshots in memory, snapshots on disk), sorted: loop sites named here get
    # these numbers, the others the directive's (or the default)
    loops: tuple = ()

    def __init__(self, nocheckpoint=(), loops=None):
        if isinstance(nocheckpoint, str):
            nocheckpoint = [nocheckpoint]
        object.__setattr__(self, "nocheckpoint", frozenset(str(s) for s in nocheckpoint))
        object.__setattr__(self, "loops", tuple(sorted(_loop_entry(k, v) for k, v in dict(loops or {}).items())))

    def checkpointed(self, site_id):
        """True when the site runs in joint mode (snapshot + advance, then its own adjoint later);
        for a loop site, when a binomial schedule drives its adjoint."""
        return site_id not in self.nocheckpoint

    def schedule(self, site_id, default):
        """(snapshots in memory, on disk) of a loop site: this placement's, else ``default``."""
        for key, snapshots, disk in self.loops:
            if key == site_id:
                return snapshots, disk
        return default

    @classmethod
    def load(cls, path):
        """Reads a placement file (TOML) written by :meth:`save` or by ``adjoin advise``."""
        return read_placement(path)[0]

    def to_toml(self, site_ids=None, comments=None):
        """The TOML text of this placement, listing ``site_ids`` (default: the ones turned off)."""
        ids = sorted(set(site_ids or ()) | self.nocheckpoint | {k for k, _, _ in self.loops})
        table = {i: ("checkpoint" if self.checkpointed(i) else "nocheckpoint") for i in ids}
        head = "# adjoin placement: for each checkpoint site, checkpoint (joint) or nocheckpoint (split)\n"
        if comments:
            head += "".join(f"# {line}\n" for line in comments)
        data = {"format": FORMAT_VERSION, "sites": table}
        if self.loops:
            data["loops"] = {k: {"snapshots": s, "disk": d} for k, s, d in self.loops}
        return head + tomli_w.dumps(data)

    def save(self, path, site_ids=None, comments=None):
        """Writes the placement atomically to ``path``."""
        from .fileio import write_text_atomic
        write_text_atomic(path, self.to_toml(site_ids, comments))


def read_placement(path):
    """(Placement, the site ids the file lists) from a placement file, checked: a UsageError
    names the file, the key and what is wrong when it is damaged or of an unknown format."""
    from .fileio import read_text, shown
    from .schemas import PLACEMENT, validate
    where = shown(path)
    text = read_text(path, "placement", HINT)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{where}: not a valid TOML placement file ({error}); {HINT}") from None
    version = data.get("format", FORMAT_VERSION)     # a hand-written file may leave it out
    if isinstance(version, bool) or not isinstance(version, int):
        raise UsageError(f"{where}: format is {version!r}, not a format number; {HINT}")
    if version not in READABLE:
        raise UsageError(f"{where}: placement format {version} is not one this adjoin reads (it "
                         f"reads format {', '.join(map(str, READABLE))}); was it written by a newer "
                         "adjoin? Advise again with this one ('adjoin advise PROFILE.json -o "
                         f"{where}') or upgrade adjoin")
    validate(data, PLACEMENT, where, HINT)
    sites = data["sites"]
    loops = {k: (v["snapshots"], v.get("disk", 0)) for k, v in data.get("loops", {}).items()}
    return Placement((site for site, decision in sites.items() if decision == "nocheckpoint"), loops), \
        frozenset(sites) | frozenset(loops)


def _loop_entry(site_id, numbers):
    """(id, snapshots, disk) from (snapshots, disk), a number of snapshots, or a mapping."""
    if isinstance(numbers, dict):
        numbers = (numbers.get("snapshots"), numbers.get("disk", 0))
    elif isinstance(numbers, int):
        numbers = (numbers, 0)
    snapshots, disk = numbers
    for what, n in (("snapshots", snapshots), ("disk", disk)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise UsageError(f"loop site {site_id!r}: {what} must be a whole number (0 or more), not {n!r}")
    if snapshots + disk < 1:
        raise UsageError(f"loop site {site_id!r}: a binomial schedule needs at least one snapshot "
                         "(snapshots + disk >= 1); to tape every iteration, mark the site nocheckpoint")
    return str(site_id), snapshots, disk
