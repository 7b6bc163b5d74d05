"""Profiling hooks of the generated adjoint in profiling mode (``prof`` in generated code).

Generated code records an event at every checkpoint instance: its kind, the site, the tape's
size in bytes and a monotonic clock.  When profiling is off there is nothing of it in the
generated code.

Recording does as little as it can: one tuple appended to a buffer.  The events that only record
(the beginnings of advances and reversals, snapshot events, turns with nothing to measure) are
written inline, ``prof.put((kind, site, tape.bytes, prof.clock()))``, with no Python call; the
others are hooks (``prof.end_advance(site, tape)``): they hand the buffer over in batches, so
memory stays bounded, and measure what a split call would save.  A checkpointed call whose
snapshot is empty (most are) has no snapshot-write and snapshot-read events: its W and R are 0.

The time recording takes is left out of the time stamps afterwards (``timed``): each inline event
costs ``put_cost`` seconds and each hook call ``call_cost``, both measured when the recorder
starts, and the hooks that measure something record how long they took.  The batches go to the
``sink`` (the checkpoint tree's builder, in this process or in a helper process).
"""
import time

from numpy import ndarray

from .loops import iteration_id, time_disk_snapshot
from .tape import SCALAR_BYTES, Tape, size_of, stored

ITERATION = iteration_id("")            # the end of a loop site iteration's name

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
BEGIN_SAMPLE = "begin-sample"            # a primal timed (its state or snapshot copied aside): a loop
END_SAMPLE = "end-sample"                # site iteration's, a split call's ... done: it is set back

# the kinds generated code records inline (when 4 items long: a turn with locals to measure is a
# hook call, and its event is longer)
INLINE = frozenset({SNAPSHOT_WRITE, BEGIN_ADVANCE, SNAPSHOT_READ, BEGIN_REVERSE, BEGIN_SPLIT_REVERSE,
                    TURN, SPLIT_TURN})
INLINE_STATEMENT = "prof.put(({kind!r}, {site!r}, tape.bytes, prof.clock()))"

# iterations of each loop site run whose primal is timed (a loop site is profiled with every
# iteration taped: the advances a schedule makes are predicted from these)
LOOP_SAMPLES = 8
# instances of each split call site whose primal is timed first, from a copy of the snapshot a
# checkpointed call would save, set back after (transform/calls.py): a split call runs no advance.
# At least CALL_SAMPLES, more while their primals add up to less than SAMPLE_SECONDS, at most
# CALL_SAMPLES_MAX: a call of a few microseconds is timed as noisily as its hooks are, and the
# advances of a checkpointed profile average all its instances
CALL_SAMPLES = 3
CALL_SAMPLES_MAX = 20
SAMPLE_SECONDS = 2e-3
LOCALS_SAMPLES = 5      # turns of each function (and size) whose split locals' pushes are timed
# events handed to the sink at once: small enough that the buffer's memory is reused while still
# in cache (on the ocean at size 0.2, hooks alone cost +6.0 % with batches of 20,000 and +3.9 %
# with 2,000), large enough that handing over (a pipe write) is rare
BATCH = 2000


class Recorder:
    """Records every event as (kind, site, tape bytes, clock[, extra bytes, seconds measuring,
    extra seconds]).

    ``sink``, when given, receives the events in batches of about ``batch``, as
    ``sink.feed(events, header)`` with the header ``timed`` needs; ``keep`` keeps them all too
    (for a trace or a plot of the tape over time: ``events``).

    ``put`` and ``clock`` are what inline events use; the hooks (``end_advance``, ``turn``, ...)
    are closures set on the instance, not methods, so that a call makes no bound method and reads
    no attribute of the recorder."""

    def __init__(self, clock=time.perf_counter, sink=None, keep=True, batch=BATCH):
        self.clock = clock
        self.sink = sink
        self.keep = keep
        self.batch = batch
        self._buffer = []           # every event is appended to this list, for the whole run
        self.put = self._buffer.append
        self._kept = []             # earlier batches, when keep
        self.count = 0              # events in earlier batches
        self.calls = 0              # hook calls in earlier batches
        self.flush_seconds = 0.0    # time spent handing batches to the sink
        self.measure_seconds = 0.0  # time spent measuring in hooks
        self._locals = {}           # (function, bytes) -> the seconds timed so far, then their median
        self.value_bytes = 0        # the size of value that carries most of the tape's bytes
        self._sample_at = 1         # the tape's bytes at which to sample it next (see _sample)
        self._sampled = None        # (values, their copies) of the primal being timed (_sample_hooks)
        # loop site iteration name -> (write, read) seconds of its state as a disk snapshot
        self.disk_seconds = {}
        self.loop_samples = LOOP_SAMPLES
        self.sampled_sites = set()  # split sites whose primal was timed enough (CALL_SAMPLES; generated code reads it)
        self.sample_seconds = 0.0   # time spent running them (in the clocks: the tree leaves it out)
        self.clock_cost = self._clock_cost()
        self._make_hooks(batch=float("inf"))      # calibration hands nothing over
        self.put_cost, self.call_cost = self._calibrate()
        self._make_hooks(batch)
        self.start = clock()
        self._header = self.header()

    def _clock_cost(self, calls=2000):
        """Seconds between two clock readings with nothing in between."""
        clock = self.clock
        best = float("inf")
        for _ in range(calls):
            first = clock()
            best = min(best, clock() - first)
        return max(best, 0.0)

    def _calibrate(self, calls=500, rounds=8):
        """Seconds an inline event and a hook call cost, written as generated code writes them:
        the fastest of a few rounds each (the first warms up; a round that the system interrupts
        is slower, never faster)."""
        class Tape:
            bytes = 0
        # in a function, as in generated code (prof and tape are local variables there)
        scope = {}
        exec(compile("def inline(prof, tape, calls):\n    for _ in range(calls):\n        "
                     + INLINE_STATEMENT.format(kind=BEGIN_ADVANCE, site="site") + "\n"
                     "def call(prof, tape, calls):\n    for _ in range(calls):\n"
                     "        prof.end_split_reverse('site', tape)\n"
                     "def loop(prof, tape, calls):\n    for _ in range(calls):\n        pass\n",
                     "<calibration>", "exec"), scope)
        tape = Tape()
        best = {"inline": float("inf"), "call": float("inf"), "loop": float("inf")}
        for _ in range(rounds):
            for name in best:
                start = self.clock()
                scope[name](self, tape, calls)
                best[name] = min(best[name], (self.clock() - start) / calls)
                self._buffer.clear()
        return max(best["inline"] - best["loop"], 0.0), max(best["call"] - best["loop"], 0.0)

    def header(self):
        """What ``timed`` needs to correct the clocks of a batch starting now."""
        return (self.start, self.put_cost, self.call_cost, self.count - self.calls, self.calls,
                self.flush_seconds + self.measure_seconds)

    def flush(self):
        """Hands the buffered events to the sink (call it once the run is over too)."""
        start = self.clock()
        if self._buffer:
            events = self._buffer[:]
            self._buffer.clear()
            if self.sink is not None:
                self.sink.feed(events, self._header)
            if self.keep:
                self._kept.append((events, self._header))
            self.count += len(events)
            self.calls += self._calls(reset=True)
        self.flush_seconds += self.clock() - start
        self._header = self.header()

    def elapsed(self):
        """Seconds since the start, the recorder's own time left out."""
        calls = self.calls + self._calls()
        inline = self.count + len(self._buffer) - calls
        return (self.clock() - self.start - self.flush_seconds - self.measure_seconds
                - inline * self.put_cost - calls * self.call_cost)

    @property
    def events(self):
        """Every event kept, as (kind, site, tape bytes, seconds since the start, extra bytes,
        extra seconds), the recorder's own time left out."""
        out = []
        for events, header in self._kept + [(self._buffer, self._header)]:
            out.extend(timed(events, header))
        return out

    # -- the hooks --------------------------------------------------------------------------------

    def _make_hooks(self, batch):
        """Sets the hooks generated code calls, closures over the buffer and the clock that
        hand the buffer over once it holds ``batch`` events; each counts its calls (``_calls``
        reads the count since the last batch).  What a hook measures is timed and left out."""
        buffer, clock, flush = self._buffer, self.clock, self.flush
        put = buffer.append
        calls = 0

        def _calls(reset=False):
            nonlocal calls
            n = calls
            if reset:
                calls = 0
            return n

        def ending(kind):
            """The hook at the end of an advance, a reversal or a split sweep (the buffer is
            handed over there, once it holds ``batch`` events)."""
            def hook(site, tape):
                nonlocal calls
                calls += 1
                put((kind, site, tape.bytes, clock()))
                if len(buffer) >= batch:
                    flush()
            return hook

        def measuring(kind, measure, cached=None):
            """A hook that measures (``measure(name, tape, values)``: extra bytes and seconds): a
            turn (TURN, SPLIT_TURN), the locals a split forward sweep pushes there; a split call's
            start (BEGIN_SPLIT), what it would save if checkpointed.  ``cached``: (name, bytes)
            -> the seconds already found, taken without calling ``measure``."""
            def hook(name, tape, values):
                nonlocal calls
                calls += 1
                now = clock()
                extra_seconds = None
                if cached is not None and tape.bytes < self._sample_at:
                    extra = _bytes(values)
                    extra_seconds = cached.get((name, extra))
                if type(extra_seconds) is not float:
                    extra, extra_seconds = measure(name, tape, values)
                seconds = clock() - now
                self.measure_seconds += seconds
                put((kind, name, tape.bytes, now, extra, seconds, extra_seconds))
            return hook

        def counted():
            nonlocal calls
            calls += 1

        self._calls = _calls
        self.begin_sample, self.end_sample = self._sample_hooks(put, clock, counted)
        self.begin_split = measuring(BEGIN_SPLIT, self._snapshot_copy)
        self.end_advance = ending(END_ADVANCE)
        self.end_reverse = ending(END_REVERSE)
        self.end_split = ending(END_SPLIT)
        self.end_split_reverse = ending(END_SPLIT_REVERSE)
        self.turn = measuring(TURN, self._turn_locals, self._locals)
        self.split_turn = measuring(SPLIT_TURN, self._turn_locals, self._locals)

    def _sample_hooks(self, put, clock, counted):
        """The hooks around a primal that is timed: a loop site iteration's (runtime/loops.py,
        samples) or a split call's (while ``site`` is not in ``sampled_sites``): what it may
        change set aside before (a copy), set back after (arrays and regions of arrays in place),
        and the values given back as a tuple (a loop site rebinds its names to them).  The copies
        are timed and left out, as hooks' measurements are; the primal's seconds are added up in
        ``sample_seconds`` (they are no part of the adjoint's time)."""
        done = self.sampled_sites
        counts, spent = {}, {}      # site -> primals timed so far, and their seconds
        started = 0.0

        def begin_sample(site, tape, values):
            nonlocal started
            counted()
            now = clock()
            self._sampled = (values, stored(values))
            seconds = clock() - now
            self.measure_seconds += seconds
            put((BEGIN_SAMPLE, site, tape.bytes, now, 0, seconds))
            started = clock()

        def end_sample(site, tape):
            counted()
            now = clock()
            self.sample_seconds += now - started
            spent[site] = total = spent.get(site, 0.0) + now - started
            counts[site] = count = counts.get(site, 0) + 1
            if count >= CALL_SAMPLES and (total >= SAMPLE_SECONDS or count >= CALL_SAMPLES_MAX):
                done.add(site)
            (values, saved), self._sampled = self._sampled, None
            _set_back(values, saved)
            seconds = clock() - now
            self.measure_seconds += seconds
            put((END_SAMPLE, site, tape.bytes, now, 0, seconds))
            return values
        return begin_sample, end_sample

    def _snapshot_copy(self, site, tape, snapshot):
        """What a split call would save if it were checkpointed: its size, and the time a copy
        of it takes (its snapshot's write time), measured without pushing it."""
        if not snapshot:
            return _bytes(snapshot), 0.0
        if site not in self.disk_seconds and site.endswith(ITERATION):
            # its very arrays, so that the file holds as many entries as the schedule's will
            self.disk_seconds[site] = time_disk_snapshot(tuple(snapshot))
        now = self.clock()
        copies = [stored(v) for v in snapshot]
        copy_seconds = max(self.clock() - now - self.clock_cost, 0.0)
        del copies
        return _bytes(snapshot), copy_seconds

    def _turn_locals(self, function, tape, split_locals):
        """At a turn: the size of the locals a split forward sweep pushes there, and the time
        pushing and popping them takes; the tape's values sampled when it is the fullest yet."""
        if tape.bytes >= self._sample_at:
            self._sample(tape)
        extra = _bytes(split_locals)
        return extra, self._locals_seconds(function, extra, split_locals)

    def _sample(self, tape):
        """``value_bytes``: the size of value that carries the median byte of the tape now (the
        traffic model calibrates with values of that size); sampled again at twice the bytes."""
        weights = {}
        for size in tape._sizes:         # the tape's own record of its values' sizes
            weights[size] = weights.get(size, 0) + size
        half, seen = tape.bytes / 2, 0
        for size in sorted(weights):
            seen += weights[size]
            if seen >= half:
                self.value_bytes = size
                break
        self._sample_at = 2 * tape.bytes + 1

    def _locals_seconds(self, function, nbytes, split_locals):
        """Seconds a split forward sweep of ``function`` spends pushing ``split_locals`` and its
        backward sweep popping them, which a joint adjoint does not do.  Timed on a scratch tape
        for the first few turns of each function and size, then their median: the copies cost as
        much as the pushes they stand for, timing every turn would double them, and one slow
        first copy (memory touched for the first time) must not count for all.  A split forward
        sweep *moves* a dying local array that is not a view onto the tape (Tape.move: no copy):
        such an array is timed as the push of a float, which has the same bookkeeping."""
        key = (function, nbytes)
        if not split_locals:
            self._locals[key] = 0.0         # found without a call from now on
            return 0.0
        sample = self._locals.get(key)
        if type(sample) is float:
            return sample
        scratch = Tape()
        pushed = [0.0 if type(value) is ndarray and value.base is None else value
                  for value in split_locals]
        start = self.clock()
        for value in pushed:
            scratch.push(value)
        for _ in pushed:
            scratch.pop()
        seconds = max(self.clock() - start - self.clock_cost, 0.0)
        if sample is None:
            sample = self._locals[key] = []
        sample.append(seconds)
        if len(sample) == LOCALS_SAMPLES:
            self._locals[key] = sorted(sample)[LOCALS_SAMPLES // 2]
        return seconds


def _set_back(values, saved):
    """Gives the arrays among ``values`` (and in their tuples) the contents ``saved`` holds (a
    copy made before): an array an advance changed in place is the same array again, with the
    same contents, whatever other names share it.  An array that cannot be written was not
    changed."""
    for value, copy in zip(values, saved):
        if isinstance(value, ndarray):
            if value.flags.writeable:
                value[...] = copy
        elif isinstance(value, (tuple, list)):
            _set_back(value, copy)


def _bytes(values):
    """Tape bytes of ``values`` (size_of of each, arrays and floats taken the short way: hooks
    are hot)."""
    total = 0
    for value in values:
        kind = type(value)
        if kind is ndarray:
            total += value.nbytes
        elif kind is float or kind is int:
            total += SCALAR_BYTES
        else:
            total += size_of(value)
    return total


def timed(events, header):
    """Yields the raw events of one batch as (kind, site, tape bytes, seconds since the start,
    extra bytes, extra seconds), the recorder's own time left out: the inline events and hook
    calls before each event (``put_cost`` and ``call_cost`` each), the batches handed over and the
    measurements made in hooks.

    ``extra seconds`` is the write time a split call's snapshot would take (begin-split), the time
    pushing and popping the split locals takes (turn, split-turn), else 0."""
    start, put_cost, call_cost, inline, calls, spent = header
    left_out = start + spent + inline * put_cost + calls * call_cost
    for event in events:
        if len(event) == 4:
            kind, site, nbytes, clock = event
            yield kind, site, nbytes, clock - left_out, 0, 0.0
            left_out += put_cost if kind in INLINE else call_cost
        else:
            kind, site, nbytes, clock, extra, seconds = event[:6]
            yield (kind, site, nbytes, clock - left_out, extra, event[6] if len(event) > 6 else 0.0)
            left_out += seconds + call_cost
