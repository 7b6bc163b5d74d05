"""The tape: exact byte accounting, copies of arrays, balance."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from adjoin.errors import TapeError, TapeMemoryError
from adjoin.runtime.tape import SCALAR_BYTES, Tape, size_of


def test_byte_accounting():
    tape = Tape()
    tape.push(1.0)
    tape.push(np.zeros((3, 4)))
    tape.push(3)
    tape.push(None)
    tape.push(range(2, 10, 2))
    assert tape.bytes == SCALAR_BYTES * 3 + 96 + 24
    assert tape.peak_bytes == tape.bytes
    tape.pop()
    tape.pop()
    assert tape.bytes == 8 + 96 + 8
    assert tape.peak_bytes == 8 * 3 + 96 + 24


def test_arrays_are_copied():
    tape = Tape()
    a = np.arange(4.0)
    tape.push(a)
    a[:] = -1.0
    assert np.array_equal(tape.pop(), np.arange(4.0))


def test_views_are_copied_whole_region_only():
    tape = Tape()
    a = np.arange(10.0)
    tape.push(a[2:5])
    assert tape.bytes == 24
    a[2:5] = 0.0
    assert np.array_equal(tape.pop(), [2.0, 3.0, 4.0])


def test_pop_empty_and_check_empty():
    tape = Tape()
    with pytest.raises(TapeError):
        tape.pop()
    tape.push(1.0)
    with pytest.raises(TapeError, match="still holds 1 values"):
        tape.check_empty()


values = st.one_of(st.floats(allow_nan=False), st.integers(-5, 5), st.booleans(), st.none(),
                   st.integers(0, 5).map(lambda n: np.ones(n)),
                   st.integers(0, 3).map(lambda n: np.ones((n, 2))))


@given(st.lists(values, max_size=30))
def test_balance_and_lifo(items):
    tape = Tape()
    total = 0
    peak = 0
    for item in items:
        tape.push(item)
        total += size_of(item)
        peak = max(peak, total)
    assert tape.bytes == total and tape.peak_bytes == peak
    for item in reversed(items):
        out = tape.pop()
        if isinstance(item, np.ndarray):
            assert np.array_equal(out, item)
        else:
            assert out == item or out is item
    tape.check_empty()
    assert tape.bytes == 0


def test_a_list_is_stored_as_a_copy_of_its_arrays():
    """A list pushed holds arrays the program may update in place afterwards (issue 12)."""
    from adjoin.runtime.tape import Tape
    tape = Tape()
    r = np.ones(3)
    tape.push([r * 2.0, r])
    r[0] = 5.0
    assert tape.bytes == 48
    restored = tape.pop()
    assert isinstance(restored, list) and restored[1][0] == 1.0


def test_move_keeps_an_array_only_its_name_holds_and_copies_anything_else():
    """A local that dies at the end of a split forward sweep goes onto the tape uncopied when
    nothing else refers to it; a second name, a view or a view of it make move copy, as push does."""
    tape = Tape()

    def sweep():
        alone = np.arange(4.0) * 2.0
        tape.move(alone)
        shared = np.arange(4.0) * 3.0
        other = shared
        tape.move(shared)
        base = np.arange(6.0)
        view = base[1:4]
        tape.move(view)
        seen = np.arange(3.0) + 1.0
        window = seen[1:]
        tape.move(seen)
        return id(alone), other, base, window

    alone_id, other, base, window = sweep()
    moved_seen, moved_view, moved_shared, moved_alone = (tape.pop() for _ in range(4))
    assert id(moved_alone) == alone_id and np.array_equal(moved_alone, np.arange(4.0) * 2.0)
    for kept, original in ((moved_shared, other), (moved_view, base[1:4]), (moved_seen, window.base)):
        assert not np.shares_memory(kept, original)
        assert np.array_equal(kept, original)
    other[:] = base[1:4] = window[:] = -1.0           # later writes cannot reach the tape's copies
    assert np.array_equal(moved_shared, np.arange(4.0) * 3.0)
    assert tape.bytes == 0 and tape.peak_bytes == 4 * 8 * 2 + 3 * 8 + 3 * 8


def test_move_counts_bytes_and_respects_the_limit():
    tape = Tape(max_bytes=40)

    def sweep():
        big = np.zeros(6)
        tape.move(big)

    with pytest.raises(TapeMemoryError):
        sweep()
    assert tape.bytes == 0
