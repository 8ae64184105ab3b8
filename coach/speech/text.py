"""Text as the speech engine can take it: no markup, no control characters, no word or utterance too long.

espeak-ng 1.51 overruns a fixed phoneme buffer and aborts ("stack smashing detected") on some long words:
stacked suffixes (`s's's'…` from 136 bytes in English) and stacked prefixes (`unun…` from 102 bytes in
German). Real words are far shorter, so a word over MAX_WORD_BYTES is cut into pieces. Letters spelled
out with dots (`e.g.`, `U.S.A.`) add up across the words of one sentence: 85 of them in a row abort it
(`a.a. a.a. …`, 43 CJK ones), so a text with many loses those dots and its letters are said one by one.
Through pyttsx3 a whole text of some 20 KB crashed the engine too, and long texts are slow to render in
one go, so long texts are spoken an utterance at a time.
"""

from __future__ import annotations

import re

MAX_WORD_BYTES = 64  # UTF-8 bytes; the shortest crashing word measured was 104 bytes
MAX_DOTTED_LETTERS = 20  # a fifth of the shortest crashing run measured (85 Latin letters, 43 CJK ones)
MAX_UTTERANCE_CHARS = 500  # about 30 s of speech at 160 words per minute, well inside the clip timeout

_TAG = re.compile(r"</?[A-Za-z!?][^<>]*>")  # "a < b" is not a tag: tags have no space after "<"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_DOTTED = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}(?:[^\W\d_](?!\w))?")  # e.g. U.S.A
_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")


def speakable(text: str) -> str:
    """Text as it is safe to hand to the engine: no markup, no phoneme brackets, one line, no over-long word."""
    import html  # only when something is rendered: a warm start never needs it

    text = html.unescape(text)
    text = _TAG.sub(" ", text)
    text = text.replace("[[", " ").replace("]]", " ")
    text = text.replace("<", " ").replace(">", " ")
    text = _CONTROL.sub(" ", text)
    chains = _DOTTED.findall(text)
    if sum(len(chain.replace(".", "")) for chain in chains) > MAX_DOTTED_LETTERS:
        text = _DOTTED.sub(lambda m: " " + " ".join(m.group().replace(".", "")) + " ", text)
    return " ".join(piece for word in text.split() for piece in _word_pieces(word))


def _word_pieces(word: str) -> list[str]:
    """A word cut into pieces of at most MAX_WORD_BYTES, each after punctuation where there is some."""
    if len(word.encode("utf-8")) <= MAX_WORD_BYTES:
        return [word]
    pieces = []
    while len(word.encode("utf-8")) > MAX_WORD_BYTES:
        cut = _fit(word)
        punctuation = max((i + 1 for i, c in enumerate(word[:cut]) if not c.isalnum()), default=0)
        if punctuation > cut // 2:
            cut = punctuation
        pieces.append(word[:cut])
        word = word[cut:]
    return pieces + ([word] if word else [])


def _fit(word: str) -> int:
    """How many leading characters of word fit in MAX_WORD_BYTES."""
    size = 0
    for i, c in enumerate(word):
        size += len(c.encode("utf-8"))
        if size > MAX_WORD_BYTES:
            return max(1, i)
    return len(word)


def utterances(text: str, max_chars: int = MAX_UTTERANCE_CHARS) -> list[str]:
    """Speakable text in utterances of at most max_chars, split between sentences, else clauses, else words."""
    if len(text) <= max_chars:
        return [text] if text else []
    found: list[str] = []
    for pattern in (_SENTENCE_END, _CLAUSE_END, re.compile(r"\s+")):
        parts = pattern.split(text)
        if len(parts) > 1:
            break
    current = ""
    for part in parts:
        if len(part) > max_chars:
            if current:
                found.append(current)
                current = ""
            found += utterances(part, max_chars)
        elif current and len(current) + 1 + len(part) > max_chars:
            found.append(current)
            current = part
        else:
            current = f"{current} {part}" if current else part
    return found + ([current] if current else [])
