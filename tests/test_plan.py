"""The planner: exact doses, no overlaps, priorities, determinism, over generated routines and rates."""

import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from coach.model import SAMPLE_RATE, CueKind, StepKind
from coach.plan import Settings, estimate_clip_duration, plan
from coach.routine import Exercise, Routine, builtin_names, load_routine
from coach.sounds import builtin_sound_durations_s

RATE = SAMPLE_RATE
SOUND_S = builtin_sound_durations_s()


def frames(seconds: float) -> int:
    return round(seconds * RATE)


def fake_voice(rate_wpm: int):
    """Clip lengths like a voice at `rate_wpm`, varied per text so lengths are not all alike."""

    def duration(text: str) -> float:
        words = len(text.split())
        return (words * 60 / rate_wpm) + 0.05 + (sum(map(ord, text)) % 7) / 100

    return duration


def check_invariants(p, routine):
    # steps tile the session
    assert p.steps[0].start_s == 0
    for a, b in zip(p.steps, p.steps[1:]):
        assert a.end_s == b.start_s
    assert p.steps[-1].end_s == p.duration_s
    # doses are exact to the sample
    by_name = {ex.name: ex for ex in routine.exercises}
    for step in p.steps:
        length = frames(step.end_s) - frames(step.start_s)
        if step.kind in ("hold", "work"):
            assert length == by_name[step.exercise].dose_s * RATE
        if step.kind == "rest":
            ex = by_name[step.exercise]
            allowed = {frames(ex.rest_s), frames(ex.set_rest_s), frames(routine.exercise_rest_s)}
            assert length in allowed
    # every rep is there
    expected = sum(max(1, len(ex.sides)) * ex.sets * ex.reps for ex in routine.exercises)
    assert sum(s.kind in ("hold", "work") for s in p.steps) == expected
    # cues: in order, never overlapping, inside the plan
    ends = 0
    for cue in p.cues:
        start = frames(cue.at_s)
        assert start >= ends, f"overlap at {cue.at_s}: {cue}"
        ends = start + math.ceil(cue.duration_s * RATE - 1e-6)
    assert ends <= p.duration_samples
    assert len(p.chapters) == len(routine.exercises) + 2


def cue_at(p, seconds):
    return [c for c in p.cues if frames(c.at_s) == frames(seconds)]


exercise_st = st.builds(
    Exercise,
    name=st.sampled_from(["Toe presses", "Heel raises", "A very long exercise name for testing"]),
    instructions=st.sampled_from(["Stand.", "Lie on your back and lift one leg towards the ceiling, slowly."]),
    setup_s=st.sampled_from([0.5, 1.0, 3.0, 5.0, 12.5]),
    sides=st.sampled_from([(), ("left foot", "right foot"), ("one side",)]),
    reps=st.integers(1, 4),
    hold_s=st.none(),
    work_s=st.none(),
    rest_s=st.sampled_from([1.0, 1.5, 2.0, 4.0, 15.0]),
    rest_given=st.booleans(),
    sets=st.integers(1, 2),
    set_rest_s=st.sampled_from([1.0, 10.0, 30.0]),
    tips=st.sampled_from([(), ("Breathe.",), ("Keep your heels down and your back straight.", "Relax.")]),
).flatmap(
    lambda ex: st.tuples(st.booleans(), st.sampled_from([1, 2, 3, 5, 10, 11, 25])).map(
        lambda kd: ex.__class__(**{**ex.__dict__, ("hold_s" if kd[0] else "work_s"): kd[1]})
    )
)

routine_st = st.builds(
    Routine,
    id=st.just("generated"),
    title=st.sampled_from(["Quick", "A routine with a long title for the introduction"]),
    summary=st.none() | st.just("A short summary."),
    language=st.just("en"),
    equipment=st.sampled_from([(), ("a pencil",), ("a towel", "a band")]),
    caution=st.none() | st.just("Stop if anything hurts."),
    frequency=st.none() | st.just(("day", 2, 2)),
    exercise_rest_s=st.sampled_from([1.0, 5.0, 10.0]),
    exercises=st.lists(exercise_st, min_size=1, max_size=3).map(
        lambda exs: tuple(ex.__class__(**{**ex.__dict__, "name": f"{ex.name} {i}"}) for i, ex in enumerate(exs))),
    path=st.just("<generated>"),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routine=routine_st, rate_wpm=st.integers(80, 400), speech=st.booleans())
def test_invariants_hold_for_generated_routines(routine, rate_wpm, speech):
    s = Settings(sound_s=SOUND_S, speech=speech)
    p = plan(routine, s, fake_voice(rate_wpm))
    check_invariants(p, routine)
    # deterministic
    assert plan(routine, s, fake_voice(rate_wpm)) == p
    for step in p.steps:
        if step.kind in ("hold", "work"):
            # the start cue sits on the first sample, the stop cue on the sample after the last
            assert cue_at(p, step.start_s), f"no start cue at {step.start_s}"
            assert cue_at(p, step.end_s), f"no stop cue at {step.end_s}"
            dose = round(step.end_s - step.start_s)
            if speech and dose >= 2:
                # the last count, "1", falls in the final second of the dose
                assert [c.text for c in cue_at(p, step.end_s - 1)] == ["1"]
        if step.kind == "prepare" and speech:
            assert [c.text for c in cue_at(p, step.start_s)] == ["Get ready."]
    # everything said in a talk step finishes inside it
    for step in p.steps:
        if step.kind in ("announce", "intro"):
            for cue in p.cues:
                if step.start_s <= cue.at_s < step.end_s:
                    assert cue.end_s <= step.end_s + 1e-9


@settings(max_examples=40, deadline=None)
@given(rate_wpm=st.integers(80, 400))
def test_builtin_routines_keep_their_invariants_at_any_rate(rate_wpm):
    for name in builtin_names():
        routine = load_routine(name)
        check_invariants(plan(routine, Settings(sound_s=SOUND_S), fake_voice(rate_wpm)), routine)


def test_counts_fall_on_whole_seconds_of_a_hold():
    routine = load_routine("back-pain-feet")
    p = plan(routine, Settings(sound_s=SOUND_S), fake_voice(160))
    hold = next(s for s in p.steps if s.exercise == "Resisted flexion" and s.kind == "hold")
    inside = [c for c in p.cues if hold.start_s <= c.at_s < hold.end_s]
    assert [(round(c.at_s - hold.start_s, 6), c.text) for c in inside] == [
        (0, "Hold."), (1, "4"), (2, "3"), (3, "2"), (4, "1")]
    assert [c.text for c in cue_at(p, hold.end_s)] == ["Release."]


def test_rests_beep_pip_and_announce_what_comes_next():
    routine = load_routine("back-pain-feet")
    p = plan(routine, Settings(sound_s=SOUND_S), fake_voice(160))
    rest = next(s for s in p.steps if s.exercise == "Toe walking" and s.kind == "rest")
    inside = [c for c in p.cues if rest.start_s <= c.at_s < rest.end_s]
    said = [c.text or f"[{c.sound}]" for c in inside]
    assert said[:3] == ["Stop.", "[rest]", "Next: round 2 of 5."]
    assert said[-3:] == ["[pip]", "[pip]", "[pip]"]
    assert [round(rest.end_s - c.at_s, 6) for c in inside[-3:]] == [3, 2, 1]
    between = [s for s in p.steps if s.kind == "rest" and s.exercise == "Toe walking" and s.rep == 5]
    assert any(c.text == "Next: Ankle circles." for c in p.cues if between[0].start_s <= c.at_s < between[0].end_s)


def test_speech_that_does_not_fit_is_dropped_by_priority_never_cut():
    routine = load_routine("back-pain-feet")
    slow = plan(routine, Settings(sound_s=SOUND_S), fake_voice(80))
    fast = plan(routine, Settings(sound_s=SOUND_S), fake_voice(400))
    # at a slow rate, more rep numbers and tips are dropped, but every count and start/stop cue stays
    assert len(slow.dropped) >= len(fast.dropped)
    for p in (slow, fast):
        kept = [c.text for c in p.cues]
        assert kept.count("Hold.") == kept.count("Release.") == 10 + 10 + 5 * 2
        for c in p.dropped:
            assert c.text is None or c.text.startswith("Next") or c.text in sum(
                (list(e.tips) for e in routine.exercises), []) or c.sound is not None


def test_session_script_covers_the_start_sides_and_close():
    routine = load_routine("back-pain-feet")
    p = plan(routine, Settings(sound_s=SOUND_S), estimate_clip_duration(160))
    said = [c.text for c in p.cues if c.text]
    assert said[0] == "Feet first: five foot exercises."
    assert any(t.startswith("This session takes about") and t.endswith("minutes.") for t in said[:4])
    assert any(t.startswith("You will need a pencil") for t in said)
    assert routine.caution in said
    assert "Exercise 2 of 5: Toe walking." in said
    assert "Now the left foot." in said
    assert said[-4] == "That's the whole routine. Well done!"
    assert said[-3].startswith("You have been going for ")
    assert said[-2] == "Aim to do this routine 2 to 3 times a week."
    assert p.cues[-1].sound == "end"
    minutes = int(said[2].split("about ")[1].split()[0])
    assert minutes == round(p.duration_s / 60)


def test_done_when_doses_of_the_default_routine():
    p = plan(load_routine("back-pain-feet"), Settings(sound_s=SOUND_S), estimate_clip_duration(160))
    doc = p.to_json()
    assert [c["title"] for c in doc["chapters"]][1:-1] == [
        "1. Toe presses", "2. Toe walking", "3. Ankle circles", "4. Resisted flexion", "5. Toe pencil pickups"]

    def lengths(exercise, kind, side=None):
        return [round(s["end_s"] - s["start_s"], 6) for s in doc["steps"]
                if s["exercise"] == exercise and s["kind"] == kind and (side is None or s["side"] == side)]

    assert lengths("Toe presses", "hold") == [3.0] * 10
    assert lengths("Toe walking", "work") == [20.0] * 5
    assert lengths("Toe walking", "rest")[:4] == [15.0] * 4
    assert lengths("Toe pencil pickups", "hold", "right foot") == [10.0] * 5
    assert lengths("Toe pencil pickups", "hold", "left foot") == [10.0] * 5
    assert lengths("Resisted flexion", "hold") == [5.0] * 10
    assert lengths("Resisted flexion", "rest") == [10.0] * 9 + [10.0]
    assert len(lengths("Ankle circles", "work")) == 4


def test_the_plan_describes_itself():
    routine = load_routine("back-pain-feet")
    p = plan(routine, Settings(sound_s=SOUND_S), fake_voice(160))
    assert all(isinstance(s.kind, StepKind) for s in p.steps) and all(isinstance(c.kind, CueKind) for c in p.cues)
    # each exercise chapter knows its exercise, and the exercises carry their totals
    chapters = p.exercise_chapters()
    assert [c.exercise for c in chapters] == list(range(1, len(routine.exercises) + 1))
    for chapter, ex, summary in zip(chapters, routine.exercises, p.exercises):
        assert summary.name == ex.name and summary.start_s == chapter.start_s
        doses = [s for s in p.steps if s.index == summary.position and s.kind.is_dose]
        assert len(doses) == summary.planned_reps * len(summary.sides)
        assert sum(s.duration_s for s in doses) == pytest.approx(summary.planned_dose_s)
        assert summary.end_s == max(s.end_s for s in p.steps if s.index == summary.position and s.next_index is None)
    assert p.planned_dose_s == sum(s.duration_s for s in p.steps if s.kind.is_dose)
    # rests between exercises say which one follows
    breaks = [s for s in p.steps if s.next_index is not None]
    assert [s.next_index for s in breaks] == list(range(2, len(routine.exercises) + 1))
    # step_at finds the step sounding at any position, as a scan would
    for t in [0.0, 0.5, 61.2, p.steps[5].start_s, p.duration_s - 0.01, p.duration_s]:
        assert p.step_at(t) == [s for s in p.steps if s.start_s <= t][-1]
    assert p.step_at(-1.0) is None


def test_intro_minutes_match_the_planned_length():
    for name in builtin_names():
        p = plan(load_routine(name), Settings(sound_s=SOUND_S), fake_voice(160))
        minutes = max(1, round(p.duration_s / 60))
        said = " ".join(c.text for c in p.cues if c.text)
        assert (f"about {minutes} minutes" in said) or (minutes == 1 and "about one minute" in said)
