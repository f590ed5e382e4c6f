"""Fountain -> .film: the documented heuristics, and that real-shaped screenplays check clean."""

from __future__ import annotations

import hashlib
import time

import pytest
from filmc.compiler import ast
from filmc.compiler.fountain import FountainReadError
from filmc.compiler.fountain_to_film import (
    display_name,
    film_string,
    fountain_to_film,
    identifier,
    import_fountain,
    seconds_text,
)
from fountain_helpers import (
    FIXTURES,
    action_of,
    check_diagnostics,
    definitions,
    lines_of,
    load_make_feature,
    parse_film,
    prop,
    scenes_of,
    shots_of,
)


def convert(text: str) -> ast.Module:
    return parse_film(fountain_to_film(text))


def seconds(shot: ast.Shot) -> float:
    assert shot.duration is not None and shot.duration.text.endswith("s")
    return float(shot.duration.text[:-1])


def subjects(shot: ast.Shot) -> list[str]:
    return [name for name, _ in shot.subjects]


def line_text(d: ast.Dialogue) -> str:
    parens = "".join(f" ({p})" for p, _ in d.parens)
    return f"{d.speaker}{parens}: {d.text}"


# --- names -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Mrs. O'Brien", "mrs_obrien"), ("José", "jose"), ("2nd Officer", "char_2nd_officer"), ("Cop #2", "cop_2"),
    ("Scene", "char_scene"), ("Voice", "char_voice"), ("!!!", "char"), ("Juno Braithwaite-Kemp", "juno_braithwaite_kemp"),
])  # fmt: skip
def test_identifiers_are_ascii_snake_case_and_never_keywords(text, expected):
    assert identifier(text, set(), "char") == expected


def test_identifiers_are_unique():
    taken: set[str] = set()
    assert [identifier("Bob", taken, "char") for _ in range(3)] == ["bob", "bob_2", "bob_3"]


@pytest.mark.parametrize(("cue", "display"), [
    ("MRS. O'BRIEN", "Mrs. O'Brien"), ("MAN'S VOICE", "Man's Voice"), ("R2D2", "R2D2"), ("COP #2", "Cop #2"),
    ("McCLANE", "McCLANE"), ("JUNO BRAITHWAITE-KEMP", "Juno Braithwaite-Kemp"), ("ZOË", "Zoë"),
])  # fmt: skip
def test_display_names(cue, display):
    assert display_name(cue) == display


def test_strings_escape_quotes_and_backslashes_and_round_trip():
    raw = 'He said "no" \\ twice,\nthen\tleft.'
    module = parse_film(f"film {film_string(raw)} {{\n  fps 24\n}}\n")
    assert module.items[0].title == 'He said "no" \\ twice, then left.'


def test_durations_are_whole_half_seconds():
    assert [seconds_text(x) for x in (2, 2.01, 2.5, 3.26, 7.99)] == ["2s", "2.5s", "2.5s", "3.5s", "8s"]


# --- header, cast, places ----------------------------------------------------


def test_title_page_becomes_the_film_header_with_authors_as_comments():
    text = fountain_to_film("Title: *Night Ferry*\nCredit: Written by\nAuthor: Ann Lee\nDraft date: May\n\n"
                            "INT. BOAT - NIGHT\n\nRain.\n")
    module = parse_film(text)
    film = module.items[0]
    assert isinstance(film, ast.Film) and film.title == "Night Ferry"
    assert {p.key: " ".join(a.text for a in p.atoms) for p in film.block.properties()} == {
        "resolution": "1920x1080", "fps": "24", "export": "web_mp4"}
    comments = [c.text for c in module.comments]
    assert "# Written by Ann Lee" in comments and "# Draft date: May" in comments


def test_untitled_script_uses_the_given_title():
    module = parse_film(fountain_to_film("INT. BOAT - NIGHT\n\nRain.\n", title="Boat"))
    assert module.items[0].title == "Boat"


def test_each_distinct_character_once_with_alternating_voices():
    module = convert("INT. ROOM - DAY\n\nANN\nHi.\n\nBOB (V.O.)\nHello.\n\nANN (CONT'D)\nAgain.\n\n"
                     "CARL\nYo.\n\nDEE\nHey.\n\nEVE\nOi.\n")
    chars = definitions(module, "character")
    assert list(chars) == ["ann", "bob", "carl", "dee", "eve"]
    voices = [prop(c.block, "voice")[0].atoms[0].text for c in chars.values()]
    assert voices == ["en_us_male", "en_us_female", "en_gb_male", "en_gb_female", "en_us_male"]
    assert all(prop(c.block, "look") for c in chars.values())


def test_introductions_give_look_full_name_and_voice():
    module = convert("INT. HARBOUR - NIGHT\n\nNORA VANCE (40s, soaked) runs down the pier. She stops.\n\n"
                     "MARTIN (60s, oilskin) leans out of a boat, his pipe unlit.\n\nNORA\nNo!\n\nMARTIN\nLast one.\n")
    chars = definitions(module, "character")
    assert chars["nora"].title == "Nora Vance" and chars["martin"].title == "Martin"
    assert prop(chars["nora"].block, "look")[0].atoms[0].string_value.startswith("NORA VANCE (40s, soaked)")
    assert prop(chars["nora"].block, "voice")[0].atoms[0].text == "en_us_female"
    assert prop(chars["martin"].block, "voice")[0].atoms[0].text == "en_us_male"


def test_full_names_before_the_cue_and_voices_by_least_use():
    module = convert("EXT. PATIO - DAY\n\nThe door opens and DICK STEEL, his old partner, brings beers.\n\n"
                     "STEEL\nCold ones.\n\nBRICK\nFinally.\n\nAMY\nHi.\n\nWhere is HAL? He is late.\n\nHAL\nHere.\n")
    chars = definitions(module, "character")
    assert chars["steel"].title == "Dick Steel"
    voices = {name: prop(c.block, "voice")[0].atoms[0].text for name, c in chars.items()}
    # Steel is male; Brick and Amy are unknown and take the least used voices; Hal is male: a tie -> US.
    assert voices == {"steel": "en_us_male", "brick": "en_us_female", "amy": "en_gb_male", "hal": "en_us_male"}


def test_locations_are_distinct_per_place_and_interior_or_exterior():
    module = convert("INT. HOUSE - DAY\n\nA hall.\n\nEXT. HOUSE - NIGHT\n\nA porch light.\n\n"
                     "INT. HOUSE - NIGHT\n\nDark.\n\nEST. HOUSE - DAWN\n\nMist.\n")
    locations = definitions(module, "location")
    assert list(locations) == ["house", "house_ext"]
    assert [s.location.dotted for s in scenes_of(module)] == ["house", "house_ext", "house", "house_ext"]
    assert prop(locations["house"].block, "look")[0].atoms[0].string_value == "Interior, House: A hall."


@pytest.mark.parametrize(("time", "expected"), [
    ("DAY", "day"), ("NIGHT", "night"), ("MORNING", "morning"), ("EVENING", "evening"), ("DUSK", "dusk"),
    ("DAWN", "dawn"), ("AFTERNOON", "afternoon"), ("MAGIC HOUR", "magic_hour"), ("CONTINUOUS", "continuous"),
    ("LATER", "dusk"), ("MOMENTS LATER", "dusk"), ("SAME", "dusk"), ("1985", "day"), ("3 AM", "night"),
])  # fmt: skip
def test_scene_times(time, expected):
    module = convert(f"EXT. FIELD - DUSK\n\nGrass.\n\nEXT. FIELD - {time}\n\nMore grass.\n")
    assert scenes_of(module)[1].time == expected


def test_continuous_first_scene_and_unknown_time_fall_back_to_day_with_a_comment():
    text = fountain_to_film("INT. A - CONTINUOUS\n\nX.\n\nINT. B - 1985\n\nY.\n\nINT. C - LATER\n\nZ.\n\n"
                            "INT. HOUSE - KITCHEN\n\nW.\n")
    module = parse_film(text)
    assert [s.time for s in scenes_of(module)] == ["day", "day", "day", "day"]
    assert "# CONTINUOUS: no scene before this one; assumed day" in text
    assert '# Time of day "1985" not recognised; assumed day' in text
    assert "# The heading gives no time of day; assumed day" in text
    assert definitions(module, "location")["house_kitchen"].title == "House - Kitchen"


def test_later_after_continuous_takes_the_time_it_continues():
    module = convert("INT. A - NIGHT\n\nX.\n\nINT. B - CONTINUOUS\n\nY.\n\nINT. C - LATER\n\nZ.\n")
    assert [s.time for s in scenes_of(module)] == ["night", "continuous", "night"]


# --- scenes and shots --------------------------------------------------------


def test_scene_header_lists_everyone_who_speaks_or_is_framed():
    module = convert("INT. KITCHEN - NIGHT #4#\n\nAnn stirs a pot while Carl watches.\n\nBOB (V.O.)\nShe never cooked.\n\n"
                     "ANN\nDinner.\n\nINT. HALL - NIGHT\n\nCARL\nSmells good.\n")
    kitchen, hall = scenes_of(module)
    assert kitchen.name == "s001" and kitchen.title == "INT. KITCHEN - NIGHT"
    assert [m.name for m in kitchen.cast] == ["ann", "carl", "bob"]  # both framed in the first (wide) shot
    assert [m.name for m in hall.cast] == ["carl"]


def test_first_action_is_establishing_outside_on_a_first_visit_else_wide():
    module = convert("EXT. PIER - DAY\n\nGulls.\n\nINT. SHED - DAY\n\nDust.\n\nEXT. PIER - NIGHT\n\nLamps.\n")
    assert [shots_of(s)[0].type.dotted for s in scenes_of(module)] == ["establishing", "wide", "wide"]


def test_action_shot_types_and_framing():
    module = convert("INT. ROOM - DAY\n\nA bare room.\n\nANN\nHi.\n\nBOB\nHi.\n\nAnn sits.\n\nAnn hugs Bob.\n\n"
                     "INSERT - THE LETTER\n\nIt is unsigned.\n\nCLOSE ON the clock.\n\nBOB'S POV - the door.\n\n"
                     "Rain on the roof.\n")
    shots = shots_of(scenes_of(module)[0])
    actions = [(s.type.dotted, subjects(s)) for s in shots if action_of(s) and not lines_of(s)]
    assert actions == [("wide", []), ("medium", ["ann"]), ("two_shot", ["ann", "bob"]), ("insert", []),
                       ("insert", []), ("pov", []), ("wide", [])]
    insert = [s for s in shots if s.type.dotted == "insert"][0]
    assert action_of(insert) == "INSERT - THE LETTER: It is unsigned."


def test_action_duration_is_a_second_per_twelve_words_at_least_two():
    module = convert("INT. ROOM - DAY\n\nShort.\n\n" + " ".join(["word"] * 60) + ".\n")
    assert [seconds(s) for s in shots_of(scenes_of(module)[0])] == [2.0, 5.0]


def test_dialogue_shot_types():
    module = convert("INT. ROOM - DAY\n\nA room.\n\nANN\nWe should talk about the house and the money.\n\n"
                     "BOB\nThere is nothing left to say about the house.\n\nANN\nThere is one more thing.\n\n"
                     "Bob turns away.\n\nBOB\nGet out!\n\nANN\n(quietly)\nFine.\n")
    shots = [s for s in shots_of(scenes_of(module)[0]) if lines_of(s)]
    assert [(s.type.dotted, subjects(s)) for s in shots] == [
        ("medium", ["ann"]), ("over_the_shoulder", ["bob", "ann"]), ("over_the_shoulder", ["ann", "bob"]),
        ("close_up", ["bob"]), ("close_up", ["ann"])]


def test_dialogue_duration_is_150_wpm_plus_a_second_and_a_second_per_beat():
    words = " ".join(["word"] * 25)
    module = convert(f"INT. ROOM - DAY\n\nANN\n{words}.\n\nBOB\nA few words here.\n(beat)\nAnd more.\n")
    long, beats = [s for s in shots_of(scenes_of(module)[0])]
    assert seconds(long) == 11.0  # 25 words at 150 wpm = 10 s, + 1 s
    assert seconds(beats) == 4.5  # 6 words = 2.4 s, + 1 s, + 1 s for the beat = 4.4 s, rounded up


def test_dialogue_lines_keep_vo_os_and_parentheticals_and_drop_contd():
    module = convert("INT. ROOM - DAY\n\nANN\nHi.\n\nBOB (V.O.)\nI remember.\n\nBOB (O.S.) (CONT'D)\n(shouting)\nAnn!\n\n"
                     "ANN (CONT'D)\n(softly)\nComing.\n(beat)\nNow.\n\nCARL (ON PHONE)\nHello?\n\nDEE (O.C.)\nMe too.\n")
    lines = [line_text(d) for s in shots_of(scenes_of(module)[0]) for d in lines_of(s)]
    assert lines == ["ann: Hi.", "bob (V.O.): I remember.", "bob (O.S.) (shouting): Ann!", "ann (softly): Coming.",
                     "ann (beat): Now.", "carl (O.S.) (on phone): Hello?", "dee (O.S.): Me too."]


def test_off_screen_speakers_are_not_framed():
    module = convert("INT. ROOM - DAY\n\nANN\nWho's there?\n\nBOB (O.S.)\nOnly me.\n\nNARRATOR (V.O.)\nIt was not.\n")
    shots = shots_of(scenes_of(module)[0])
    assert [subjects(s) for s in shots] == [["ann"], ["ann"], ["ann"]]
    assert "bob" not in subjects(shots[1]) and "narrator" not in subjects(shots[2])
    lonely = shots_of(scenes_of(convert("INT. ROOM - DAY\n\nNARRATOR (V.O.)\nOnce.\n"))[0])
    assert [(s.type.dotted, subjects(s)) for s in lonely] == [("wide", [])]


def test_dual_dialogue_is_a_two_shot_on_both():
    module = convert("INT. ROOM - DAY\n\nBRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n")
    (shot,) = shots_of(scenes_of(module)[0])
    assert (shot.type.dotted, subjects(shot)) == ("two_shot", ["brick", "steel"])
    assert [line_text(d) for d in lines_of(shot)] == ["brick: Screw retirement.", "steel: Screw retirement."]


def test_trailing_parenthetical_becomes_the_action_and_lone_parenthetical_a_shot():
    module = convert("INT. ROOM - DAY\n\nSUE\nFine.\n(exits)\n\nBOB\n(nods)\n")
    first, second = shots_of(scenes_of(module)[0])
    assert action_of(first) == "Sue (exits)" and [line_text(d) for d in lines_of(first)] == ["sue: Fine."]
    assert action_of(second) == "Bob (nods)" and subjects(second) == ["bob"] and not lines_of(second)


def test_lyrics_are_sung_by_the_speaker_before_them_or_are_action():
    module = convert("INT. ROOM - DAY\n\nKOFI\n~Row, row\n\n~Gently down\n\nRain.\n\n~The stream\n")
    shots = shots_of(scenes_of(module)[0])
    assert [line_text(d) for d in lines_of(shots[0])] == ["kofi (singing): Row, row"]
    assert [line_text(d) for d in lines_of(shots[1])] == ["kofi (singing): Gently down"]
    assert action_of(shots[3]) == "Song: The stream"


def test_centred_text_is_action():
    module = convert("INT. ROOM - DAY\n\n>THE END<\n")
    assert action_of(shots_of(scenes_of(module)[0])[0]) == "THE END"


def test_heading_with_nothing_under_it_gets_a_short_shot_of_the_place():
    module = convert("EXT. MOOR - NIGHT\n\nINT. BARN - NIGHT\n")
    shots = [shots_of(s) for s in scenes_of(module)]
    assert [(s[0].type.dotted, seconds(s[0]), action_of(s[0])) for s in shots] == [
        ("establishing", 2.0, "Moor"), ("wide", 2.0, "Barn")]


def test_content_before_the_first_heading_gets_its_own_scene():
    module = convert("A black screen. A voice.\n\nNARRATOR (V.O.)\nOnce.\n\nINT. ROOM - DAY\n\nX.\n")
    first, second = scenes_of(module)
    assert first.location.dotted == "unspecified_location" and first.time == "day"
    assert second.title == "INT. ROOM - DAY"


# --- transitions -------------------------------------------------------------


def scene_statements(scene: ast.Scene) -> list[str]:
    out = []
    for stmt in scene.block.stmts:
        if isinstance(stmt, ast.Shot):
            out.append("shot")
        elif isinstance(stmt, ast.Property):
            out.append(" ".join([stmt.key, *(a.text for a in stmt.atoms)]))
    return out


@pytest.mark.parametrize(("transition", "statement"), [
    ("CUT TO:", None), ("DISSOLVE TO:", "dissolve 1s"), ("SMASH CUT TO:", "match_cut"),
    ("MATCH CUT TO:", "match_cut"), ("> WIPE TO:", "wipe left 500ms"), ("CUT TO BLACK.", "dip_to_black 12f"),
    ("> FADE TO WHITE.", "dip_to_white 1s"), ("JUMP CUT TO:", None),
])  # fmt: skip
def test_transitions_between_scenes_open_the_next_scene(transition, statement):
    module = convert(f"INT. A - DAY\n\nX.\n\n{transition}\n\nINT. B - DAY\n\nY.\n")
    a, b = scenes_of(module)
    assert scene_statements(a) == ["shot"]
    assert scene_statements(b) == ([statement] if statement else []) + ["shot"]


def test_fades():
    text = fountain_to_film("FADE IN:\n\nINT. A - DAY\n\nX.\n\nFADE OUT.\n\nFADE IN:\n\nINT. B - DAY\n\nY.\n\n"
                            "> FADE TO BLACK.\n")
    a, b = scenes_of(parse_film(text))
    assert scene_statements(a) == ["fade_in 1s", "shot", "fade_out 1s"]
    assert scene_statements(b) == ["fade_in 1s", "shot", "fade_out 1s"]


def test_transitions_the_checker_would_reject_become_comments():
    text = fountain_to_film("DISSOLVE TO:\n\nINT. A - DAY\n\nX.\n\nDISSOLVE TO:\n\nSMASH CUT TO:\n\n"
                            "INT. B - DAY\n\nY.\n\nFADE IN:\n\n> SPIN TO:\n")
    a, b = scenes_of(parse_film(text))
    assert scene_statements(a) == ["shot"] and scene_statements(b) == ["dissolve 1s", "shot"]
    for gone in ("# DISSOLVE TO: (no shot before it)", "# SMASH CUT TO: (follows another transition)",
                 "# FADE IN: (no shot after it)", "# SPIN TO: (transition not recognised; a cut)"):
        assert gone in text


# --- notes, structure --------------------------------------------------------


def test_notes_sections_synopses_boneyard_and_page_breaks():
    text = fountain_to_film("[[Opening note]]\n\n# Act One\n\n= The set-up.\n\n## The party\n\n"
                            "INT. HALL - NIGHT [[light it warm]]\n\nMusic. [[which song?]]\n\n[[Standalone]]\n\n"
                            "/* A cut scene\n\nINT. GONE - DAY\n*/\n\n===\n\n# Act Two\n\nINT. YARD - DAY\n\nQuiet.\n")
    module = parse_film(text)
    acts = [i for i in module.items if isinstance(i, ast.Act)]
    assert [(a.number, a.title) for a in acts] == [("1", "Act One"), ("2", "Act Two")]
    hall, yard = scenes_of(module)
    assert [p.atoms[0].string_value for p in prop(hall.block, "note")] == ["light it warm", "Standalone"]
    assert [p.atoms[0].string_value for p in prop(shots_of(hall)[0].block, "note")] == ["which song?"]
    comments = [c.text for c in module.comments]
    assert {"# Note: Opening note", "# Synopsis: The set-up.", "# ## The party"} <= set(comments)
    assert "GONE" not in text and "cut scene" not in text
    assert text.index("act 1") < text.index("scene s001") < text.index("act 2") < text.index("scene s002")


def test_shallowest_section_level_makes_acts():
    module = convert("## Part A\n\nINT. X - DAY\n\nX.\n\n### Beat\n\n## Part B\n\nINT. Y - DAY\n\nY.\n")
    assert [(a.number, a.title) for a in module.items if isinstance(a, ast.Act)] == [("1", "Part A"), ("2", "Part B")]


# --- files, fixtures, the checker --------------------------------------------


def test_import_fountain_writes_next_to_the_source_atomically(tmp_path):
    src = tmp_path / "my_script.fountain"
    src.write_text("INT. ROOM - DAY\n\nX.\n", encoding="utf-8")
    out = import_fountain(src)
    assert out == tmp_path / "my_script.film"
    assert parse_film(out.read_text()).items[0].title == "My Script"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_script.film", "my_script.fountain"]
    other = import_fountain(src, tmp_path / "sub" / "x.film")
    assert other.read_text() == out.read_text()


def test_import_fountain_reports_unreadable_files(tmp_path):
    with pytest.raises(FountainReadError, match="cannot read"):
        import_fountain(tmp_path / "nope.fountain")


SHORT_FIXTURES = sorted(FIXTURES.glob("*.fountain"))


def test_there_are_short_fixtures_of_different_sizes():
    sizes = sorted(len(p.read_text().splitlines()) for p in SHORT_FIXTURES)
    assert len(sizes) >= 3 and sizes[-1] > 2 * sizes[0]


@pytest.mark.parametrize("path", SHORT_FIXTURES, ids=lambda p: p.stem)
def test_fixture_converts_to_a_film_that_checks_clean(path, tmp_path):
    out = import_fountain(path, tmp_path / f"{path.stem}.film")
    text = out.read_text()
    module = parse_film(text)
    assert scenes_of(module)
    assert check_diagnostics(text, tmp_path, out.name) == []


@pytest.fixture(scope="module")
def feature_text() -> str:
    return load_make_feature().make_feature()


def test_feature_generator_is_deterministic(feature_text):
    again = load_make_feature().make_feature()
    assert hashlib.sha256(again.encode()).hexdigest() == hashlib.sha256(feature_text.encode()).hexdigest()
    assert load_make_feature().make_feature(seed=8) != feature_text
    assert feature_text.startswith("\ufeff") and "\r\n" in feature_text and "\n\n" in feature_text


def test_feature_length_script_converts_and_checks_clean(feature_text, tmp_path):
    started = time.perf_counter()
    film = fountain_to_film(feature_text, source_name="feature.fountain")
    convert_seconds = time.perf_counter() - started
    module = parse_film(film)
    scenes = scenes_of(module)
    assert len(scenes) >= 150
    assert sum(len(shots_of(s)) for s in scenes) > 1000
    assert len(definitions(module, "character")) == 12
    assert convert_seconds < 5
    assert check_diagnostics(film, tmp_path, "feature.film") == []


def test_output_is_in_fmt_canonical_form(feature_text):
    fmt = pytest.importorskip("filmc.compiler.fmt")
    for text in [feature_text, *(p.read_text() for p in SHORT_FIXTURES)]:
        film = fountain_to_film(text, source_name="x.fountain")
        assert fmt.format_source(film) == film
