"""Files written whole or not at all, private files and folders, and work done in order on a thread of its own.

Background work lets the next piece be prepared while the last is written: encoders (libsndfile and
libopus through cffi or ctypes) and file writes release the GIL, so on two cores an export takes about as long as the slower of making the audio and writing it, not their sum.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from coach.errors import InputError, OptionError
from coach.signals import sigterm_unwinds
from coach.i18n import N_, _

Item = TypeVar("Item")


class Background(Generic[Item]):
    """Calls work(item) for each item put, in order, on one thread; the first error reaches put() or finish()."""

    def __init__(self, work: Callable[[Item], object], queued: int):
        self._work = work
        self._queue: queue.Queue = queue.Queue(maxsize=queued)  # bounded: memory stays flat
        self._error: BaseException | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._drain, name="coach-background", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None and not self._stopped:
                try:
                    self._work(item)
                except BaseException as exc:  # handed to the thread that puts, which raises it
                    self._error = exc

    def put(self, item: Item) -> None:
        """Queue an item (it must not change afterwards); raises the work's error, if there was one."""
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def finish(self, completed: bool) -> None:
        """Wait for the queued items (dropped unless `completed`), then raise the work's error, if any."""
        self._stopped = not completed
        self._queue.put(None)
        self._thread.join()
        if completed and self._error is not None:
            raise self._error


@contextlib.contextmanager
def in_background(work: Callable[[Item], object], queued: int = 8) -> Iterator[Background[Item]]:
    """A Background for `work`: on leaving, every item has been worked on, or the first error is raised."""
    worker: Background[Item] = Background(work, queued)
    try:
        yield worker
    except BaseException:
        worker.finish(completed=False)
        raise
    worker.finish(completed=True)


def check_writable_folder(path: Path, option: str) -> None:
    """Raise OptionError(option) unless path's folder exists and is writable and path is not a folder."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OptionError(option, _("{path} is a folder, not a file name").format(path=path))
    if not folder.is_dir():
        raise OptionError(option, _("folder {folder} does not exist (for {path})").format(folder=folder, path=path))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OptionError(option, _("folder {folder} is not writable (for {path})").format(folder=folder, path=path))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, N_("a folder")), (stat.S_ISFIFO, N_("a FIFO (named pipe)")),
                       (stat.S_ISCHR, N_("a character device")), (stat.S_ISBLK, N_("a block device")),
                       (stat.S_ISSOCK, N_("a socket"))):
        if test(mode):
            return _(name)
    return _("not a regular file")


def open_regular_file(path: Path, what: str) -> BinaryIO:
    """path opened for reading if it is a regular file, else InputError naming it ("PATH: is a FIFO, not WHAT").

    Nothing blocks: a FIFO would wait for a writer on open, and a device may never end. `what` is marked
    with N_() where it is written and translated here.
    """
    shown, what = str(path), _(what)
    try:
        mode = os.stat(path).st_mode  # stat first, so a FIFO is never opened
        if not stat.S_ISREG(mode):
            raise InputError(_("{path}: is {kind}, not {what}").format(path=shown, kind=_kind(mode), what=what))
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(_("{path}: no such file").format(path=shown)) from None
    except OSError as exc:
        raise InputError(_("{path}: cannot read: {reason}").format(path=shown, reason=exc.strerror)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # swapped for something else since the stat
        os.close(fd)
        raise InputError(_("{path}: is {kind}, not {what}").format(path=shown, kind=_kind(info.st_mode), what=what))
    return os.fdopen(fd, "rb")


def read_regular_file(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of a regular file of at most max_bytes, else InputError naming it (nothing blocks or fills memory)."""
    with open_regular_file(path, what) as handle:
        try:
            raw = handle.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(_("{path}: cannot read: {reason}").format(path=path, reason=exc.strerror)) from None
    if len(raw) > max_bytes:
        raise InputError(_("{path}: is over {size}, too big for {what}").format(path=path, size=_size_text(max_bytes),
                                                                               what=_(what)))
    return raw


def _size_text(size_bytes: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:g} {unit}"
    return f"{size_bytes} bytes"


PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700
_OTHERS = 0o077  # the group's and everyone else's permission bits


def is_private(mode: int) -> bool:
    """Whether a file mode gives nobody but the owner any access."""
    return mode & _OTHERS == 0


def make_private(path: Path) -> bool:
    """Take every permission from group and others on an existing file or folder; True if it had some."""
    mode = os.stat(path).st_mode
    if is_private(mode):
        return False
    os.chmod(path, mode & 0o7700)
    return True


def private_folder(folder: Path) -> bool:
    """Make the folder and each missing parent with mode 0700; True if it already existed and was open to others."""
    folder = Path(folder)
    if not folder.is_dir():
        missing = [folder]
        while not missing[-1].parent.exists() and missing[-1].parent != missing[-1]:
            missing.append(missing[-1].parent)
        for path in reversed(missing):  # one at a time: mkdir(parents=True) gives the parents the umask's mode
            path.mkdir(mode=PRIVATE_FOLDER_MODE, exist_ok=True)
            os.chmod(path, PRIVATE_FOLDER_MODE)  # whatever the umask
        return False
    return make_private(folder)


def private_file(path: Path) -> bool:
    """Create the file empty with mode 0600 if it is missing, else tighten it; True if it was open to others."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
    except FileExistsError:
        return make_private(path)
    os.close(fd)
    return False


def make_stream_private(stream: object) -> None:
    """When output goes to a regular file of ours (`> file` in a shell), give it mode 0600."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and not is_private(info.st_mode):
            os.fchmod(fd, info.st_mode & 0o7700)
    except (AttributeError, OSError, ValueError):
        pass  # not a real file (a pipe, a terminal, a captured stream): nothing to protect


def _final_mode(output: Path, private: bool) -> int:
    try:
        mode = output.stat().st_mode & 0o7777
    except FileNotFoundError:
        if private:
            return PRIVATE_FILE_MODE
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
    # An existing file keeps its owner's mode, unless private data would make it readable by others.
    return PRIVATE_FILE_MODE if private and not is_private(mode) else mode


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder; the rename itself is still atomic
    finally:
        os.close(fd)


# Our temporaries: ".NAME.PID.XXXXXXXX.part" (PID: the writer's), and ".NAME.XXXXXXXX.part" from older coach.
_PART = re.compile(r"^\..+?(?:\.(\d+))?\.[a-z0-9_]{8}\.part$")
STALE_PART_S = 60.0  # a temporary without its writer's PID in its name is left alone while this recent


def _writer_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def remove_stale_parts(folder: Path, now_s: float | None = None) -> list[Path]:
    """Remove our own temporaries that a killed writer left in folder (its PID gone, or old); the ones removed."""
    now_s = time.time() if now_s is None else now_s
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PART.match(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
                continue
            pid = match.group(1)
            if (_writer_gone(int(pid)) if pid is not None and pid.isdigit() and len(pid) <= 9
                    else now_s - info.st_mtime > STALE_PART_S):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


@contextlib.contextmanager
def atomic_output(output: Path, private: bool = False) -> Iterator[Path]:
    """Yield a hidden temporary path beside output; on success it replaces output, on any failure it is removed.

    private: health data, so the file gets mode 0600 (an existing file keeps its mode only if already private).
    Temporaries a killed writer left in the folder (see remove_stale_parts) are removed first.
    """
    output = Path(output)
    folder = output.parent if str(output.parent) else Path(".")
    remove_stale_parts(folder)
    with sigterm_unwinds():
        fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.{os.getpid()}.", suffix=".part", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            fd = os.open(tmp, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(tmp, _final_mode(output, private))
            os.replace(tmp, output)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
    _fsync_folder(folder)


def write_private(path: Path, data: bytes, option: str) -> None:
    """Write data to path atomically as a 0600 file (health data); a problem is an OptionError naming option."""
    path = Path(path)
    check_writable_folder(path, option)
    try:
        with atomic_output(path, private=True) as tmp:  # its temporary is made 0600: never readable by others
            tmp.write_bytes(data)
    except OSError as exc:
        raise OptionError(option, _("cannot write {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
