"""Chrome trace-event JSON of a profiled run (opens in Perfetto and chrome://tracing).

Advances, reversals and split sweeps are nested slices ("X" events, microseconds); the tape's
size is a counter ("C" events, bytes).
"""
import json

from ..fileio import write_text_atomic
from ..runtime import profiler as ev

_OPEN = {ev.BEGIN_ADVANCE: ("advance", ev.END_ADVANCE), ev.BEGIN_REVERSE: ("reverse", ev.END_REVERSE),
         ev.BEGIN_SPLIT: ("forward sweep (split)", ev.END_SPLIT),
         ev.BEGIN_SPLIT_REVERSE: ("backward sweep (split)", ev.END_SPLIT_REVERSE)}
_CLOSE = {end: begin for begin, (_, end) in _OPEN.items()}


def trace_events(events, head="head"):
    """The trace-event list of a run's profiling events."""
    out = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": f"adjoint of {head}"}}]
    stack = []
    end = events[-1][3] if events else 0.0
    for kind, site, nbytes, t, extra, _ in events:
        us = t * 1e6
        out.append({"name": "tape", "ph": "C", "pid": 1, "tid": 1, "ts": us, "args": {"bytes": nbytes}})
        if kind in _OPEN:
            stack.append((kind, site, us))
        elif kind in _CLOSE:
            begin, begin_site, start = stack.pop()
            label = _OPEN[begin][0]
            out.append({"name": f"{label} {site}", "cat": label, "ph": "X", "pid": 1, "tid": 1,
                        "ts": start, "dur": max(us - start, 0.0), "args": {"site": site}})
        elif kind in (ev.TURN, ev.SPLIT_TURN):
            out.append({"name": f"turn {site}", "cat": "turn", "ph": "i", "s": "t", "pid": 1, "tid": 1,
                        "ts": us, "args": {"tape_bytes": nbytes}})
        elif kind in (ev.SNAPSHOT_WRITE, ev.SNAPSHOT_READ):
            out.append({"name": f"{kind} {site}", "cat": "snapshot", "ph": "i", "s": "t", "pid": 1,
                        "tid": 1, "ts": us, "args": {"tape_bytes": nbytes}})
    out.append({"name": "adjoint", "cat": "run", "ph": "X", "pid": 1, "tid": 1, "ts": 0.0, "dur": end * 1e6})
    return out


def write_trace(path, events, head="head"):
    """Writes the trace file atomically."""
    write_text_atomic(path, json.dumps({"traceEvents": trace_events(events, head),
                                        "displayTimeUnit": "ms"}) + "\n")
