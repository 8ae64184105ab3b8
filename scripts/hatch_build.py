"""Compiles coach's message catalogs (coach/locale/*/LC_MESSAGES/coach.po) into the wheel as .mo files."""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    """Each .po compiled with Babel into the build folder and included beside it in the package."""

    def initialize(self, version: str, build_data: dict) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root)
        out = Path(self.directory) / "mo"
        for po in sorted((root / "coach" / "locale").glob("*/LC_MESSAGES/coach.po")):
            lang = po.parent.parent.name
            with po.open("rb") as f:
                catalog = read_po(f, locale=lang, domain="coach")
            mo = out / lang / "coach.mo"
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            build_data["force_include"][str(mo)] = f"coach/locale/{lang}/LC_MESSAGES/coach.mo"
