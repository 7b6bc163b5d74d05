"""The public API (DESIGN.md, "Public API"): value_and_grad, grad, adjoint, checkpoint_sites."""
import contextlib
import copy
import inspect
import math
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import (AdjoinError, NonFiniteGradientWarning, StalePlacementWarning, UnsupportedError, UsageError,
                     VerifyError, generated_paths, refused_where_it_ran)
from .placement import Placement
from .frontend.source import is_user_function
from .runtime.tape import Tape
from .runtime.verify import NonFinite, Verifier
from .transform.loopsite import find_loop_sites
from .transform.module import (USER_IMPORT, Site, bindings, build, find_sites, head_kinds_from_example,
                               module_source)

_COMPILED = {}     # source text -> code object


@dataclass(frozen=True)
class Run:
    """One measured adjoint run; loop sites' disk snapshots (not on the tape) apart: bytes
    written in all, the most on disk at once, and the seconds writing and reading them took."""
    value: float
    grads: tuple
    seconds: float
    peak_tape_bytes: int
    disk_bytes: int = 0
    disk_peak_bytes: int = 0
    disk_seconds: float = 0.0


def _as_placement(placement):
    if placement is None or isinstance(placement, Placement):
        return placement
    if isinstance(placement, (str, bytes)) or hasattr(placement, "__fspath__"):
        return Placement.load(placement)
    if isinstance(placement, dict):
        return Placement(k for k, v in placement.items() if v in (False, "nocheckpoint"))
    raise UsageError(f"placement must be an adjoin.Placement, a placement file or None, not {placement!r}")


VERIFY_ENV = "ADJOIN_VERIFY"
# the profile times the plain adjoint (no hooks) this many times at most, until this long in all:
# a short adjoint's single run is mostly noise, a long one's is enough
PLAIN_RUNS = 5
PLAIN_SECONDS = 1.0
# an adjoint shorter than this is profiled up to PROFILED_RUNS times, its tree's times the medians
SHORT_ADJOINT = 0.2
PROFILED_RUNS = 5


def verify_default(verify):
    """``verify`` as given, or, when None, whether the environment variable ADJOIN_VERIFY is set
    (to anything but "" or "0"): a whole test run can switch verify mode on."""
    if verify is None:
        return os.environ.get(VERIFY_ENV, "") not in ("", "0")
    if not isinstance(verify, bool):
        raise UsageError(f"verify must be True, False or None (from ${VERIFY_ENV}), not {verify!r}")
    return verify


def _names(nocheckpoint):
    if isinstance(nocheckpoint, str):
        return tuple(n.strip() for n in nocheckpoint.split(",") if n.strip())
    return tuple(nocheckpoint or ())


class Adjoint:
    """The generated adjoint of a function, compiled; specialized to the kinds of its arguments."""

    def __init__(self, fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
        self.signature = signature_of(fn)
        self.fn = fn
        self.wrt_given = wrt
        self.placement = _as_placement(placement)
        self.nocheckpoint = _names(nocheckpoint)
        self.verify = verify_default(verify)
        self.max_tape_bytes = max_tape_bytes
        Tape(max_tape_bytes)        # a bad limit (or $ADJOIN_MAX_TAPE) is refused here
        self._cache = {}
        self._last = None

    # -- specialization ---------------------------------------------------------------------------
    def _bind(self, args, kwargs):
        return bind_arguments(self.fn, self.signature, args, kwargs)

    def _specialize(self, values, hooks=False):
        _refuse_unreal_arguments(self.fn, values)
        kinds = head_kinds_from_example(list(values), values)
        # the functions themselves (not their ids): a key holds its function, so no other takes its id
        functions = tuple(sorted(((k, v) for k, v in values.items() if is_user_function(v)), key=lambda kv: kv[0]))
        key = (tuple(sorted((k, str(v)) for k, v in kinds.items())), functions, hooks)
        found = self._cache.get(key)
        if found is None:
            pctx, wrt = build(self.fn, self.wrt_given, self.placement, self.nocheckpoint, kinds, hooks,
                              verify=self.verify, values=values)
            _refuse_unknown_parameters(self.fn, {pctx.user_name[p]: values[pctx.user_name[p]] for p in wrt})
            _warn_stale(self.fn, self.placement, pctx.sites + pctx.loop_sites)
            source = module_source(pctx, wrt)
            namespace = _compile(source, pctx)
            entry = namespace[pctx.generated_name(pctx.program.head, "b")]
            found = (source, entry, wrt, pctx)
            self._cache[key] = found
        self._last = found
        return found

    @property
    def source(self):
        """The generated module's source (of the last specialization, else for unknown kinds)."""
        if self._last is None:
            pctx, wrt = build(self.fn, self.wrt_given, self.placement, self.nocheckpoint, None,
                              verify=self.verify)
            return module_source(pctx, wrt)
        return self._last[0]

    # -- running ----------------------------------------------------------------------------------
    def _run(self, args, kwargs, tape, prof=None):
        values = self._bind(args, kwargs)
        source, entry, wrt, pctx = self._specialize(values, hooks=prof is not None)
        private = {k: _private_copy(v) for k, v in values.items()}
        ordered = [private[u] for u in pctx.program.functions[pctx.program.head].user_params]
        extra = []
        if pctx.functions_gen[pctx.program.head].result_active():
            extra.append(1.0)
        extra += [0.0] * len(pctx.functions_gen[pctx.program.head].adjoint_inputs())
        if prof is not None:
            extra.append(prof)
        verifier = Verifier(pctx.verify_points.points) if pctx.verify else None
        if verifier is not None:
            extra.append(verifier)
        try:
            value, raw = entry(tape, *ordered, *extra)
        except MemoryError as error:        # NumPy could not allocate: say where, and what to do
            raise tape.exhausted(error) from None
        except UnsupportedError as error:   # a rule's check at run time: say the user's file and line
            raise refused_where_it_ran(error, source, generated_paths(pctx)) from None
        except VerifyError as error:
            if verifier is None or prof is not None or not hasattr(error, "point"):
                raise
            raise _watched_again(entry, pctx, values, extra[:-1], error) from None
        tape.check_empty()
        if verifier is not None:
            verifier.check_empty()
        if np.ndim(value) != 0:
            raise UsageError(f"{self.fn.__name__} returned a value of shape {np.shape(value)}; "
                             "adjoin differentiates functions returning a scalar cost")
        gen = pctx.functions_gen[pctx.program.head]
        by_param = dict(zip(gen.active_params, raw))
        grads = tuple(_gradient_like(by_param.get(p, 0.0), values[pctx.user_name[p]]) for p in wrt)
        if prof is None and not all(np.all(np.isfinite(g)) for g in grads) and np.isfinite(value) \
                and _all_finite(values.values()):
            warnings.warn(self._where_non_finite(values), NonFiniteGradientWarning, stacklevel=4)
        return float(value), grads, wrt

    def _where_non_finite(self, values):
        """Runs the adjoint again checking every adjoint statement's result: the first that is not
        finite names the line whose derivative is singular."""
        kinds = head_kinds_from_example(list(values), values)
        pctx, wrt = build(self.fn, self.wrt_given, self.placement, self.nocheckpoint, kinds, locate=True,
                          values=values)
        entry = _compile(module_source(pctx, wrt), pctx)[pctx.generated_name(pctx.program.head, "b")]
        private = {k: _private_copy(v) for k, v in values.items()}
        ordered = [private[u] for u in pctx.program.functions[pctx.program.head].user_params]
        gen = pctx.functions_gen[pctx.program.head]
        extra = [1.0] * gen.result_active() + [0.0] * len(gen.adjoint_inputs())
        try:
            with np.errstate(all="ignore"):
                entry(Tape(self.max_tape_bytes), *ordered, *extra, Verifier(pctx.verify_points.points))
        except NonFinite as found:
            return found.text()
        return f"the gradient of {self.fn.__name__} is not finite, from finite inputs"

    def _shape_result(self, grads):
        if isinstance(self.wrt_given, (str, int)):
            return grads[0]
        return grads

    def __call__(self, *args, **kwargs):
        """(value, gradients): gradients is a tuple when wrt is a tuple."""
        value, grads, _ = self._run(args, kwargs, Tape(self.max_tape_bytes))
        return value, self._shape_result(grads)

    def record(self, *args, **kwargs):
        """Runs the adjoint in profiling mode: (value, grads, Recorder with the raw events, Tape).
        Loop sites run their schedules (their events show its pattern on the tape); a profile
        (profile()) tapes their every iteration instead."""
        from .runtime.profiler import Recorder
        self._specialize(self._bind(args, kwargs), hooks=True)    # generation is not timed
        recorder = Recorder()
        tape = Tape(self.max_tape_bytes)
        value, grads, _ = self._run(args, kwargs, tape, prof=recorder)
        return value, self._shape_result(grads), recorder, tape

    def profile(self, *args, warmup=True, keep_events=True, background=None, repeat=None, progress=None,
                **kwargs):
        """Runs the adjoint with profiling hooks: a Profile (checkpoint tree, ΔT, ΔPM).

        ``warmup`` runs it once first, unrecorded, so that the recorded times are not those of a
        first run (imports, caches), then times a plain run (no hooks), ``repeat`` times (the
        median is kept; by default as many times as fit PLAIN_SECONDS, at most PLAIN_RUNS: a short
        adjoint's single run is mostly noise): the profiled times are fitted to it (profiling/tree.fit_to_plain_run),
        so that predictions carry no profiling overhead.  The checkpoint tree is built as the run
        goes, in a helper process on another core when ``background`` (the default when this
        process may use two cores or more), else in this process.  With ``keep_events=False`` the
        raw events are not kept, and memory stays bounded by the tree however long the run (the
        events are only needed for a trace or a tape plot).  ``progress``, when given, is called
        with a short text as each run starts."""
        if repeat is not None and (isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1):
            raise UsageError(f"repeat must be a whole number of runs, at least 1 (got {repeat!r})")
        target, loops = self._for_profiling(self._bind(args, kwargs))
        return target._profile(args, kwargs, loops, warmup, keep_events, background, repeat, progress)

    def _for_profiling(self, values):
        """(the adjoint to profile, {loop site id: (snapshots, disk)}): a loop site is profiled
        with every iteration taped (each is a node of the tree), so an adjoint whose placement
        checkpoints one is profiled as the same placement with its loop sites not checkpointed;
        the schedules they had become the profile's defaults for them."""
        pctx = self._specialize(values)[3]
        loops = {}
        for site in pctx.loop_sites:
            placed = pctx.loop_site(site.caller, site.line)
            loops[site.id] = (placed.snapshots, placed.disk) if placed.checkpointed else (site.snapshots, site.disk)
        if not any(pctx.checkpointed(site) for site in pctx.loop_sites):
            return self, loops
        off = {s.id for s in pctx.sites if not pctx.checkpointed(s)} | set(loops)
        return Adjoint(self.fn, self.wrt_given, Placement(sorted(off)), verify=self.verify,
                       max_tape_bytes=self.max_tape_bytes), loops

    def _profile(self, args, kwargs, loops, warmup, keep_events, background, repeat, progress):
        """profile() of an adjoint whose loop sites are not checkpointed (``loops``: their defaults)."""
        from .profiling.loops import measure_disk
        from .profiling.profile import Profile
        from .profiling.traffic import calibrate_for
        from .profiling.tree import TreeBuilder, advances_measured, estimate_unmeasured, fit_to_plain_run
        from .profiling.worker import TreeProcess, cores
        from .runtime.profiler import Recorder
        values = self._bind(args, kwargs)
        if background is None:
            background = cores() >= 2
        say = progress or (lambda text: None)
        with contextlib.ExitStack() as stack:
            # started first: the helper imports while the warm-up runs
            sink = stack.enter_context(TreeProcess()) if background else TreeBuilder()
            plain_seconds = None
            source, entry, wrt, pctx = self._specialize(values, hooks=True)
            if warmup:
                say("warm-up run")
                self._run(args, kwargs, Tape(self.max_tape_bytes), prof=Recorder(keep=False))
                self._specialize(values)        # compiled before the clock starts
                sink.ready()                    # the helper has imported: it leaves the core alone
                plain_seconds = self._plain_seconds(args, kwargs, repeat, say)
            say("profiled run")
            tree, ratio, seconds, tape, recorder = self._profiled_run(args, kwargs, sink, keep_events)
        if plain_seconds is not None and plain_seconds < SHORT_ADJOINT:
            tree = self._median_of_profiled_runs(args, kwargs, tree, plain_seconds, say)
        if plain_seconds is not None and seconds > 0:
            fit_to_plain_run(tree, plain_seconds)
            if not advances_measured(tree) and tree.children:     # every primal time estimated:
                ratio = estimate_unmeasured(tree, self._primal_seconds(values))   # from the fitted F
            seconds = plain_seconds
        off = {s.id for s in pctx.sites + pctx.loop_sites if not pctx.checkpointed(s)}
        wrt = tuple(pctx.user_name[p] for p in wrt)       # as the user names them
        traffic = calibrate_for(tree, recorder.value_bytes, progress=say)    # in this process
        if traffic.depths and plain_seconds is not None:
            traffic = self._scale_traffic(args, kwargs, tree, off, pctx.sites, traffic, say, loops)
        disk = measure_disk(tree, loops, recorder.disk_seconds, progress=say)
        profile = Profile(pctx.program.head, wrt, pctx.sites + pctx.loop_sites, off, tree, tape.peak_bytes,
                          seconds, ratio, traffic=traffic, loops=loops, disk=disk)
        profile.events = recorder.events if keep_events else None   # for a trace; not saved
        return profile

    def _plain_seconds(self, args, kwargs, repeat, say):
        """The median time of the plain adjoint (no hooks), run ``repeat`` times, or by default
        as many times as fit PLAIN_SECONDS, at most PLAIN_RUNS."""
        times = []
        while not times or (len(times) < repeat if repeat is not None else
                            len(times) < PLAIN_RUNS and sum(times) < PLAIN_SECONDS):
            say("timing the adjoint without hooks" + (f" ({len(times) + 1}/{repeat})"
                                                      if repeat not in (None, 1) else ""))
            start = time.perf_counter()
            self._run(args, kwargs, Tape(self.max_tape_bytes))
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def _scale_traffic(self, args, kwargs, tree, off, sites, traffic, say, loops):
        """``traffic`` scaled to a run of the extreme placement whose tape differs most from the
        profiled one's (every site off, or every site checkpointed), timed in turn with the
        profiled placement (profiling/traffic.fit_scale); as calibrated when that placement's
        predicted peak would take more than half the memory available or the tape's limit, or
        when the two differ in traffic by less than the noise of those pairs (traffic.pair_noise)."""
        from .profiling.model import Simulator
        from .profiling.traffic import fit_scale, other_extreme, pair_noise
        from .runtime.tape import available_memory
        simulator = Simulator(tree, traffic, off, loops)
        other = other_extreme(simulator, off, [s.id for s in sites]) | (off & set(loops))
        limit = min(Tape(self.max_tape_bytes).max_bytes, 0.5 * (available_memory() or math.inf))
        if other == frozenset(off) or simulator.evaluate(other).peak_tape_bytes > limit:
            return traffic
        say("timing the placement whose tape differs most (every site " +
            ("off" if other else "checkpointed") + "), to scale the traffic's cost")
        pair = (self, Adjoint(self.fn, self.wrt_given, Placement(sorted(other)), verify=self.verify,
                              max_tape_bytes=self.max_tape_bytes))
        pctx = pair[1]._specialize(self._bind(args, kwargs))[3]
        if {s.id for s in pctx.sites if not pctx.checkpointed(s)} != other:
            return traffic
        pair[1]._run(args, kwargs, Tape(self.max_tape_bytes))          # its first run, untimed
        times = ([], [])
        while len(times[0]) < PLAIN_RUNS and sum(times[0]) + sum(times[1]) < 2 * PLAIN_SECONDS:
            for adj, spent in zip(pair, times):
                start = time.perf_counter()
                adj._run(args, kwargs, Tape(self.max_tape_bytes))
                spent.append(time.perf_counter() - start)
        # the other's time as it compares with the profiled placement's plain time
        seconds = statistics.median(times[1]) * simulator.evaluate(off).seconds / statistics.median(times[0])
        return fit_scale(traffic, simulator, other, seconds, pair_noise(*times))

    def _median_of_profiled_runs(self, args, kwargs, tree, plain_seconds, say):
        """The tree of a short adjoint with the median times of up to PROFILED_RUNS profiled runs
        (as many as fit PLAIN_SECONDS; built in this process): one run of a few milliseconds is
        mostly noise."""
        from .profiling.tree import TreeBuilder, median_tree
        trees = [tree]
        while len(trees) < PROFILED_RUNS and (len(trees) + 1) * plain_seconds < PLAIN_SECONDS:
            say(f"profiled run ({len(trees) + 1}/{PROFILED_RUNS})")
            trees.append(self._profiled_run(args, kwargs, TreeBuilder(), False)[0])
        return median_tree(trees)

    def _primal_seconds(self, values):
        """Seconds of the head's primal on private copies of its arguments (the fastest of two
        runs when one is short), or None when it cannot be called so."""
        times = []
        while len(times) < 2 and sum(times) < PLAIN_SECONDS:
            private = {k: _private_copy(v) for k, v in values.items()}
            start = time.perf_counter()
            try:
                self.fn(**private)
            except Exception:           # a positional-only parameter, say: estimate without it
                return None
            times.append(time.perf_counter() - start)
        return min(times)

    def _profiled_run(self, args, kwargs, sink, keep_events):
        """One run with the hooks on, its events going to ``sink`` (a TreeBuilder or TreeProcess):
        (tree, primal ratio, seconds, tape, recorder).  The hooked module must be specialized;
        ``seconds`` leaves out the primals the hooks timed (samples), as the tree does."""
        from .runtime.profiler import Recorder
        recorder = Recorder(sink=sink, keep=keep_events)
        tape = Tape(self.max_tape_bytes)
        self._run(args, kwargs, tape, prof=recorder)
        seconds = recorder.elapsed()         # the recorder's own time left out, as in every event
        recorder.flush()
        tree, ratio = sink.finish(seconds)
        return tree, ratio, seconds - recorder.sample_seconds, tape, recorder

    def measure(self, *args, **kwargs):
        """Runs the adjoint once: value, grads, seconds, peak_tape_bytes (and disk_bytes,
        disk_peak_bytes, disk_seconds of loop sites' disk snapshots)."""
        values = self._bind(args, kwargs)
        self._specialize(values)
        tape = Tape(self.max_tape_bytes)
        start = time.perf_counter()
        value, grads, _ = self._run(args, kwargs, tape)
        seconds = time.perf_counter() - start
        return Run(value, self._shape_result(grads), seconds, tape.peak_bytes, tape.disk_bytes,
                   tape.disk_peak_bytes, tape.disk_seconds)


def _watched_again(entry, pctx, values, extra, error):
    """The VerifyError of a run again, saying where the value it names changed: the same adjoint
    runs once more, watching that value through the forward sweep."""
    private = {k: _private_copy(v) for k, v in values.items()}
    ordered = [private[u] for u in pctx.program.functions[pctx.program.head].user_params]
    try:
        entry(Tape(), *ordered, *extra, Verifier(pctx.verify_points.points, watch=error.point))
    except VerifyError as again:
        return again
    return error


def _all_finite(values):
    for value in values:
        if isinstance(value, (float, np.floating, np.ndarray)) and np.asarray(value).dtype.kind == "f" \
                and not np.all(np.isfinite(value)):
            return False
    return True


def _warn_stale(fn, placement, sites):
    """A StalePlacementWarning for the sites a placement names that ``fn`` does not have."""
    named = placement.nocheckpoint | {k for k, _, _ in placement.loops} if placement else set()
    unknown = sorted(named - {site.id for site in sites})
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        warnings.warn(f"the placement names {len(unknown)} site(s) that {fn.__name__} does not have, ignored: "
                      f"{shown}; adjoin.checkpoint_sites({fn.__name__}, example=...) lists its sites",
                      StalePlacementWarning, stacklevel=_user_level())


def signature_of(fn):
    """The signature of the function differentiated (a UsageError when it cannot be read)."""
    if not callable(fn):
        raise UsageError(f"adjoin differentiates functions; got {fn!r}")
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        raise UsageError(f"cannot read the signature of {fn!r}") from None


def bind_arguments(fn, signature, args, kwargs):
    """{parameter: value} of a call of ``fn``, defaults filled in."""
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise UsageError(f"calling {fn.__name__}: {error}") from None
    bound.apply_defaults()
    return dict(bound.arguments)


def _user_level():
    """The stacklevel of warnings.warn, called here, that names the user's line: the first frame
    outside the adjoin package (the API is entered at several depths)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def _refuse_unknown_parameters(fn, values):
    """A parameter differentiated with respect to is a float or a float array (a gradient has its
    type and shape); a list of arrays would come back as one number."""
    for name, value in values.items():
        if isinstance(value, (list, tuple)):
            raise UsageError(f"cannot differentiate {fn.__name__} with respect to {name!r}: {name!r} is a "
                             f"{type(value).__name__}; pass each array as a parameter of its own, or stack "
                             "them into one array (np.stack)")
        if not isinstance(value, (float, int, np.floating, np.integer, np.ndarray)) or isinstance(value, bool):
            raise UsageError(f"cannot differentiate {fn.__name__} with respect to {name!r}: it is a "
                             f"{type(value).__name__}; pass a float or a NumPy array of floats")


def _refuse_unreal_arguments(fn, values):
    """adjoin's rules are those of real arithmetic: complex and object values are refused."""
    for name, value in values.items():
        kind = np.asarray(value).dtype.kind if isinstance(value, (np.ndarray, np.generic, complex)) else None
        if kind == "c":
            raise UsageError(f"argument {name!r} of {fn.__name__} is complex; adjoin differentiates real "
                             "values: pass its real and imaginary parts as two float arrays")
        if kind == "O":
            raise UsageError(f"argument {name!r} of {fn.__name__} is an array of Python objects; pass a "
                             "NumPy array of floats (e.g. np.asarray(x, dtype=float))")


def _compile(source, pctx):
    """Runs the generated module here; the user's objects are bound directly, not imported
    (functions defined in scripts, notebooks or other functions cannot be imported by name)."""
    code = _COMPILED.get(source)
    if code is None:
        runnable = "\n".join("" if line.endswith(USER_IMPORT) else line for line in source.splitlines())
        code = compile(runnable, f"<adjoint of {pctx.program.head}>", "exec")
        _COMPILED[source] = code
    namespace = {"__name__": f"adjoin_generated_{pctx.program.head}",
                 "__adjoint_source__": source}     # read by the tape to name a line it refuses
    namespace.update(bindings(pctx))
    exec(code, namespace)
    return namespace


def _private_copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple, dict)):
        return copy.deepcopy(value)
    return value


def _gradient_like(g, param):
    if isinstance(param, np.ndarray):
        out = np.zeros(param.shape, dtype=float)
        out += np.asarray(g, dtype=float)
        return out
    return float(np.sum(g)) if np.ndim(g) else float(g)


def value_and_grad(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
    """Returns a function computing (value, gradients) of ``fn`` with respect to ``wrt``.

    ``max_tape_bytes``: the tape's limit; a run that would pass it stops with a TapeMemoryError
    (default: $ADJOIN_MAX_TAPE, else 80 % of the memory available at start; math.inf: none)."""
    adj = Adjoint(fn, wrt, placement, nocheckpoint, verify, max_tape_bytes)

    def value_and_gradient(*args, **kwargs):
        return adj(*args, **kwargs)
    value_and_gradient.adjoint = adj
    value_and_gradient.__name__ = f"value_and_grad_{getattr(fn, '__name__', 'f')}"
    return value_and_gradient


def grad(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
    """Like value_and_grad, gradient only (a tuple when wrt is a tuple)."""
    adj = Adjoint(fn, wrt, placement, nocheckpoint, verify, max_tape_bytes)

    def gradient(*args, **kwargs):
        return adj(*args, **kwargs)[1]
    gradient.adjoint = adj
    return gradient


def adjoint(fn, wrt, placement=None, nocheckpoint=(), verify=None, max_tape_bytes=None):
    """The generated adjoint of ``fn``, compiled: callable, with .source, .measure(...);
    ``max_tape_bytes`` as in value_and_grad."""
    return Adjoint(fn, wrt, placement, nocheckpoint, verify, max_tape_bytes)


def generate_source(fn, wrt, placement=None, nocheckpoint=(), example=None, verify=None):
    """Source text of the adjoint module of ``fn``; ``example`` (dict of arguments) fixes argument kinds."""
    kinds = None
    if example is not None:
        params = list(inspect.signature(fn).parameters)
        kinds = head_kinds_from_example(params, example)
    pctx, wrt = build(fn, wrt, _as_placement(placement), _names(nocheckpoint), kinds,
                      verify=verify_default(verify), values=example)
    return module_source(pctx, wrt)


def checkpoint_sites(fn, nocheckpoint=(), example=None):
    """The checkpoint sites reachable from ``fn``: [Site(id, caller, callee, file, line, checkpointed)]
    (``example``: the head's arguments, when functions among them change what is called)."""
    from .frontend.program import load_program
    program = load_program(fn, example)
    sites, _ = find_sites(program, _names(nocheckpoint))
    loops, _ = find_loop_sites(program, set(_names(nocheckpoint)))
    return sites + loops


__all__ = ["Adjoint", "Run", "Site", "AdjoinError", "adjoint", "checkpoint_sites", "generate_source", "grad",
           "value_and_grad"]
