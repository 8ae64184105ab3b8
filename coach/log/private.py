"""Health data written whole or not at all, readable by its owner alone (0600 files, 0700 new folders)."""

from __future__ import annotations

import os
from pathlib import Path

from coach.errors import OptionError
from coach.files import atomic_output, check_writable_folder

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_private_folder(folder: Path) -> None:
    """Create folder and its missing parents as 0700 (an existing folder keeps its mode)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(mode=FOLDER_MODE)
        os.chmod(new, FOLDER_MODE)  # mkdir's mode is cut by the umask


def write_private(path: Path, data: bytes, option: str) -> None:
    """Write data to path atomically as a 0600 file; a problem is an OptionError naming option."""
    path = Path(path)
    check_writable_folder(path, option)
    # atomic_output gives the new file the old one's mode, or the umask's: both are made private first,
    # so the data is never readable by others, not even for a moment.
    saved_umask = os.umask(0o077)
    try:
        if path.exists():
            os.chmod(path, FILE_MODE)
        with atomic_output(path) as tmp:
            fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
            try:
                os.fchmod(fd, FILE_MODE)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
    except OSError as exc:
        raise OptionError(option, f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        os.umask(saved_umask)
