"""Terminal views of profiles and advice (rich tables), and human units."""
import math

from ..errors import UsageError
from ..sizes import human_bytes, parse_size


def parse_bytes(text, what="a size"):
    """'512MiB', '2GB', '1e6', '800 kB' -> bytes (see sizes.parse_size)."""
    return parse_size(text, what)


def parse_budget(text, profile, option="--memory-budget"):
    """A memory budget: a size ('512MiB') or a factor of the default placement's peak ('1.5x');
    None when no budget is given (unlimited).  An empty, zero, negative, infinite or unreadable
    budget is a UsageError naming ``option``."""
    if text is None:
        return None
    stripped = str(text).strip()
    if stripped.lower().endswith("x"):
        from ..placement import Placement
        try:
            factor = float(stripped[:-1])
        except ValueError:
            factor = None
        if factor is None or not math.isfinite(factor) or factor <= 0:
            raise UsageError(f"{option} {text!r}: write a size (512MiB) or a factor of the default "
                             "placement's peak, above 0 (1.5x)")
        return max(1, int(factor * profile.predict(Placement()).peak_tape_bytes))
    if not stripped:
        raise UsageError(f"{option} {text!r}: empty; write a size (512MiB, 2GB, 1e6 bytes) or a "
                         "factor of the default placement's peak (1.5x), or leave the option out "
                         "for no budget")
    return parse_size(stripped, option)


def human_seconds(s):
    sign = "-" if s < 0 else ""
    s = abs(s)
    if s >= 1:
        return f"{sign}{s:.2f} s"
    if s >= 1e-3:
        return f"{sign}{s * 1e3:.1f} ms"
    return f"{sign}{s * 1e6:.0f} µs"


# Column roles: what may give way when a table is wider than the terminal.  Numbers, decisions
# and names are never cut (their column is as wide as their widest cell); paths are cut first.
KEEP, PATH = "keep", "path"


def readable_table(title, columns, rows, width=None, **options):
    """A rich Table that fits ``width`` columns of terminal (None: any): ``columns`` are (header,
    justify, role); cells of KEEP columns are never cut, PATH columns (file:line, calls) give way,
    losing the start of their text ('…ocean/ocean.py:500')."""
    from rich.table import Table
    from rich.text import Text
    widest = [max([Text.from_markup(str(row[k])).cell_len for row in rows] + [len(h) for h in header.split("\n")])
              for k, (header, _, _) in enumerate(columns)]
    paths = [k for k, (_, _, role) in enumerate(columns) if role == PATH]
    room = None
    if width is not None and paths:
        kept = sum(w for k, w in enumerate(widest) if k not in paths)
        room = max(8, (width - kept - 3 * len(columns) - 1) // len(paths))
    table = Table(title=title, **options)
    for k, (header, justify, role) in enumerate(columns):
        cap = room if k in paths and room is not None else None
        table.add_column(header, justify=justify, no_wrap=True, min_width=min(widest[k], cap or widest[k]))
    for row in rows:
        table.add_row(*[_shortened(str(cell), room) if k in paths and room else str(cell)
                        for k, cell in enumerate(row)])
    return table


def _shortened(text, room):
    return text if len(text) <= room else "…" + text[len(text) - room + 1:]


def site_groups(rows):
    """The paper's three groups: peak memory gain (ΔPM < 0), neutral (ΔPM = 0), cost (ΔPM > 0, by
    decreasing ΔT/ΔPM).  Only sites checkpointed in the profiled run can be suggested."""
    candidates = [r for r in rows if r.checkpointed and r.instances > 0]
    gain = sorted((r for r in candidates if r.delta_pm < 0), key=lambda r: (r.delta_pm, -r.delta_t))
    neutral = sorted((r for r in candidates if r.delta_pm == 0), key=lambda r: -r.delta_t)
    cost = sorted((r for r in candidates if r.delta_pm > 0), key=lambda r: -r.delta_t / r.delta_pm)
    return gain, neutral, cost


def profile_tables(profile, console, shown=str):
    """Prints the profile's summary and its three groups of suggested NOCHECKPOINTs."""
    console.print(f"[bold]adjoint of {profile.head}[/bold]: {human_seconds(profile.seconds)}, "
                  f"peak tape {human_bytes(profile.peak_tape_bytes)} ({profile.peak_tape_bytes} bytes)")
    gain, neutral, cost = site_groups(profile.sites)
    titles = (("peak memory gain (ΔPM < 0): turn these off", gain),
              ("neutral (ΔPM = 0): turning these off costs no peak memory", neutral),
              ("cost (ΔPM > 0), by decreasing ΔT/ΔPM", cost))
    columns = (("site", "left", KEEP), ("callee", "left", KEEP), ("where", "left", PATH),
               ("instances", "right", KEEP), ("ΔT", "right", KEEP), ("ΔPM", "right", KEEP),
               ("ΔPM next turn", "right", KEEP))
    for title, rows in titles:
        if not rows:
            continue
        cells = [(r.id, r.callee, f"{shown(r.file)}:{r.line}", r.instances, human_seconds(r.delta_t),
                  human_bytes(r.delta_pm), human_bytes(r.delta_pm_turn)) for r in rows]
        console.print(readable_table(title, columns, cells, console.width, title_justify="left"))
    loop_table(profile, console, shown)
    not_candidates = [r for r in profile.sites if (not r.checkpointed or r.instances == 0)
                      and r.id not in profile.loops]
    if not_candidates:
        console.print(f"{len(not_candidates)} sites were not checkpointed or never ran in this run "
                      "and are not listed")


def schedule_text(snapshots, disk):
    """``binomial, 8 snapshots in memory + 2 on disk``; no snapshot: not checkpointed."""
    if snapshots == 0 and disk == 0:
        return "nocheckpoint (every iteration taped)"
    return f"binomial, {snapshots} snapshots in memory" + (f" + {disk} on disk" if disk else "")


def loop_table(profile, console, shown=str):
    """The loop sites of a profile: their default schedules, ΔT and ΔPM against not checkpointing
    them (they were profiled with every iteration taped)."""
    rows = [r for r in profile.sites if r.id in profile.loops and r.instances > 0]
    if not rows:
        return
    columns = (("loop site", "left", KEEP), ("where", "left", PATH), ("iterations", "right", KEEP),
               ("schedule", "left", KEEP), ("ΔT", "right", KEEP), ("ΔPM", "right", KEEP))
    cells = [(r.id, f"{shown(r.file)}:{r.line}", profile.simulator.iterations(r.id),
              schedule_text(*profile.loops[r.id]), human_seconds(r.delta_t), human_bytes(r.delta_pm))
             for r in rows]
    console.print(readable_table("loop sites, profiled with every iteration taped (the peak above is "
                                 "theirs without checkpointing); ΔT, ΔPM: not checkpointing them, "
                                 "against the schedule shown", columns, cells, console.width,
                                 title_justify="left"))


def loop_decision(profile, placement, loop):
    """A loop site's schedule in ``placement`` (its profile's default when it names none)."""
    if not placement.checkpointed(loop):
        return schedule_text(0, 0)
    return schedule_text(*placement.schedule(loop, profile.loops[loop]))


def placement_text(placement, profile):
    """The sites a placement leaves off, and its loop sites' schedules, in one line each."""
    off = sorted(set(placement.nocheckpoint) - set(profile.loops))
    lines = [f"not checkpointed: {', '.join(off) if off else 'none'}"]
    lines += [f"loop site {loop}: {loop_decision(profile, placement, loop)}" for loop in sorted(profile.loops)]
    return lines


def advice_table(rows, console, budget):
    """rows: [(label, Prediction, fits)]."""
    title = f"placements (budget {human_bytes(budget) if budget is not None else 'unlimited'})"
    columns = (("placement", "left", KEEP), ("predicted time", "right", KEEP), ("predicted peak", "right", KEEP),
               ("fits", "left", KEEP))
    cells = [(label, human_seconds(prediction.seconds), human_bytes(prediction.peak_tape_bytes),
              "yes" if fits else "[red]no[/red]") for label, prediction, fits in rows]
    console.print(readable_table(title, columns, cells, console.width, title_justify="left"))
