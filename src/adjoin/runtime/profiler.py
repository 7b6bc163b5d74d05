"""Profiling hooks called by the generated adjoint in profiling mode (``prof`` in generated code).

Generated code calls these at every checkpoint instance; each call records the event, the site,
the tape's size in bytes and a monotonic clock.  When profiling is off the calls are not in the
generated code at all.  The recorder keeps the raw events; profiling/profile.py turns them into
the checkpoint tree and the paper's ΔT and ΔPM.
"""
import time

from .tape import size_of, stored

# event kinds, in the vocabulary of DESIGN.md
SNAPSHOT_WRITE = "snapshot-write"
BEGIN_ADVANCE = "begin-advance"
END_ADVANCE = "end-advance"
SNAPSHOT_READ = "snapshot-read"
BEGIN_REVERSE = "begin-reverse"
END_REVERSE = "end-reverse"
TURN = "turn"
BEGIN_SPLIT = "begin-split"              # a split call's forward sweep (f_fwd) starts
END_SPLIT = "end-split"
SPLIT_TURN = "split-turn"                # f_fwd is about to push the locals its f_bwd needs
BEGIN_SPLIT_REVERSE = "begin-split-reverse"
END_SPLIT_REVERSE = "end-split-reverse"


class Recorder:
    """Records every event as (kind, site, tape bytes, seconds, extra bytes, extra seconds).

    ``sink``, when given, receives each event as it happens (the profile's tree builder);
    ``keep`` keeps the raw events too (for a trace or a plot of the tape over time)."""

    def __init__(self, clock=time.perf_counter, sink=None, keep=True, batch=20000):
        self.clock = clock
        self.events = []
        self.sink = sink
        self.keep = keep
        self.batch = batch          # events handed to the sink in bursts: memory stays bounded,
        self._buffer = []           # and the run is not disturbed at every event
        self.spent = 0.0        # time spent in the recorder itself, left out of every time stamp
        self.call_cost = self._calibrate()
        self.start = clock()

    def _calibrate(self, calls=2000):
        """The cost of calling a hook from generated code, outside what _add can time itself."""
        class Tape:
            bytes = 0
        tape = Tape()
        start = self.clock()
        for _ in range(calls):
            self._nothing("site", tape)
        return max((self.clock() - start) / calls, 0.0)

    def _nothing(self, site, tape):
        pass

    def _add(self, kind, site, tape, extra=0, extra_seconds=0.0):
        self.spent += self.call_cost
        now = self.clock()
        event = (kind, site, tape.bytes, now - self.start - self.spent, extra, extra_seconds)
        if self.keep:
            self.events.append(event)
        if self.sink is not None:
            self._buffer.append(event)
            if len(self._buffer) >= self.batch:
                self.flush()
        self.spent += self.clock() - now

    def flush(self):
        """Hands the buffered events to the sink (call it once the run is over)."""
        sink = self.sink
        for event in self._buffer:
            sink(*event)
        self._buffer.clear()

    def elapsed(self):
        """Seconds since the start, the recorder's own time left out."""
        return self.clock() - self.start - self.spent

    def snapshot_write(self, site, tape):
        self._add(SNAPSHOT_WRITE, site, tape)

    def begin_advance(self, site, tape):
        self._add(BEGIN_ADVANCE, site, tape)

    def end_advance(self, site, tape):
        self._add(END_ADVANCE, site, tape)

    def snapshot_read(self, site, tape):
        self._add(SNAPSHOT_READ, site, tape)

    def begin_reverse(self, site, tape):
        self._add(BEGIN_REVERSE, site, tape)

    def end_reverse(self, site, tape):
        self._add(END_REVERSE, site, tape)

    def turn(self, function, tape, split_locals):
        """The turn of a joint adjoint; ``split_locals``: what a split forward sweep would push here."""
        self._add(TURN, function, tape, sum(size_of(v) for v in split_locals))

    def begin_split(self, site, tape, snapshot):
        """A split call starts; ``snapshot``: what it would save if it were checkpointed (its size,
        and the time a copy of it takes, measured here without pushing it)."""
        start = self.clock()
        copies = [stored(v) for v in snapshot]
        seconds = self.clock() - start
        del copies
        self.spent += seconds          # a measurement, not part of the run
        self._add(BEGIN_SPLIT, site, tape, sum(size_of(v) for v in snapshot), seconds)

    def end_split(self, site, tape):
        self._add(END_SPLIT, site, tape)

    def split_turn(self, function, tape, split_locals):
        self._add(SPLIT_TURN, function, tape, sum(size_of(v) for v in split_locals))

    def begin_split_reverse(self, site, tape):
        self._add(BEGIN_SPLIT_REVERSE, site, tape)

    def end_split_reverse(self, site, tape):
        self._add(END_SPLIT_REVERSE, site, tape)
