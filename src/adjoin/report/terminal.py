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
    from rich.table import Table
    console.print(f"[bold]adjoint of {profile.head}[/bold]: {human_seconds(profile.seconds)}, "
                  f"peak tape {human_bytes(profile.peak_tape_bytes)} ({profile.peak_tape_bytes} bytes)")
    gain, neutral, cost = site_groups(profile.sites)
    titles = (("peak memory gain (ΔPM < 0): turn these off", gain),
              ("neutral (ΔPM = 0): turning these off costs no peak memory", neutral),
              ("cost (ΔPM > 0), by decreasing ΔT/ΔPM", cost))
    for title, rows in titles:
        if not rows:
            continue
        table = Table(title=title, title_justify="left")
        for column, justify in (("site", "left"), ("callee", "left"), ("where", "left"),
                                ("instances", "right"), ("ΔT", "right"), ("ΔPM", "right"),
                                ("ΔPM next turn", "right")):
            table.add_column(column, justify=justify, no_wrap=True)
        for r in rows:
            table.add_row(r.id, r.callee, f"{shown(r.file)}:{r.line}", str(r.instances),
                          human_seconds(r.delta_t), human_bytes(r.delta_pm), human_bytes(r.delta_pm_turn))
        console.print(table)
    not_candidates = [r for r in profile.sites if not r.checkpointed or r.instances == 0]
    if not_candidates:
        console.print(f"{len(not_candidates)} sites were not checkpointed or never ran in this run "
                      "and are not listed")


def advice_table(rows, console, budget):
    """rows: [(label, Prediction, fits)]."""
    from rich.table import Table
    table = Table(title=f"placements (budget {human_bytes(budget) if budget is not None else 'unlimited'})",
                  title_justify="left")
    for column, justify in (("placement", "left"), ("predicted time", "right"), ("predicted peak", "right"),
                            ("fits", "left")):
        table.add_column(column, justify=justify, no_wrap=True)
    for label, prediction, fits in rows:
        table.add_row(label, human_seconds(prediction.seconds),
                      f"{human_bytes(prediction.peak_tape_bytes)}", "yes" if fits else "[red]no[/red]")
    console.print(table)
