"""One focused test per element of the Fountain 1.1 spec (fountain.io/syntax), plus real-file quirks."""

from __future__ import annotations

import pytest
from filmc.compiler.fountain import (
    Action,
    Centered,
    Dialogue,
    FountainReadError,
    Lyric,
    Lyrics,
    Note,
    PageBreak,
    Parenthetical,
    SceneHeading,
    Section,
    Speech,
    Synopsis,
    Transition,
    parse,
    parse_cue,
    read_fountain,
    strip_emphasis,
    time_keyword,
)


def only(text: str, kind):
    return [e for e in parse(text).elements if isinstance(e, kind)]


# --- title page --------------------------------------------------------------


def test_title_page_keys_and_multiline_values():
    doc = parse(
        "Title:\n    _**BRICK & STEEL**_\n    _**FULL RETIRED**_\nCredit: Written by\nAuthor: Stu Maschwitz\n"
        "Source: Story by KTM\nDraft date: 1/20/2012\nContact:\n\tNext Level Productions\n\t1588 Mission Dr.\n"
        "\nINT. HOUSE - DAY\n\nShe waits.\n"
    )
    tp = doc.title_page
    assert tp.get("title") == "BRICK & STEEL\nFULL RETIRED"
    assert tp.get("Credit") == "Written by"
    assert tp.get("AUTHOR") == "Stu Maschwitz"
    assert tp.get("Draft date") == "1/20/2012"
    assert tp.get("Contact") == "Next Level Productions\n1588 Mission Dr."
    assert tp.get("Copyright") is None
    assert [type(e) for e in doc.elements] == [SceneHeading, Action]


def test_script_opening_with_fade_in_has_no_title_page():
    doc = parse("FADE IN:\n\nINT. HOUSE - DAY\n\nShe waits.\n")
    assert doc.title_page.entries == ()
    assert doc.elements[0] == Transition("FADE IN:", False, 1)


# --- scene headings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "setting", "location", "time"),
    [
        ("INT. KITCHEN - NIGHT", "INT", "KITCHEN", "NIGHT"),
        ("EXT. BRICK'S POOL - DAY", "EXT", "BRICK'S POOL", "DAY"),
        ("EST. THE CITY - DAWN", "EST", "THE CITY", "DAWN"),
        ("INT./EXT. RICH'S CAR - MOVING - DAY", "INT/EXT", "RICH'S CAR - MOVING", "DAY"),
        ("INT/EXT CAR - NIGHT", "INT/EXT", "CAR", "NIGHT"),
        ("I/E CAR - NIGHT", "INT/EXT", "CAR", "NIGHT"),
        ("INT KITCHEN - DAY", "INT", "KITCHEN", "DAY"),
        ("int. kitchen - evening", "INT", "kitchen", "evening"),
        ("EXT. STREET--DAY", "EXT", "STREET", "DAY"),
        ("EXT. STREET \u2013 DUSK", "EXT", "STREET", "DUSK"),
        ("EXT. X-RAY LAB - 3 AM", "EXT", "X-RAY LAB", "3 AM"),
        ("INT. HOSPITAL - DAY ROOM - NIGHT - FLASHBACK", "INT", "HOSPITAL - DAY ROOM", "NIGHT"),
        ("EXT. MOUNTAIN ROAD", "EXT", "MOUNTAIN ROAD", ""),
    ],
)
def test_scene_heading_prefixes_locations_and_times(line, setting, location, time):
    (heading,) = only(f"Action.\n\n{line}\n\nMore action.\n", SceneHeading)
    assert (heading.setting, heading.location, heading.time) == (setting, location, time)
    assert heading.text == line and not heading.forced


def test_heading_keeps_segments_after_the_time():
    (heading,) = only("INT. HOSPITAL - NIGHT - FLASHBACK\n\nX.\n", SceneHeading)
    assert heading.extra == ("FLASHBACK",)


def test_forced_scene_heading_and_ellipsis_is_not_one():
    doc = parse(".SNIPER SCOPE POV\n\nCrosshairs.\n\n...and then silence.\n")
    heading = doc.elements[0]
    assert isinstance(heading, SceneHeading) and heading.forced
    assert heading.text == "SNIPER SCOPE POV" and heading.setting == ""
    assert isinstance(doc.elements[2], Action) and doc.elements[2].text == "...and then silence."


def test_heading_needs_a_blank_line_before_it():
    (action,) = parse("She reads the sign:\nINT. NOT A HEADING\n").elements
    assert isinstance(action, Action) and "INT. NOT A HEADING" in action.text


@pytest.mark.parametrize(("line", "number"), [("INT. HOUSE - DAY #1#", "1"), ("INT. HOUSE - DAY #1A#", "1A"),
                                              ("INT. HOUSE - DAY #I-1-A#", "I-1-A"), (".OUTSIDE #110A#", "110A")])
def test_scene_numbers(line, number):
    (heading,) = only(f"{line}\n\nX.\n", SceneHeading)
    assert heading.number == number and "#" not in heading.text


# --- action ------------------------------------------------------------------


def test_action_keeps_line_breaks_and_indentation():
    (action,) = parse("They drink long and well from the beers.\n\tAnd then there's a long beat.\nDone.\n").elements
    assert action == Action(
        "They drink long and well from the beers.\n\tAnd then there's a long beat.\nDone.", False, 1)


def test_forced_action_on_an_all_caps_line():
    (action,) = parse("!SCANNING THE AISLES...\nWhere is that pit boss?\n").elements
    assert isinstance(action, Action) and action.forced
    assert action.text == "SCANNING THE AISLES...\nWhere is that pit boss?"


# --- characters and dialogue -------------------------------------------------


def test_character_cue_and_dialogue():
    (d,) = parse("STEEL\nThe man's a myth!\n").elements
    assert d == Dialogue("STEEL", (), (Speech("The man's a myth!"),), False, False, 1)


def test_forced_character_with_lower_case():
    (d,) = parse("@McCLANE\nYippie ki-yay!\n").elements
    assert isinstance(d, Dialogue) and d.character == "McCLANE" and d.forced


@pytest.mark.parametrize(
    ("cue", "name", "extensions"),
    [
        ("MOM (O. S.)", "MOM", ("O. S.",)),
        ("HANS (on the radio)", "HANS", ("on the radio",)),
        ("BRICK (V.O.)", "BRICK", ("V.O.",)),
        ("STEEL (CONT'D)", "STEEL", ("CONT'D",)),
        ("STEEL (O.S.) (CONT'D)", "STEEL", ("O.S.", "CONT'D")),
        ("O'BRIEN (V.O.)", "O'BRIEN", ("V.O.",)),
        ("R2D2", "R2D2", ()),
        ("COP #2", "COP #2", ()),
        ("2ND OFFICER", "2ND OFFICER", ()),
        ("MRS. D'ANGELO", "MRS. D'ANGELO", ()),
        ("JOS\u00c9", "JOS\u00c9", ()),
    ],
)
def test_cue_names_and_extensions(cue, name, extensions):
    (d,) = parse(f"{cue}\nA line.\n").elements
    assert isinstance(d, Dialogue)
    assert (d.character, d.extensions) == (name, extensions)


def test_curly_apostrophes_in_cues_become_straight():
    (d,) = parse("O\u2019BRIEN (CONT\u2019D)\nIt\u2019s me.\n").elements
    assert (d.character, d.extensions, d.parts) == ("O'BRIEN", ("CONT'D",), (Speech("It's me."),))


def test_dual_dialogue():
    doc = parse("BRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n")
    first, second = doc.elements
    assert not first.dual and second.dual and second.character == "STEEL"


@pytest.mark.parametrize("line", ["BANG! THE DOOR EXPLODES.", "CLOSE ON THE KNIFE", "INSERT THE LETTER",
                                  "THE END?", "SILENCE -- THEN A SCREAM", "NO"[:0] + "FADE IN:"])
def test_all_caps_action_is_not_taken_for_a_cue(line):
    elements = parse(f"{line}\nSomething follows on the next line.\n").elements
    assert [type(e) for e in elements] == [Action]


def test_cue_needs_a_line_under_it():
    elements = parse("Some action.\n\nSTEEL\n\nMore action.\n").elements
    assert [type(e) for e in elements] == [Action, Action, Action]


def test_parentheticals():
    (d,) = parse("STEEL\n(starting the engine)\nSo much for retirement!\n(beat)\n(to Brick,\nquietly)\nGo.\n").elements
    assert d.parts == (Parenthetical("starting the engine"), Speech("So much for retirement!"),
                       Parenthetical("beat"), Parenthetical("to Brick, quietly"), Speech("Go."))


def test_page_break_marks_inside_dialogue_are_dropped():
    (d,) = parse("STEEL\nSo much for\n(MORE)\n(CONT'D)\nretirement.\n").elements
    assert d.parts == (Speech("So much for\nretirement."),)


def test_a_line_that_merely_starts_with_a_parenthesis_is_speech():
    (d,) = parse("STEEL\n(beat) I know.\n").elements
    assert d.parts == (Speech("(beat) I know."),)


def test_two_spaces_keep_dialogue_going():
    (d,) = parse("DEALER\nTen.\nFour.\n  \nDealer gets a seven.\n").elements
    assert d.parts == (Speech("Ten.\nFour.\n\nDealer gets a seven."),)


# --- lyrics, transitions, centred, emphasis ----------------------------------


def test_lyrics_standalone_and_in_dialogue():
    doc = parse("~Willy Wonka! Willy Wonka!\n~The amazing chocolatier!\n\nWONKA\n~Pure imagination.\n")
    lyrics, d = doc.elements
    assert lyrics == Lyrics("Willy Wonka! Willy Wonka!\nThe amazing chocolatier!", 1)
    assert d.parts == (Lyric("Pure imagination."),)


@pytest.mark.parametrize(("text", "expected"), [
    ("Jack begins to cry.\n\nCUT TO:\n\nINT. X - DAY\n", Transition("CUT TO:", False, 3)),
    ("Jack.\n\n> Burn to White.\n", Transition("Burn to White.", True, 3)),
    ("Jack.\n\nFADE OUT.\n", Transition("FADE OUT.", False, 3)),
])  # fmt: skip
def test_transitions(text, expected):
    assert expected in parse(text).elements


def test_transition_needs_blank_lines_and_capitals():
    assert not only("Jack.\n\nCut to:\n\nX.\n", Transition)
    assert not only("Jack.\nCUT TO:\n\nX.\n", Transition)


def test_centered_text():
    doc = parse(">THE END<\n\n> INTERMISSION <\n>and more<\n")
    assert doc.elements == (Centered("THE END", 1), Centered("INTERMISSION\nand more", 3))


@pytest.mark.parametrize(("raw", "plain"), [
    ("*italics*", "italics"), ("**bold**", "bold"), ("***bold italics***", "bold italics"),
    ("_underline_", "underline"), ("_**bold underline**_", "bold underline"),
    ("Steel enters the code on the keypad: **\\*9765\\***", "Steel enters the code on the keypad: *9765*"),
    ("a snake_case_name stays", "a snake_case_name stays"), ("5 * 3 = 15", "5 * 3 = 15"),
])  # fmt: skip
def test_emphasis_markers_are_stripped(raw, plain):
    assert strip_emphasis(raw) == plain
    assert parse(f"{raw}\n").elements[0].text == plain


# --- page breaks, notes, boneyard, sections, synopses ------------------------


def test_page_break():
    doc = parse("Action one.\n\n===\n\nAction two.\n\n=====\n")
    assert [type(e) for e in doc.elements] == [Action, PageBreak, Action, PageBreak]


def test_inline_note_is_lifted_out_of_the_text():
    (action,) = parse("His hand is an inch from the receiver [[Or did he?]] when the phone rings.\n").elements
    assert action.text == "His hand is an inch from the receiver when the phone rings."
    assert action.notes == ("Or did he?",)


def test_multiline_and_standalone_notes():
    doc = parse("[[This is a note\nspanning two lines,\n  \nand a two-space line.]]\n\nAction after.\n")
    note, action = doc.elements
    assert note == Note("This is a note\nspanning two lines,\n\nand a two-space line.", 1)
    assert action == Action("Action after.", False, 6)


def test_a_truly_blank_line_ends_a_note_attempt():
    doc = parse("[[Not a note\n\nbecause of the blank line]]\n")
    assert all(isinstance(e, Action) for e in doc.elements)


def test_note_inside_dialogue():
    (d,) = parse("STEEL\nThe man's a myth! [[check this line]]\n").elements
    assert d.parts == (Speech("The man's a myth!"),) and d.notes == ("check this line",)


def test_boneyard_is_dropped_and_line_numbers_survive():
    doc = parse("COGNITO\nEveryone's coming after you.\n/*\nBRICK\nThe so-called Dragon?\n\nOld news.\n*/\n"
                "\nEXT. STREET - DAY\n")
    d, heading = doc.elements
    assert d.parts == (Speech("Everyone's coming after you."),)
    assert heading.line == 10
    assert doc.boneyard == ("BRICK\nThe so-called Dragon?\n\nOld news.",)


def test_inline_boneyard():
    (action,) = parse("He waits /* for a long time */ and leaves.\n").elements
    assert action.text == "He waits  and leaves."


def test_sections_and_synopses():
    doc = parse("# ACT I\n\n= Set up the characters and the story.\n\n## Sequence\n\n### Beat\n\nINT. X - DAY\n")
    assert doc.elements[:4] == (Section(1, "ACT I", 1), Synopsis("Set up the characters and the story.", 3),
                                Section(2, "Sequence", 5), Section(3, "Beat", 7))


# --- real-file quirks --------------------------------------------------------


def test_crlf_lf_cr_mix_bom_and_tabs_parse_like_clean_text():
    clean = "Title: Mix\n\nINT. HOUSE - DAY\n\nShe waits.\n\nBOB\nIt's late.\n"
    messy = "\ufeffTitle: Mix\r\n\r\n\tINT. HOUSE - DAY\r\rShe waits.\n\r\nBOB\r\nIt\u2019s late.\r\n"
    clean_doc, messy_doc = parse(clean), parse(messy)
    assert messy_doc.title_page == clean_doc.title_page
    assert [type(e) for e in messy_doc.elements] == [type(e) for e in clean_doc.elements]
    assert messy_doc.elements[0].text == "INT. HOUSE - DAY"
    assert messy_doc.elements[2].parts == clean_doc.elements[2].parts


def test_curly_double_quotes_become_straight():
    (action,) = parse("A tag reads \u201cROOM 9\u201d.\n").elements
    assert action.text == 'A tag reads "ROOM 9".'


@pytest.mark.parametrize(("segment", "meaning"), [
    ("NIGHT", "night"), ("LATE NIGHT", "night"), ("CONTINUOUS", "continuous"), ("MOMENTS LATER", "later"),
    ("SAME", "same"), ("EARLY MORNING", "morning"), ("SUNSET", "dusk"), ("7:30 AM", "morning"),
    ("3 AM", "night"), ("2 P.M.", "afternoon"), ("1985", None), ("KITCHEN", None),
])  # fmt: skip
def test_time_keywords(segment, meaning):
    assert time_keyword(segment) == meaning


def test_parse_cue_rejects_sentences_and_accepts_forced_names():
    assert parse_cue("THE DOOR SLAMS.") is None
    assert parse_cue("Bob") is None
    assert parse_cue("@Bob").name == "Bob"
    cue = parse_cue("  STEEL (V.O.) (CONT'D) ^ ")
    assert (cue.name, cue.extensions, cue.dual) == ("STEEL", ("V.O.", "CONT'D"), True)


def test_read_fountain_decodes_bom_and_windows_1252(tmp_path):
    utf8 = tmp_path / "a.fountain"
    utf8.write_bytes("\ufeffINT. CAF\u00c9 - DAY\n\nX.\n".encode())
    assert read_fountain(utf8).elements[0].location == "CAF\u00c9"
    legacy = tmp_path / "b.fountain"
    legacy.write_bytes("INT. CAF\u00c9 - DAY\n\nIt\u2019s X.\n".encode("cp1252"))
    doc = read_fountain(legacy)
    assert doc.elements[0].location == "CAF\u00c9" and doc.elements[1].text == "It's X."


def test_read_fountain_errors_are_clear(tmp_path):
    with pytest.raises(FountainReadError, match="cannot read"):
        read_fountain(tmp_path / "missing.fountain")
    binary = tmp_path / "c.fountain"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(FountainReadError, match="not a text file"):
        read_fountain(binary)
