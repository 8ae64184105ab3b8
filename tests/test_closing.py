"""A live session's close names what was skipped: re-planned in the background, switched to in a silence."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from coach.cli.closing import SkippedClose, switch_point_s
from coach.live.player import run_session
from coach.plan.model import Cue, CueKind
from coach.audio.pcm import to_pcm16
from coach.plan.settings import Settings, estimate_clip_duration
from coach.plan.planner import plan
from coach.live.progress import Progress
from coach.routine import load_routine
from coach.audio.sounds import builtin_sound_durations_s
from test_live import FakeClock, FakeOutput, ScriptedKeys, make_mixer, make_plan, tone


def test_a_close_for_skipped_exercises_names_them_and_keeps_everything_before_it():
    routine = load_routine("back-pain-feet")
    settings = Settings(sound_s=builtin_sound_durations_s())
    whole = plan(routine, settings, estimate_clip_duration(160))
    skipped = plan(routine, dataclasses.replace(settings, skipped=("Ankle circles",),
                                                intro_minutes=whole.intro_minutes), estimate_clip_duration(160))
    said = [c.text for c in skipped.cues if c.text]
    assert "You did four of five exercises and skipped Ankle circles. Well done!" in said
    assert "That's the whole routine: all five exercises. Well done!" not in said
    at_s = switch_point_s(whole, skipped)
    assert at_s is not None and at_s > whole.exercises[-1].end_s - 1e-9
    assert [c for c in whole.cues if c.at_s < at_s] == [c for c in skipped.cues if c.at_s < at_s]
    assert not any(c.at_s <= at_s < c.end_s for c in whole.cues + skipped.cues)  # in a silence


def with_last_cue(plan_, sounds, hz):
    """The plan with its last cue sounding another tone: a different close."""
    cues = list(plan_.cues)
    sounds = dict(sounds, other=tone(hz))
    cues[-1] = Cue(cues[-1].at_s, cues[-1].duration_s, CueKind.SOUND, sound="other")
    return dataclasses.replace(plan_, cues=tuple(cues)), sounds


def new_mixer(plan_, sounds, lift_db):
    """A new close keeps the session's level (as coach.cli.closing has it do), so its audio does not move."""
    from coach.audio.mixer import Mixer

    return Mixer(plan_, speech={}, sounds=sounds, lift_db=lift_db)


def play_offering_a_new_close(offer_at_s):
    """Plays the compact plan and offers, once, a new close from the switch point when the session
    reaches offer_at_s. Returns the new close's plan and sounds, the switch point and what was played."""
    old, sounds = make_plan()
    new, new_sounds = with_last_cue(old, sounds, 3000.0)
    at_s = switch_point_s(old, new)
    clock = FakeClock(100.0)
    output = FakeOutput(clock)
    offered = []

    def updates():
        if not offered and clock.now() >= 100.0 + offer_at_s(at_s):
            offered.append(clock.now())
            return new, new_mixer(new, new_sounds, mixer.lift_db), at_s
        return None

    mixer = make_mixer(old, sounds)
    result = run_session(old, mixer, output=output, clock=clock, keys=ScriptedKeys(clock, []),
                         lead_in_s=0.0, updates=updates)
    assert result.finished and offered
    return (old, sounds), (new, new_sounds), at_s, output.played


def test_playback_switches_to_the_new_close_at_the_switch_point():
    _, (new, new_sounds), at_s, played = play_offering_a_new_close(lambda at_s: 5.0)
    first, second = played
    assert first.stopped_at is not None and first.stopped_at >= 100.0 + at_s - 1e-6  # at the switch, not before
    heard = np.concatenate([first.frames[:round(at_s * 22050)], second.frames])
    lift_db = make_mixer(make_plan()[0], make_plan()[1]).lift_db
    assert np.array_equal(heard, to_pcm16(new_mixer(new, new_sounds, lift_db).render(0, new.duration_samples)))


def test_too_late_to_switch_keeps_playing_the_old_close():
    (old, sounds), _, _, played = play_offering_a_new_close(lambda at_s: at_s - 0.1)
    assert len(played) == 1
    assert np.array_equal(played[0].frames, to_pcm16(make_mixer(old, sounds).render(0, old.duration_samples)))


class Held:
    """Stands in for a Session: a plan and how to mix it."""

    def __init__(self, plan_, sounds):
        self.plan, self.sounds = plan_, sounds

    def mixer(self):
        return make_mixer(self.plan, self.sounds)


def test_skipping_asks_for_a_new_close_once_and_offers_it_when_ready():
    old, sounds = make_plan()
    new, new_sounds = with_last_cue(old, sounds, 3000.0)
    progress = Progress(old, lambda: None)
    asked = []

    def rebuild(session, names):
        asked.append(names)
        return Held(new, new_sounds)

    closing = SkippedClose(Held(old, sounds), progress, rebuild)
    assert closing() is None and asked == []  # nothing skipped yet
    progress.skipped_positions.add(1)
    assert closing() is None
    deadline = time.monotonic() + 5
    offered = None
    while offered is None and time.monotonic() < deadline:
        offered = closing()
        time.sleep(0.01)
    assert asked == [("bridge",)]
    plan_, mixer, from_s = offered
    assert plan_ is new and from_s == switch_point_s(old, new)
    assert closing() is None and asked == [("bridge",)]  # the same skips are not asked for again


def test_a_real_session_rebuilds_its_close_with_real_speech(short_routine):
    from coach.cli.closing import rebuild_close
    from coach.routine import load_routine_file
    from coach.session import SessionOptions, build_session

    session = build_session(load_routine_file(short_routine), SessionOptions(rate_wpm=300))
    rebuilt = rebuild_close(session, ("Press",))
    said = [c.text for c in rebuilt.plan.cues if c.text]
    assert "You did one of two exercises and skipped Press. Well done!" in said
    at_s = switch_point_s(session.plan, rebuilt.plan)
    assert at_s is not None and at_s > session.plan.exercises[-1].end_s - 1e-9
    # the new sentence was rendered with the session's own voice, and everything else is the same audio
    assert rebuilt.voice == session.voice
    before = round(at_s * 22050)
    assert np.array_equal(rebuilt.mixer().render(0, before), session.mixer().render(0, before))
