"""The coaching script: the short sentences that keep count, wrap up and close, worded the same everywhere."""

import string
from dataclasses import replace

from coach.plan import script
from coach.plan.phrases import load_pack, pack_languages


def test_the_next_rep_has_a_sentence_a_number_and_a_last_one():
    assert script.next_rep(3, 10, "hold") == "Next: rep 3 of 10."
    assert script.next_rep(2, 5, "work") == "Next: round 2 of 5."
    assert script.last_rep(10, "hold") == "Last one: rep 10 of 10."
    assert script.last_rep(5, "work") == "Last one: round 5 of 5."
    assert [script.rep_number(n) for n in (2, 4, 13, 20, 21, 77, 99, 100)] == [
        "Two.", "Four.", "Thirteen.", "Twenty.", "Twenty-one.", "Seventy-seven.", "Ninety-nine.", "One hundred."]
    assert (script.LAST_ONE, script.LAST) == ("Last one.", "Last.")
    # every rep number a routine allows is a single word, which keeps it short enough for a short rest
    assert all(len(script.rep_number(n).split()) == 1 for n in range(2, 100))


def test_halfway_comes_with_the_next_rep():
    assert script.halfway_next(6, 10, "hold") == "Halfway. Next: rep 6 of 10."
    assert script.halfway_number(6) == "Halfway, six."


def test_each_exercise_wraps_up_in_one_line():
    assert script.exercise_done("Toe presses", 10, "hold", 0) == "Ten reps done."
    assert script.exercise_done("Toe walking", 5, "work", 0) == "Five rounds done."
    assert script.exercise_done("Toe pencil pickups", 5, "hold", 2) == "Five reps done on each side."
    assert script.exercise_done("Ankle circles", 1, "work", 4) == "Ankle circles done."
    assert script.exercise_done("Plank.", 1, "hold", 0) == "Plank done."


def test_the_close_says_how_much_was_done():
    assert script.close_done_all(1) == "That's the whole routine. Well done!"
    assert script.close_done_all(5) == "That's the whole routine: all five exercises. Well done!"
    assert script.close_skipped([], 5) == script.close_done_all(5)
    assert script.close_skipped(["Toe walking"], 5) == (
        "You did four of five exercises and skipped Toe walking. Well done!")
    assert script.close_skipped(["Toe walking", "Ankle circles"], 5) == (
        "You did three of five exercises and skipped Toe walking and Ankle circles. Well done!")
    assert script.close_skipped(["Toe presses", "Toe walking"], 2) == "You skipped every exercise this time."


def test_every_phrase_of_every_pack_is_filled_as_str_format_fills_it():
    for language in pack_languages():
        pack = load_pack(language)
        formatter = script._Formatter(script.Script(pack))
        for key, phrase in pack.phrases.items():
            for template in [phrase] if isinstance(phrase, str) else phrase.values():
                names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
                for value in (1, 2, 7.5, 21, "Left foot"):
                    values = dict.fromkeys(names, value)
                    try:
                        expected = formatter.vformat(template, (), values)
                    except (ValueError, KeyError) as error:  # a number word table asked for a text
                        expected = type(error)
                    try:
                        filled = formatter.fill(template, values)
                    except (ValueError, KeyError) as error:
                        filled = type(error)
                    assert filled == expected, (language, key, template, value)


def test_a_phrase_using_more_of_str_format_is_still_filled_and_sentences_are_said_alike_twice():
    pack = load_pack("en")
    say = script.Script(replace(pack, phrases={**pack.phrases, "odd": "{reps.real} {{of}} {n:words}"})).say
    assert say("odd", n=3, reps=10) == say("odd", n=3, reps=10) == "10 {of} three"
    assert [say("rep_number", n=n) for n in (2, 2.0, 3, 2)] == ["Two.", "Two.", "Three.", "Two."]
    assert say("seconds", n=1) == "1 second" and say("seconds", n=1.5) == "1.5 seconds"
