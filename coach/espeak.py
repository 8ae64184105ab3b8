"""espeak-ng's data folder and its voice variants, found on disk without starting the engine."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
import subprocess
from pathlib import Path

from coach.voices import GENDERS, Variant

VARIANTS_FOLDER = ("voices", "!v")  # inside the data folder; espeak-ng reads "+name" from here


@functools.cache
def data_dir() -> Path | None:
    """The espeak-ng-data folder the installed espeak-ng uses, or None when there is none."""
    for found in (_data_dir_from_library(), _data_dir_from_program()):
        if found is not None and found.is_dir():
            return found
    return None


def _data_dir_from_library() -> Path | None:
    # The library knows where it was built to look (and honours ESPEAK_DATA_PATH): ask it, rather
    # than guessing per-architecture folders. InitializePath only works out that path; it does
    # not start synthesis or open any audio device.
    name = ctypes.util.find_library("espeak-ng")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_InitializePath.restype = None
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_ng_InitializePath(None)
        path = ctypes.c_char_p()
        lib.espeak_Info(ctypes.byref(path))
    except (OSError, AttributeError):
        return None
    return Path(path.value.decode()) if path.value else None


def _data_dir_from_program() -> Path | None:
    try:
        out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"Data at:\s*(.+)", out)
    return Path(match.group(1).strip()) if match else None


def parse_variant(variant_id: str, text: str) -> Variant:
    """A variant file's `name` and `gender` lines ("gender female 70" also gives an age; ignored)."""
    name, gender = variant_id, None
    for line in text.splitlines():
        words = line.split("//")[0].split()
        if len(words) >= 2 and words[0] == "name":
            name = " ".join(words[1:])
        elif len(words) >= 2 and words[0] == "gender" and words[1].lower() in GENDERS:
            gender = words[1].lower()
    return Variant(variant_id, name, gender)


def read_variants(folder: Path | None = None) -> list[Variant]:
    """The variants in espeak-ng's `voices/!v` folder (or `folder`), sorted by id; [] without one."""
    if folder is None:
        root = data_dir()
        if root is None:
            return []
        folder = root.joinpath(*VARIANTS_FOLDER)
    try:
        files = [p for p in folder.iterdir() if p.is_file() and "+" not in p.name]
    except OSError:
        return []
    variants = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        variants.append(parse_variant(path.name, text))
    return sorted(variants, key=lambda v: v.id.lower())
