"""Piper voice files in the user's voices folder: what is installed, checking a voice, adding and removing one."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coach.errors import CoachError, InputError, OptionError
from coach.files import open_regular_file, read_regular_file
from coach.speech.voices import Voice
from coach.i18n import N_, _
from coach.terminal import os_reason

PIPER_INSTALL_HINT = N_("install Piper with: pip install 'coach[piper]' (from coach's folder: .venv/bin/pip install -e "
                        "'.[piper]')")  # shown through _()
MODEL_SUFFIX = ".onnx"
CONFIG_SUFFIX = ".onnx.json"
CARD_SUFFIX = ".MODEL_CARD"  # kept beside the model; Piper's catalogue calls it MODEL_CARD in the voice's folder
SAMPLE_RATES_HZ = (16000, 22050, 24000, 44100, 48000)
MAX_CONFIG_BYTES = 1_000_000  # Piper's configs are tens of kB (a phoneme map, a few hundred speakers at most)
MAX_CARD_BYTES = 1_000_000  # a model card is a page of text
MAX_MODEL_BYTES = 1_000_000_000  # onnxruntime holds the whole model in memory; Piper's are a few tens of MB
PIPER_INPUTS = ("input", "input_lengths", "scales")
_LICENSE = re.compile(r"^\s*[*-]?\s*licen[cs]e\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def voices_folder() -> Path:
    """Where added and downloaded Piper voices live (the user's data folder, then `voices`)."""
    from platformdirs import user_data_dir  # an edge dependency, only needed here

    return Path(user_data_dir("coach")) / "voices"


def piper_available() -> bool:
    """Whether piper-tts (and its onnxruntime) can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("piper", "onnxruntime"))


def language_code(piper_code: str) -> str:
    """Piper's "en_US" as coach writes language codes: "en-us"."""
    return piper_code.strip().lower().replace("_", "-")


@dataclass(frozen=True)
class PiperVoiceFile:
    """An installed (or about to be) Piper voice: NAME.onnx beside NAME.onnx.json."""

    name: str
    model: Path
    language: str  # "en-us"
    quality: str | None
    sample_rate_hz: int
    size_bytes: int
    licence: str | None

    @property
    def config(self) -> Path:
        """The voice's .onnx.json."""
        return self.model.with_name(self.model.name + ".json")

    @staticmethod
    def from_model(model: Path, card: Path | None = None) -> PiperVoiceFile:
        """The voice whose model is `model`; InputError naming the file when its config is not usable."""
        config = check_config(model.with_name(model.name + ".json"))
        card = card if card is not None else model.with_name(model.name[: -len(MODEL_SUFFIX)] + CARD_SUFFIX)
        language = config.get("language", {}).get("code") if isinstance(config.get("language"), dict) else None
        quality = config["audio"].get("quality")
        return PiperVoiceFile(
            name=model.name[: -len(MODEL_SUFFIX)],
            model=model,
            language=language_code(language or config["espeak"]["voice"]),
            quality=str(quality) if quality else None,
            sample_rate_hz=int(config["audio"]["sample_rate"]),
            size_bytes=model.stat().st_size,
            licence=read_licence(card),
        )

    def voice(self) -> Voice:
        """The voice as coach chooses among voices; its id is its name."""
        return Voice(id=self.name, name=self.name, languages=(self.language,), gender=None)


def read_card(card: Path) -> str | None:
    """A model card's text; None when there is none; InputError naming it when it is not a small regular file."""
    if not os.path.lexists(card):
        return None
    return read_regular_file(card, MAX_CARD_BYTES, N_("a model card")).decode("utf-8", errors="replace")


def read_licence(card: Path) -> str | None:
    """The licence line of a model card, if there is one (and the card can be read)."""
    try:
        text = read_card(card)
    except InputError:
        return None
    found = _LICENSE.search(text) if text is not None else None
    return " ".join(found.group(1).split())[:60] if found else None


def installed_piper_voices(folder: Path | None = None) -> list[PiperVoiceFile]:
    """The complete, readable voices in the voices folder, by name."""
    folder = folder if folder is not None else voices_folder()
    found = []
    try:
        models = sorted(folder.glob("*" + MODEL_SUFFIX))
    except OSError:
        return []
    for model in models:
        try:
            found.append(PiperVoiceFile.from_model(model))
        except (InputError, OSError):
            continue  # a half-removed or damaged voice is not offered
    return found


# --- checking ------------------------------------------------------------------------------------


def _bad(path: Path, reason: str) -> InputError:
    return InputError(f"{path}: {reason}")


def check_config(path: Path) -> dict:
    """A voice's .onnx.json as a dict, else InputError naming it and what is wrong."""
    if not os.path.lexists(path):
        raise _bad(path, _("is missing; a Piper voice is NAME.onnx with NAME.onnx.json beside it"))
    raw = read_regular_file(path, MAX_CONFIG_BYTES, N_("a Piper voice config"))
    try:
        config = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _bad(path, _("is not UTF-8 text")) from None
    except ValueError as exc:
        raise _bad(path, _("is not valid JSON (line {line})").format(line=exc.lineno) if hasattr(exc, "lineno")
                   else _("is not valid JSON")) from None
    except RecursionError:
        raise _bad(path, _("is nested too deeply to be a Piper voice config")) from None
    if not isinstance(config, dict):
        raise _bad(path, _("is not a Piper voice config (not a JSON object)"))
    audio, espeak = config.get("audio"), config.get("espeak")
    if not isinstance(audio, dict) or not isinstance(audio.get("sample_rate"), int):
        raise _bad(path, _("has no audio.sample_rate; it is not a Piper voice config"))
    if audio["sample_rate"] not in SAMPLE_RATES_HZ:
        raise _bad(path, _("sample rate {rate} Hz is not one of {names}").format(rate=audio['sample_rate'], names=', '.join(str(r) for r in SAMPLE_RATES_HZ)))
    if not isinstance(espeak, dict) or not isinstance(espeak.get("voice"), str):
        raise _bad(path, _("has no espeak.voice; it is not a Piper voice config"))
    if not isinstance(config.get("phoneme_id_map"), dict) or not config["phoneme_id_map"]:
        raise _bad(path, _("has no phoneme_id_map; it is not a Piper voice config"))
    for key in ("num_symbols", "num_speakers"):
        if not isinstance(config.get(key), int):
            raise _bad(path, _("has no whole number {key}; it is not a Piper voice config").format(key=key))
    return config


def check_model(model: Path, config: dict) -> None:
    """InputError naming the model unless onnxruntime loads it and it takes Piper's inputs."""
    if not piper_available():
        raise _bad(model, _("cannot be checked without piper-tts; {hint}").format(hint=_(PIPER_INSTALL_HINT)))
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # its own complaints about a bad file would be a second, noisy line
    options.intra_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception:
        raise _bad(model, _("is not a usable ONNX model (truncated, damaged or not ONNX at all)")) from None
    inputs = {i.name for i in session.get_inputs()}
    wanted = set(PIPER_INPUTS) | ({"sid"} if config["num_speakers"] > 1 else set())
    if not wanted <= inputs or not session.get_outputs():
        missing = ", ".join(sorted(wanted - inputs)) or _("an output")
        raise _bad(model, _("is not a Piper voice model: it lacks {missing}").format(missing=missing))


def check_voice(model: Path) -> PiperVoiceFile:
    """A voice file pair that is complete and usable, else InputError naming the bad file."""
    if not model.name.endswith(MODEL_SUFFIX) or model.name == MODEL_SUFFIX:
        raise _bad(model, _("is not a Piper voice: its name must end in {suffix}").format(suffix=MODEL_SUFFIX))
    if not model.exists():
        raise _bad(model, _("does not exist"))
    open_regular_file(model, N_("a Piper voice model")).close()  # a FIFO or a device is refused, never opened
    if model.stat().st_size > MAX_MODEL_BYTES:
        raise _bad(model, _("is over {size} GB, too big for a Piper voice model").format(size=MAX_MODEL_BYTES // 10**9))
    for card in _cards(model):
        read_card(card)  # a FIFO, a device or a huge file beside the model is named, never read
    found = PiperVoiceFile.from_model(model, card=model.parent / "MODEL_CARD")
    check_model(model, check_config(found.config))
    return found


# --- adding and removing -------------------------------------------------------------------------


def _cards(model: Path) -> list[Path]:
    """Where a voice's model card may be: MODEL_CARD in its folder (Piper's catalogue), then NAME.MODEL_CARD."""
    return [model.parent / "MODEL_CARD", model.with_name(model.name[: -len(MODEL_SUFFIX)] + CARD_SUFFIX)]


def _copy_in(source: Path, target: Path) -> Path:
    """A copy of source under a temporary name beside target (renamed into place by the caller)."""
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, open_regular_file(source, N_("a Piper voice file")) as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return Path(temporary)


def add_voice(model: Path, folder: Path | None = None) -> PiperVoiceFile:
    """Check a voice and copy it (model, config, model card if any) into the voices folder, whole or not at all."""
    found = check_voice(model)
    folder = folder if folder is not None else voices_folder()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / model.name
    pairs = [(found.config, target.with_name(target.name + ".json"))]
    card = next((c for c in _cards(model) if c.is_file()), None)
    if card is not None:
        pairs.append((card, folder / (found.name + CARD_SUFFIX)))
    pairs.append((model, target))  # the model last: a voice is listed only once its .onnx is there
    copies: list[tuple[Path, Path]] = []
    try:
        for source, final in pairs:
            try:
                copies.append((_copy_in(source, final), final))
            except OSError as exc:  # a full disk above all: one line naming the file, nothing left behind
                raise CoachError(_("{path}: cannot copy {source} there: {reason}").format(
                    path=final, source=source, reason=os_reason(exc))) from None
        for temporary, final in copies:
            os.replace(temporary, final)
    finally:
        for temporary, _final in copies:
            if temporary.exists():
                temporary.unlink()
    return PiperVoiceFile.from_model(target)


def find_installed(query: str, voices: list[PiperVoiceFile]) -> PiperVoiceFile | None:
    """The Piper voice named `query` exactly or by a unique part (any case); None if none; InputError if several."""
    q = query.strip().lower()
    exact = [v for v in voices if v.name.lower() == q]
    if exact:
        return exact[0]
    partial = [v for v in voices if q and q in v.name.lower()]
    if len(partial) > 1:
        raise OptionError("--voice", _("{query} matches several Piper voices: {names}").format(query=repr(query), names=', '.join(v.name for v in partial)))
    return partial[0] if partial else None


def remove_voice(name: str, folder: Path | None = None) -> PiperVoiceFile:
    """Remove an installed Piper voice (by name or unique part); InputError if none matches."""
    folder = folder if folder is not None else voices_folder()
    found = find_installed(name, installed_piper_voices(folder))
    if found is None:
        raise OptionError("NAME", _("no installed Piper voice matches {name}; `coach voices` lists them").format(name=repr(name)))
    for path in (found.model, found.config, folder / (found.name + CARD_SUFFIX)):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    return found
