"""The system's libsndfile as an export writer, for the lossy formats.

soundfile bundles its own libsndfile with the codecs built in; those builds encode MP3 about 3x and
Opus about 3.5x slower than the distribution's libsndfile with its shared libmp3lame and libopus
(the same encoder versions and settings, measured in scripts/bench). So lossy exports go through the
system's library when it has the format, and through soundfile otherwise. Loaded by its full path:
by name the dynamic loader would hand back soundfile's copy, which has the same soname.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import subprocess

import numpy as np

LIBRARY = "libsndfile.so.1"
SFM_WRITE = 0x20
FORMATS = {("MP3", "MPEG_LAYER_III"): 0x230000 | 0x0082, ("OGG", "VORBIS"): 0x200000 | 0x0060,
           ("OGG", "OPUS"): 0x200000 | 0x0064}


class _Info(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def _library_paths() -> list[str]:
    """Where the dynamic loader's cache says the system's libsndfile is (64-bit entries on 64-bit Python)."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=5,
                             env={**os.environ, "LC_ALL": "C"}).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    wide = ctypes.sizeof(ctypes.c_void_p) == 8
    paths = []
    for flags, path in re.findall(rf"^\s*{re.escape(LIBRARY)} \(([^)]*)\) => (\S+)$", out, re.MULTILINE):
        if ("64" in flags) == wide:
            paths.append(path)
    return paths


@functools.cache
def system_library() -> ctypes.CDLL | None:
    """The system's libsndfile with the calls this module uses declared, or None when there is none."""
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        lib.sf_open.restype, lib.sf_open.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int,
                                                                      ctypes.POINTER(_Info)]
        lib.sf_format_check.restype, lib.sf_format_check.argtypes = ctypes.c_int, [ctypes.POINTER(_Info)]
        for name in ("sf_writef_float", "sf_writef_short"):
            getattr(lib, name).restype = ctypes.c_int64
            getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        lib.sf_close.restype, lib.sf_close.argtypes = ctypes.c_int, [ctypes.c_void_p]
        lib.sf_strerror.restype, lib.sf_strerror.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        return lib
    return None


class SystemWriter:
    """A mono file being written by the system's libsndfile; write() takes float32 or int16 frames."""

    def __init__(self, lib: ctypes.CDLL, handle: int, subtype: str):
        self._lib, self._handle, self.subtype = lib, handle, subtype

    def write(self, frames: np.ndarray) -> None:
        """Append frames; OSError when the library takes fewer (a full disk, say)."""
        if frames.dtype == np.int16:
            call = self._lib.sf_writef_short
        else:
            call, frames = self._lib.sf_writef_float, frames.astype(np.float32, copy=False)
        frames = np.ascontiguousarray(frames)
        if len(frames) and call(self._handle, frames.ctypes.data, len(frames)) != len(frames):
            raise OSError(self._lib.sf_strerror(self._handle).decode("utf-8", "replace"))

    def close(self) -> None:
        """Finish the file (encoder flush, headers); safe to call more than once."""
        if self._handle:
            handle, self._handle = self._handle, None
            if self._lib.sf_close(handle) != 0:
                raise OSError(f"could not finish the file ({self._lib.sf_strerror(None).decode()})")

    def __enter__(self) -> SystemWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_writer(path: os.PathLike, rate: int, container: str, subtype: str) -> SystemWriter | None:
    """A mono writer for the format through the system's libsndfile; None when it cannot write that format."""
    code = FORMATS.get((container, subtype))
    lib = system_library() if code is not None else None
    if lib is None:
        return None
    info = _Info(0, rate, 1, code, 0, 0)
    if not lib.sf_format_check(ctypes.byref(info)):
        return None  # a libsndfile older than the format (MP3 came in 1.1.0)
    handle = lib.sf_open(os.fsencode(path), SFM_WRITE, ctypes.byref(info))
    if not handle:
        return None  # a build without that codec, say; soundfile then writes it, or names the problem
    return SystemWriter(lib, handle, subtype)
