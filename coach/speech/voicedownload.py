"""Fetching a voice from Piper's public catalogue (rhasspy/piper-voices): voices.json, then the voice's files.

Only `coach voices download` uses this; a session never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from coach.errors import CoachError, OptionError
from coach.speech.voicefiles import CARD_SUFFIX, PiperVoiceFile, add_voice, voices_folder
from coach.i18n import _

CATALOGUE_URL = "https://huggingface.co/rhasspy/piper-voices/resolve/main/"
CATALOGUE_ENV = "COACH_PIPER_VOICES_URL"  # another copy of the catalogue (a mirror, or a test server)
TIMEOUT_S = 30.0
BLOCK_BYTES = 1 << 16


MAX_CATALOGUE_BYTES = 20_000_000  # far above Piper's own voices.json; a bound on what is held in memory


class DownloadError(CoachError):
    """The catalogue or a voice file could not be fetched, or it did not match its checksum."""


def catalogue_url() -> str:
    """The base address of the catalogue, ending in '/'."""
    base = os.environ.get(CATALOGUE_ENV) or CATALOGUE_URL
    return base if base.endswith("/") else base + "/"


def _open(url: str):
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT_S)  # noqa: S310 (https or a configured mirror)
    except urllib.error.HTTPError as exc:
        raise DownloadError(_("{url}: the server answered {code} {reason}").format(url=url, code=exc.code, reason=exc.reason)) from None
    except (urllib.error.URLError, socket.timeout, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        host = urllib.parse.urlsplit(url).netloc
        raise DownloadError(_("could not reach {host} to download voices ({reason}); check the network connection and try again").format(host=host, reason=reason)) from None


def read_catalogue() -> dict:
    """Piper's voices.json: voice key -> {language, quality, files: {path: {size_bytes, md5_digest}}}."""
    url = catalogue_url() + "voices.json"
    with _open(url) as answer:
        try:
            raw = answer.read(MAX_CATALOGUE_BYTES + 1)
            if len(raw) > MAX_CATALOGUE_BYTES:
                raise DownloadError(_("{url}: is over {size} MB, too big for a voice catalogue").format(
                    url=url, size=MAX_CATALOGUE_BYTES // 10**6))
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            raise DownloadError(_("{url}: is not a voice catalogue (not JSON, or nested too deeply)").format(
                url=url)) from None
        except OSError as exc:
            raise DownloadError(_("{url}: the download broke off ({reason})").format(url=url, reason=exc)) from None
    if not isinstance(doc, dict):
        raise DownloadError(_("{url}: is not a voice catalogue").format(url=url))
    return doc


def find_in_catalogue(catalogue: dict, name: str) -> tuple[str, dict]:
    """The catalogue entry for a voice key, an alias, or a unique part of a key; OptionError if none or several."""
    q = name.strip().lower()
    for key, entry in catalogue.items():
        aliases = entry.get("aliases", []) if isinstance(entry, dict) else []
        if key.lower() == q or q in (str(a).lower() for a in aliases):
            return key, entry
    partial = [key for key in catalogue if q and q in key.lower()]
    if len(partial) == 1:
        return partial[0], catalogue[partial[0]]
    if partial:
        shown = ", ".join(sorted(partial)[:6]) + (", ..." if len(partial) > 6 else "")
        raise OptionError("NAME", _("{name} matches several voices in Piper's catalogue: {shown}").format(name=repr(name), shown=shown))
    raise OptionError("NAME", _("Piper's catalogue has no voice {name} (names look like en_US-lessac-medium)").format(name=repr(name)))


def _fetch(url: str, target: Path, expected: dict, progress: Callable[[int], None]) -> None:
    """Download url into target, checking its size and MD5 (and SHA-256 when the catalogue has one)."""
    md5, sha = hashlib.md5(), hashlib.sha256()
    with _open(url) as answer, open(target, "wb") as out:
        while True:
            try:
                block = answer.read(BLOCK_BYTES)
            except OSError as exc:  # the connection broke off or stalled
                raise DownloadError(_("{url}: the download broke off ({reason}); nothing was installed").format(
                    url=url, reason=exc)) from None
            if not block:
                break
            try:
                out.write(block)
            except OSError as exc:  # a full disk above all; the caller removes what was written
                raise CoachError(_("{folder}: cannot save {url} there: {reason}; nothing was installed").format(
                    folder=target.parent.parent, url=url, reason=(exc.strerror or str(exc)).lower())) from None
            md5.update(block)
            sha.update(block)
            progress(len(block))
    size = target.stat().st_size
    if isinstance(expected.get("size_bytes"), int) and size != expected["size_bytes"]:
        raise DownloadError(_("{url}: got {size} bytes instead of {expected}; nothing was installed").format(
            url=url, size=size, expected=expected["size_bytes"]))
    for field, digest in (("md5_digest", md5), ("sha256_digest", sha)):
        if expected.get(field) and expected[field].lower() != digest.hexdigest():
            raise DownloadError(_("{url}: the download does not match its checksum; nothing was installed").format(url=url))


def download_voice(name: str, folder: Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> PiperVoiceFile:
    """Fetch a voice (model, config, model card) by name, check it, and add it to the voices folder."""
    key, entry = find_in_catalogue(read_catalogue(), name)
    files = entry.get("files") if isinstance(entry, dict) else None
    if not isinstance(files, dict):
        raise DownloadError(_("Piper's catalogue lists no files for {key}").format(key=key))
    wanted = {}
    for path, expected in files.items():
        base = path.rsplit("/", 1)[-1]
        for suffix in (".onnx", ".onnx.json"):
            if base == key + suffix:
                wanted[key + suffix] = (path, expected)
        if base == "MODEL_CARD":
            wanted[key + CARD_SUFFIX] = (path, expected)
    if key + ".onnx" not in wanted or key + ".onnx.json" not in wanted:
        raise DownloadError(_("Piper's catalogue lists no model or no config for {key}").format(key=key))
    total = sum(int(e.get("size_bytes") or 0) for _name, e in wanted.values())
    done = [0]

    def step(count: int) -> None:
        done[0] += count
        if progress is not None:
            progress(done[0], total)

    folder = folder if folder is not None else voices_folder()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
    try:
        for local, (path, expected) in wanted.items():
            url = catalogue_url() + urllib.parse.quote(path)
            _fetch(url, staging / ("MODEL_CARD" if local.endswith(CARD_SUFFIX) else local), expected, step)
        return add_voice(staging / (key + ".onnx"), folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- the voice a newcomer gets -------------------------------------------------------------------


@dataclass(frozen=True)
class DefaultVoice:
    """The voice `coach voices download` fetches for a language when no name is given, and why."""

    key: str  # in Piper's catalogue
    licence: str  # as its model card states it
    why: str


# One per language coach coaches in: the best-sounding voice whose model card lets anyone use what it
# says (public domain, CC0, CC-BY), not research-only or non-commercial, and not fine-tuned from a voice
# that is (many Piper voices are fine-tuned from en_US-lessac, whose recordings are research-only).
DEFAULT_VOICES = {
    "en": DefaultVoice("en_US-ljspeech-medium", "public domain (LJ Speech)",
                       "trained from scratch on public-domain recordings; lessac is research-only, joe is "
                       "fine-tuned from it, ryan and hfc_female are non-commercial"),
    "fr": DefaultVoice("fr_FR-mls-medium", "CC-BY 4.0 (Multilingual LibriSpeech)",
                       "trained from scratch; siwis and upmc are fine-tuned from lessac, gilles from ryan "
                       "(non-commercial)"),
    "de": DefaultVoice("de_DE-mls-medium", "CC-BY 4.0 (Multilingual LibriSpeech)",
                       "trained from scratch; thorsten's recordings are CC0 but its models are fine-tuned "
                       "from lessac, pavoque is non-commercial"),
    "es": DefaultVoice("es_ES-carlfm-x_low", "public domain",
                       "trained from scratch; davefx, sharvard and ald are fine-tuned from lessac; claude-high's "
                       "card names no training origin"),
}
PROBE_TIMEOUT_S = 3.0  # how long `voices download --first-run` waits for the catalogue before going on


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """The user's language as gettext reads it from the locale (coach.i18n), "en" when none is useful."""
    from coach.i18n import locale_language as from_locale

    return from_locale(environ) or "en"


def default_voice(language: str) -> DefaultVoice:
    """The default voice for a language code ("fr", "fr-ca"); OptionError for a language without one."""
    code = language.strip().lower().replace("_", "-").split("-")[0]
    if code not in DEFAULT_VOICES:
        raise OptionError("--language", _("coach has no default natural voice for {language}; choose one of: "
                                          "{languages}, or name a voice").format(language=repr(language),
                                                                                 languages=", ".join(DEFAULT_VOICES)))
    return DEFAULT_VOICES[code]


def catalogue_reachable(timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether the catalogue answers within timeout_s (a quick look before a first-run download)."""
    try:
        with urllib.request.urlopen(catalogue_url() + "voices.json", timeout=timeout_s):  # noqa: S310
            return True
    except (urllib.error.URLError, socket.timeout, OSError, ValueError):
        return False
