"""coach's cache folder (speech clips, the voice list, CLDR rules) and the small files kept in it."""

from __future__ import annotations

import json
import os
from pathlib import Path


def cache_root() -> Path:
    """The user's cache folder for coach (under XDG_CACHE_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("coach"))


def keep_json(path: Path, doc: object) -> None:
    """Write doc to path as JSON, whole or not at all; a cache only saves time, so failing to write is ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass
