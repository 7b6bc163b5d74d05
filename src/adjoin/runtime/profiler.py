"""Profiling hooks called by the generated adjoint in profiling mode (``prof`` in generated code).

Generated code calls these at every checkpoint instance; each call records the event, the site,
the tape's size in bytes and a monotonic clock.  When profiling is off the calls are not in the
generated code at all.

A hook does as little as it can: it appends one tuple to a buffer.  A checkpointed call whose
snapshot is empty (most are) has no snapshot-write and snapshot-read events: its W and R are 0.
The time the hooks themselves take is left out of the time stamps afterwards (``timed``): each hook call costs ``call_cost``
seconds, measured when the recorder starts, and the hooks that measure something (the size of a
split call's snapshot) record how long they took.  The buffer goes to the ``sink`` (the checkpoint
tree's builder, in this process or in a helper process) in batches, so memory stays bounded.
"""
import time

from numpy import ndarray

from .tape import Tape, size_of, stored

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

LOCALS_SAMPLES = 4      # turns of each function (and size) whose split locals' pushes are timed


class Recorder:
    """Records every event as (kind, site, tape bytes, clock[, extra bytes, seconds measuring]).

    ``sink``, when given, receives the events in batches of ``batch``, as
    ``sink.feed(events, header)`` with the header ``timed`` needs; ``keep`` keeps them all too
    (for a trace or a plot of the tape over time: ``events``)."""

    def __init__(self, clock=time.perf_counter, sink=None, keep=True, batch=20000):
        self.clock = clock
        self.sink = sink
        self.keep = keep
        self.batch = batch
        self._buffer = []
        self._put = self._buffer.append
        self._kept = []             # earlier batches, when keep
        self.count = 0              # events in earlier batches
        self.flush_seconds = 0.0    # time spent handing batches to the sink
        self.measure_seconds = 0.0  # time spent measuring in hooks
        self._locals = {}           # (function, bytes) -> [turns timed, seconds, mean]
        self.clock_cost = self._clock_cost()
        self.call_cost = self._calibrate()
        self.start = clock()
        self._header = self.header()

    def _calibrate(self, calls=4000):
        """Seconds one hook call costs, called as generated code calls it."""
        class Tape:
            bytes = 0
        tape, buffer = Tape(), []
        self._put = buffer.append
        hook = self.begin_advance
        for _ in range(2):        # the first round warms up
            buffer.clear()
            start = self.clock()
            for _ in range(calls):
                hook("site", tape)
            seconds = (self.clock() - start) / calls
        self._put = self._buffer.append
        return max(seconds, 0.0)

    def _clock_cost(self, calls=2000):
        """Seconds between two clock readings with nothing in between."""
        clock = self.clock
        best = float("inf")
        for _ in range(calls):
            first = clock()
            best = min(best, clock() - first)
        return max(best, 0.0)

    def header(self):
        """What ``timed`` needs to correct the clocks of a batch starting now."""
        return (self.start, self.call_cost, self.count, self.flush_seconds + self.measure_seconds)

    def flush(self):
        """Hands the buffered events to the sink (call it once the run is over too)."""
        start = self.clock()
        events = self._buffer
        if events:
            if self.sink is not None:
                self.sink.feed(events, self._header)
            if self.keep:
                self._kept.append((events, self._header))
            self.count += len(events)
            self._buffer = []
            self._put = self._buffer.append
        self.flush_seconds += self.clock() - start
        self._header = self.header()

    def elapsed(self):
        """Seconds since the start, the recorder's own time left out."""
        calls = self.count + len(self._buffer)
        return (self.clock() - self.start - self.flush_seconds - self.measure_seconds
                - calls * self.call_cost)

    @property
    def events(self):
        """Every event kept, as (kind, site, tape bytes, seconds since the start, extra bytes,
        extra seconds), the recorder's own time left out."""
        out = []
        for events, header in self._kept + [(self._buffer, self._header)]:
            out.extend(timed(events, header))
        return out

    # -- the hooks --------------------------------------------------------------------------------

    def snapshot_write(self, site, tape):
        self._put((SNAPSHOT_WRITE, site, tape.bytes, self.clock()))

    def begin_advance(self, site, tape):
        self._put((BEGIN_ADVANCE, site, tape.bytes, self.clock()))

    def end_advance(self, site, tape):
        self._put((END_ADVANCE, site, tape.bytes, self.clock()))
        if len(self._buffer) >= self.batch:
            self.flush()

    def snapshot_read(self, site, tape):
        self._put((SNAPSHOT_READ, site, tape.bytes, self.clock()))

    def begin_reverse(self, site, tape):
        self._put((BEGIN_REVERSE, site, tape.bytes, self.clock()))

    def end_reverse(self, site, tape):
        self._put((END_REVERSE, site, tape.bytes, self.clock()))
        if len(self._buffer) >= self.batch:
            self.flush()

    def turn(self, function, tape, split_locals):
        """The turn of a joint adjoint; ``split_locals``: what a split forward sweep would push here
        (their size, and the time pushing and popping them takes: see ``_locals_seconds``)."""
        now = self.clock()
        extra = _bytes(split_locals)
        pushing = self._locals_seconds(function, extra, split_locals)
        seconds = self.clock() - now
        self.measure_seconds += seconds
        self._put((TURN, function, tape.bytes, now, extra, seconds, pushing))

    def begin_split(self, site, tape, snapshot):
        """A split call starts; ``snapshot``: what it would save if it were checkpointed (its size,
        and the time a copy of it takes, measured here without pushing it)."""
        now = self.clock()
        if snapshot:
            copies = [stored(v) for v in snapshot]
            copy_seconds = max(self.clock() - now - self.clock_cost, 0.0)
            del copies
        else:
            copy_seconds = 0.0
        extra = _bytes(snapshot)
        seconds = self.clock() - now
        self.measure_seconds += seconds
        # the copy's time is the snapshot's write time; all of it is left out of the run
        self._put((BEGIN_SPLIT, site, tape.bytes, now, extra, seconds, copy_seconds))

    def end_split(self, site, tape):
        self._put((END_SPLIT, site, tape.bytes, self.clock()))
        if len(self._buffer) >= self.batch:
            self.flush()

    def split_turn(self, function, tape, split_locals):
        now = self.clock()
        extra = _bytes(split_locals)
        pushing = self._locals_seconds(function, extra, split_locals)
        seconds = self.clock() - now
        self.measure_seconds += seconds
        self._put((SPLIT_TURN, function, tape.bytes, now, extra, seconds, pushing))

    def _locals_seconds(self, function, nbytes, split_locals):
        """Seconds a split forward sweep of ``function`` spends pushing ``split_locals`` (copies)
        and its backward sweep popping them, which a joint adjoint does not do.  Timed on a
        scratch tape for the first few turns of each function and size, then their mean: the
        copies cost as much as the pushes they stand for, and timing every turn would double them."""
        if not split_locals:
            return 0.0
        key = (function, nbytes)
        sample = self._locals.get(key)
        if sample is not None and sample[0] >= LOCALS_SAMPLES:
            return sample[2]
        scratch = Tape()
        start = self.clock()
        for value in split_locals:
            scratch.push(value)
        for _ in split_locals:
            scratch.pop()
        seconds = self.clock() - start - self.clock_cost
        if sample is None:
            sample = self._locals[key] = [0, 0.0, 0.0]
        sample[0] += 1
        sample[1] += seconds
        sample[2] = max(sample[1] / sample[0], 0.0)
        return seconds if seconds > 0 else 0.0

    def begin_split_reverse(self, site, tape):
        self._put((BEGIN_SPLIT_REVERSE, site, tape.bytes, self.clock()))

    def end_split_reverse(self, site, tape):
        self._put((END_SPLIT_REVERSE, site, tape.bytes, self.clock()))
        if len(self._buffer) >= self.batch:
            self.flush()


def _bytes(values):
    """Tape bytes of ``values`` (size_of of each, arrays taken the short way: hooks are hot)."""
    total = 0
    for value in values:
        total += value.nbytes if type(value) is ndarray else size_of(value)
    return total


def timed(events, header):
    """Yields the raw events of one batch as (kind, site, tape bytes, seconds since the start,
    extra bytes, extra seconds), the recorder's own time left out: the hook calls before each
    event (``call_cost`` each), the batches handed over and the measurements made in hooks.

    ``extra seconds`` is the write time a split call's snapshot would take (begin-split), the time
    pushing and popping the split locals takes (turn, split-turn), else 0."""
    start, cost, index, spent = header
    for event in events:
        if len(event) == 4:
            kind, site, nbytes, clock = event
            yield kind, site, nbytes, clock - start - spent - index * cost, 0, 0.0
        else:
            kind, site, nbytes, clock, extra, seconds = event[:6]
            yield (kind, site, nbytes, clock - start - spent - index * cost, extra,
                   event[6] if len(event) > 6 else 0.0)
            spent += seconds
        index += 1
