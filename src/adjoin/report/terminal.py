"""Terminal views of profiles and advice (rich tables), and human units."""
import re

from ..errors import UsageError

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000 ** 2, "mb": 1000 ** 2, "g": 1000 ** 3,
          "gb": 1000 ** 3, "t": 1000 ** 4, "tb": 1000 ** 4, "kib": 1024, "mib": 1024 ** 2,
          "gib": 1024 ** 3, "tib": 1024 ** 4}


def parse_bytes(text):
    """'512MiB', '2GB', '1e6', '800 kB' -> bytes."""
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([a-zA-Z]*)\s*", str(text))
    if not match:
        raise UsageError(f"{text!r} is not a size; write e.g. 512MiB, 2GB or 1e6 (bytes)")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise UsageError(f"unknown unit {unit!r} in {text!r}; use B, kB, MB, GB, KiB, MiB or GiB")
    try:
        return int(float(number) * factor)
    except ValueError:
        raise UsageError(f"{text!r} is not a size; write e.g. 512MiB, 2GB or 1e6 (bytes)") from None


def parse_budget(text, profile):
    """A memory budget: a size ('512MiB') or a factor of the default placement's peak ('1.5x');
    None for no text (unlimited)."""
    if not text:
        return None
    text = text.strip()
    if text.lower().endswith("x"):
        from ..placement import Placement
        try:
            factor = float(text[:-1])
        except ValueError:
            raise UsageError(f"--memory-budget {text!r}: write a size (512MiB) or a factor of the default "
                             "placement's peak (1.5x)") from None
        return int(factor * profile.predict(Placement()).peak_tape_bytes)
    return parse_bytes(text)


def human_bytes(n):
    """Bytes in binary units: 1.5 MiB."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{sign}{n:.0f} {unit}" if unit == "B" else f"{sign}{n:.1f} {unit}"
        n /= 1024.0
    return f"{sign}{n} B"


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
