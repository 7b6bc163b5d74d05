"""Sizes in bytes, as users write them (``512MiB``, ``2GB``, ``1e6``) and as adjoin prints them."""
import math
import re

from .errors import UsageError

UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000 ** 2, "mb": 1000 ** 2, "g": 1000 ** 3,
         "gb": 1000 ** 3, "t": 1000 ** 4, "tb": 1000 ** 4, "kib": 1024, "mib": 1024 ** 2,
         "gib": 1024 ** 3, "tib": 1024 ** 4}
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.)\s*([a-zA-Z]*)\s*")
EXAMPLES = "write e.g. 512MiB, 2GB or 1e6 (bytes)"


def parse_size(text, what="a size"):
    """``'512MiB'``, ``'2GB'``, ``'1e6'``, ``'800 kB'`` -> a whole number of bytes, at least 1.

    ``what`` names the option or variable in messages (``--memory-budget '1e999'``).  Anything
    else, an empty text, zero, a negative or an infinite size is a UsageError saying what to write.
    """
    text = str(text)
    match = _SIZE.fullmatch(text)
    if not match:
        raise UsageError(f"{what} {text!r}: not a size; {EXAMPLES}")
    number, unit = match.groups()
    factor = UNITS.get(unit.lower())
    if factor is None:
        raise UsageError(f"{what} {text!r}: unknown unit {unit!r}; use B, kB, MB, GB, TB, KiB, MiB, "
                         "GiB or TiB")
    value = float(number) * factor
    if not math.isfinite(value) or value >= 2 ** 63:
        raise UsageError(f"{what} {text!r}: too large to be a size in bytes; {EXAMPLES}")
    if value < 1:
        raise UsageError(f"{what} {text!r}: a size must be at least 1 byte; {EXAMPLES}")
    return int(value)


def human_bytes(n):
    """Bytes in binary units: 1.5 MiB."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{sign}{n:.0f} {unit}" if unit == "B" else f"{sign}{n:.1f} {unit}"
        n /= 1024.0
    return f"{sign}{n} B"
