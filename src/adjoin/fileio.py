"""Reading and writing the user's files without losing any (docs/files-and-status.md).

Writes are atomic: the text goes to a temporary file beside the target, named
``.NAME.adjoin-PID-XXXXXXXX.tmp``, flushed to disk, then renamed over the target in one step, so
a failed or interrupted write leaves the old file whole.  The temporary is removed on every exit
path Python sees (an error, Ctrl-C, and SIGTERM or SIGHUP under the ``adjoin`` command, which
turns them into exceptions); one left by a process killed outright (``kill -9``, a power cut) is
removed by the next write of the same file, once the process that made it is gone.  Only names
of exactly that form are ever removed.

A symlink is written through, as editors do: its target gets the new text and the link stays.
An existing target keeps its permissions; a read-only one is refused.

Every failure to read or write is a :class:`UsageError` naming the file, what is wrong, and what
to do; no OSError or UnicodeDecodeError reaches the user.
"""
import errno
import os
import re
import tempfile
from pathlib import Path

from .errors import UsageError

CHUNK = 1 << 20         # characters written at a time: a large text is never encoded whole
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.adjoin-(?P<pid>\d+)-[A-Za-z0-9_]+\.tmp")


def shown(path):
    """``path`` as the user will recognise it: relative to the working folder when inside it."""
    path = Path(path)
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)


_shown = shown


def write_text_atomic(path, text):
    """Writes ``text`` (a string, or an iterable of strings) to ``path`` atomically, in UTF-8.

    Missing folders are created.  A symlink's target is written.  Raises UsageError, leaving the
    old file whole and no temporary behind, when the file cannot be written."""
    given = Path(path)
    target = Path(os.path.realpath(given))          # through symlinks, as editors write
    shown = _shown(given)
    if target.is_dir():
        raise UsageError(f"{shown}: is a folder; give the path of the file to write")
    mode = _existing_mode(target, shown)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(_write_failure(shown, folder, error)) from None
    remove_stale_temporaries(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.adjoin-{os.getpid()}-", suffix=".tmp",
                                   dir=folder)
    except OSError as error:
        raise UsageError(_write_failure(shown, folder, error)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for chunk in _chunks(text):
                out.write(chunk)
            out.flush()
            _sync(out.fileno())
        os.chmod(tmp, mode)                         # mkstemp makes it private; a user's file is not
        os.replace(tmp, target)
    except OSError as error:
        _remove(tmp)
        raise UsageError(_write_failure(shown, folder, error)) from None
    except BaseException:                           # KeyboardInterrupt, the command's SIGTERM...
        _remove(tmp)
        raise


def check_writable(path, label=None):
    """Raises the UsageError writing ``path`` would end in, before anything is run: a folder, a
    path under a file, a read-only file, a folder this process may not write in or a read-only
    file system.  ``label`` names the path in messages (``-o out.py``)."""
    given = Path(path)
    label = label or _shown(given)
    target = Path(os.path.realpath(given))
    try:
        if target.is_dir():
            raise UsageError(f"{label}: is a folder; give the path of the file to write")
        _existing_mode(target, label)
        folder = target.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise UsageError(f"{label}: cannot write it: {_shown(folder)} is a file, not a folder; "
                             "give a path in a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            read_only = hasattr(os, "statvfs") and os.statvfs(folder).f_flag & os.ST_RDONLY
            code = errno.EROFS if read_only else errno.EACCES
            raise OSError(code, os.strerror(code))
    except OSError as error:            # a name too long, a loop of symlinks, no permission...
        raise UsageError(_write_failure(label, target.parent, error)) from None


def read_text(path, what, hint):
    """The UTF-8 text of the file at ``path``, or a UsageError: ``what`` names the kind of file
    (``placement``), ``hint`` says where a good one comes from."""
    path = Path(path)
    shown = _shown(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{shown}: no such {what} file; {hint}") from None
    except IsADirectoryError:
        raise UsageError(f"{shown}: is a folder, not a {what} file; {hint}") from None
    except PermissionError:
        raise UsageError(f"{shown}: cannot read the {what} file (permission denied); make it "
                         "readable (chmod u+r) or give another") from None
    except OSError as error:
        raise UsageError(f"{shown}: cannot read the {what} file ({error.strerror or error}); "
                         f"{hint}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{shown}: not a {what} file: it is not UTF-8 text (byte "
                         f"0x{data[error.start]:02x} at offset {error.start}); {hint}") from None


def remove_stale_temporaries(target):
    """Removes the temporaries of ``target`` that adjoin left when it was killed mid-write: the
    files ``.NAME.adjoin-PID-*.tmp`` beside it whose process no longer runs."""
    target = Path(target)
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        found = _TEMPORARY.fullmatch(entry.name)
        if found and found["name"] == target.name and not _running(int(found["pid"])):
            _remove(entry.path)


def _running(pid):
    if pid == os.getpid():
        return True         # another write of this process (a thread) may be under way
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _sync(fd):
    """Flushes the file to the disk before the rename (else a power cut could leave an empty
    file under the target's name); file systems that cannot sync (some FUSE, /dev/shm quirks)
    are written without it."""
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise


def _chunks(text):
    if isinstance(text, str):
        for start in range(0, len(text), CHUNK):
            yield text[start:start + CHUNK]
    else:
        yield from text


def _existing_mode(target, shown):
    """The permissions the new file gets: the old file's, else those of a new file (umask)."""
    try:
        mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    except OSError as error:
        raise UsageError(_write_failure(shown, target.parent, error)) from None
    if not mode & 0o222:
        raise UsageError(f"{shown}: the file is read-only; make it writable (chmod u+w) if it may "
                         "be replaced, or write elsewhere")
    return mode


def _write_failure(shown, folder, error):
    """'out.py: cannot write it: <why>; <what to do>' for an OSError while writing."""
    code = error.errno
    where = _shown(folder)
    if where == ".":
        where = f"{os.getcwd()} (the working folder)"
    if code in (errno.EACCES, errno.EPERM):
        why, do = f"permission denied in the folder {where}", "write into a folder you may write to"
    elif code == errno.EROFS:
        why, do = f"the folder {where} is on a read-only file system", "write elsewhere"
    elif code in (errno.ENOSPC, errno.EDQUOT):
        why, do = "no space left on the device (or over the disk quota)", \
            "free some space or write elsewhere; the old file, if any, is unchanged"
    elif code == errno.EFBIG:
        why, do = "the file would be larger than this process may write (ulimit -f)", \
            "raise the file size limit or write elsewhere; the old file, if any, is unchanged"
    elif code in (errno.ENOTDIR, errno.EEXIST):
        blocking = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), folder)
        why, do = f"{_shown(blocking)} is a file, not a folder", "give a path in a folder"
    elif code == errno.ENAMETOOLONG:
        why, do = "the file name is too long", "give a shorter name"
    elif code == errno.EISDIR:
        why, do = "it is a folder", "give the path of the file to write"
    else:
        why, do = error.strerror or str(error), "write elsewhere"
    return f"{shown}: cannot write it: {why}; {do}"


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass
