"""Exports start as live playback does: with a short lead-in of silence before the first sound."""

from __future__ import annotations

from dataclasses import replace

from coach.plan.model import Plan

# The same as coach.live.player.LEAD_IN_S (a test holds them together): a Bluetooth speaker that sleeps
# on digital silence wakes on the file's first samples, and would swallow a word that starts there.
LEAD_IN_S = 0.3


def with_lead_in(plan: Plan, lead_in_s: float = LEAD_IN_S) -> Plan:
    """The plan with lead_in_s of silence first: every step, cue, chapter and exercise that much later."""
    if lead_in_s <= 0:
        return plan
    later = lead_in_s
    steps = tuple(replace(s, start_s=s.start_s + later, end_s=s.end_s + later) for s in plan.steps)
    # the introduction's step and chapter take in the lead-in, so the file's timeline has no gap
    if steps and plan.steps[0].start_s == 0.0:
        steps = (replace(steps[0], start_s=0.0),) + steps[1:]
    chapters = tuple(replace(c, start_s=0.0 if c.start_s == 0.0 else c.start_s + later) for c in plan.chapters)
    return replace(plan, duration_s=plan.duration_s + later, steps=steps,
                   cues=tuple(replace(c, at_s=c.at_s + later) for c in plan.cues), chapters=chapters,
                   exercises=tuple(replace(e, start_s=e.start_s + later, end_s=e.end_s + later)
                                   for e in plan.exercises),
                   dropped=tuple(replace(c, at_s=c.at_s + later) for c in plan.dropped))
