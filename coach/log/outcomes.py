"""How a logged session's outcome is shown: in the user's language (the log and --json keep the English)."""

from __future__ import annotations

from coach.i18n import N_, _

OUTCOME_WORDS = {"finished": N_("finished"), "stopped": N_("stopped"), "interrupted": N_("interrupted"),
                 "partial": N_("partial")}


def outcome_text(outcome: str) -> str:
    """An outcome from the log in the user's language."""
    return _(OUTCOME_WORDS[outcome]) if outcome in OUTCOME_WORDS else outcome
