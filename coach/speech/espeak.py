"""espeak-ng's data folder and its voice variants, found on disk without starting the engine."""

from __future__ import annotations

import ctypes
import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from coach.speech.voices import GENDERS, Variant

VARIANTS_FOLDER = ("voices", "!v")  # inside the data folder; espeak-ng reads "+name" from here


# The names pyttsx3's espeak driver loads, in its order; the dynamic loader finds them wherever the
# system keeps its libraries, so no folder is assumed here.
ESPEAK_LIBRARIES = ("libespeak-ng.so.1", "/usr/local/lib/libespeak-ng.so.1", "libespeak.so.1")


@dataclass(frozen=True)
class EspeakInstall:
    """The espeak library pyttsx3 will load: its version and the data folder it will read (None if unknown)."""

    version: str
    data_dir: Path | None


def espeak_install() -> EspeakInstall | None:
    """Ask the installed espeak-ng library (no subprocess) where its data is; None if no library loads."""
    lib = None
    for name in ESPEAK_LIBRARIES:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        return None
    init_path = getattr(lib, "espeak_ng_InitializePath", None)  # espeak-ng only; the old espeak lacks it
    if init_path is not None:
        # Resolves the folder as espeak_Initialize will (ESPEAK_DATA_PATH, ~/espeak-ng-data, built-in),
        # without loading any data.
        init_path.argtypes, init_path.restype = [ctypes.c_char_p], None
        init_path(None)
    info = getattr(lib, "espeak_Info", None)
    if info is None:
        return EspeakInstall("", None)
    info.argtypes, info.restype = [ctypes.POINTER(ctypes.c_char_p)], ctypes.c_char_p
    data_dir = ctypes.c_char_p()
    version = info(ctypes.byref(data_dir)) or b""
    return EspeakInstall(
        version.decode("utf-8", "replace"), Path(os.fsdecode(data_dir.value)) if data_dir.value else None
    )


@functools.cache
def data_dir() -> Path | None:
    """The espeak-ng-data folder the installed espeak-ng uses, or None when there is none."""
    install = espeak_install()
    found = install.data_dir if install else None
    if found is not None and found.is_dir():
        return found
    found = _data_dir_from_program()  # only when the library does not say: it starts a process
    return found if found is not None and found.is_dir() else None


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
