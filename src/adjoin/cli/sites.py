"""adjoin sites: the checkpoint sites reachable from a head, and their decisions."""
import json

from .. import api
from ..case import shown
from ..transform.loopsite import LoopSite
from .arguments import checkpoint_arguments, json_argument
from .common import (OK, case_inputs, load_placement, load_subject, make_console,
                     warn_checkpoint_choices)


def sites_arguments(parser):
    parser.add_argument("target", metavar="TARGET",
                        help="the head: MODULE.py:HEAD, or a case file CASE.toml")
    checkpoint_arguments(parser)
    json_argument(parser)


def run_sites(options):
    """Lists the checkpoint sites reachable from the head, with file:line and their decision."""
    subject = load_subject(options.target, ())
    placement, listed = load_placement(options.placement)
    example = case_inputs(subject.case)
    warn_checkpoint_choices(options, subject.head, placement, listed, example)
    sites = list(api.checkpoint_sites(subject.head, nocheckpoint=options.nocheckpoint, example=example))
    decided = [(site, placement.checkpointed(site.id) if placement else site.checkpointed)
               for site in sites]
    if options.json:
        print(json.dumps([{"id": site.id, "caller": site.caller, "callee": site.callee,
                           "file": site.file, "line": site.line, "checkpointed": checkpointed,
                           **_schedule(site, placement)}
                          for site, checkpointed in decided], indent=2))
        return OK
    from ..report.terminal import KEEP, PATH, readable_table
    console = make_console(options)
    if not sites:
        console.print(f"{subject.head.__name__} calls no user functions: no checkpoint sites")
        return OK
    # the site id names caller and callee already: the call column only when there is room (--wide)
    wide = getattr(options, "wide", False)
    cells = [(site.id,) + ((f"{site.caller} → {site.callee}",) if wide else ()) +
             (f"{shown(site.file)}:{site.line}", decision_text(site, checkpointed, placement))
             for site, checkpointed in decided]
    columns = (("site", "left", KEEP),) + ((("call", "left", PATH),) if wide else ()) + (
        ("where", "left", PATH), ("decision", "left", KEEP))
    console.print(readable_table(f"checkpoint sites of {subject.head.__name__}", columns, cells, console.width))
    off = sum(not checkpointed for _, checkpointed in decided)
    console.print(f"{len(sites)} sites, {len(sites) - off} checkpointed, {off} not")
    return OK


def _schedule(site, placement):
    """A loop site's snapshots in memory and on disk under ``placement`` ({} for a call site)."""
    if not isinstance(site, LoopSite):
        return {}
    snapshots, disk = placement.schedule(site.id, (site.snapshots, site.disk)) if placement else \
        (site.snapshots, site.disk)
    return {"snapshots": snapshots, "disk": disk}


def decision_text(site, checkpointed, placement):
    """How a site runs: joint or split for a call site; for a loop site, its schedule."""
    if isinstance(site, LoopSite):
        if not checkpointed:
            return "[yellow]nocheckpoint (every iteration taped)[/yellow]"
        from ..report.terminal import schedule_text
        numbers = _schedule(site, placement)
        return schedule_text(numbers["snapshots"], numbers["disk"])
    return "checkpoint (joint)" if checkpointed else "[yellow]nocheckpoint (split)[/yellow]"
