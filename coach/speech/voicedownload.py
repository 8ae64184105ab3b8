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
from pathlib import Path
from typing import Callable

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
