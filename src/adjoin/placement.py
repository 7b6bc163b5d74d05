"""Placements: for every checkpoint site, checkpointed (joint mode) or not (split mode).

A placement file is TOML (docs/checkpointing.md, "Placement files")::

    format = 1
    [sites]
    "cost/energy#1" = "checkpoint"
    "cost/residual#1" = "nocheckpoint"

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

    def __init__(self, nocheckpoint=()):
        if isinstance(nocheckpoint, str):
            nocheckpoint = [nocheckpoint]
        object.__setattr__(self, "nocheckpoint", frozenset(str(s) for s in nocheckpoint))

    def checkpointed(self, site_id):
        """True when the site runs in joint mode (snapshot + advance, then its own adjoint later)."""
        return site_id not in self.nocheckpoint

    @classmethod
    def load(cls, path):
        """Reads a placement file (TOML) written by :meth:`save` or by ``adjoin advise``."""
        return read_placement(path)[0]

    def to_toml(self, site_ids=None, comments=None):
        """The TOML text of this placement, listing ``site_ids`` (default: the ones turned off)."""
        ids = sorted(set(site_ids or ()) | self.nocheckpoint)
        table = {i: ("checkpoint" if self.checkpointed(i) else "nocheckpoint") for i in ids}
        head = "# adjoin placement: for each checkpoint site, checkpoint (joint) or nocheckpoint (split)\n"
        if comments:
            head += "".join(f"# {line}\n" for line in comments)
        return head + tomli_w.dumps({"format": FORMAT_VERSION, "sites": table})

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
    return Placement(site for site, decision in sites.items() if decision == "nocheckpoint"), \
        frozenset(sites)
