"""Placements: for every checkpoint site, checkpointed (joint mode) or not (split mode)."""
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

import tomli_w

from .errors import UsageError

FORMAT_VERSION = 1


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
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise UsageError(f"{path}: no such placement file") from None
        except tomllib.TOMLDecodeError as error:
            raise UsageError(f"{path}: not a valid TOML placement file ({error})") from None
        sites = data.get("sites", {})
        if not isinstance(sites, dict):
            raise UsageError(f"{path}: [sites] must be a table of site id = \"checkpoint\" | \"nocheckpoint\"")
        off = []
        for site_id, decision in sites.items():
            if decision not in ("checkpoint", "nocheckpoint"):
                raise UsageError(f"{path}: site {site_id!r} has decision {decision!r}; "
                                 "use \"checkpoint\" or \"nocheckpoint\"")
            if decision == "nocheckpoint":
                off.append(site_id)
        return cls(off)

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
