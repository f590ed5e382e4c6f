"""The checked IR: units normalised to frames, transitions attached, continuity carried."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from filmc.compiler.check import check_file

HEADER = 'film "T" {\n  resolution 640x360\n  fps %s\n}\n'
CAST = '''
character rae "Rae" { look "wiry woman"; wears "black jacket" }
character kai "Kai" { look "tall man" }
location lot "Lot" { look "asphalt" }
prop baton "baton"
'''


def check(tmp_path: Path, body: str, fps: str = "24"):
    path = tmp_path / "t.film"
    path.write_text(HEADER % fps + CAST + body, encoding="utf-8")
    return check_file(path)


def codes(result) -> list[str]:
    return sorted(d.code for d in result.diagnostics if d.code != "W0305")


def test_durations_are_frames_and_exact_seconds(tmp_path):
    result = check(tmp_path, '''
scene a at lot, night with rae {
  shot wide 8.2s { action "x" }
  shot close_up 72f on rae
  shot medium 500ms on rae
}
''', fps="23.976")
    assert codes(result) == []
    shots = result.film.shots()
    assert [s.duration.frames for s in shots] == [197, 72, 12]
    assert Fraction(shots[1].duration.seconds) == Fraction(72 * 1001, 24000)
    assert result.film.header.fps == "24000/1001"
    assert [s.id for s in shots] == ["s01_001", "s01_002", "s01_003"]


def test_transitions_attach_to_the_shots_they_join_and_overlap(tmp_path):
    result = check(tmp_path, '''
scene a at lot, day with rae {
  fade_in 1s
  shot wide 4s
  dissolve 1s
  shot medium 3s on rae
  wipe right 12f
  shot close_up 2s on rae
  fade_out 2s
}
''')
    assert codes(result) == []
    scene = result.film.scenes[0]
    first, second, third = scene.shots
    assert first.transition_in.effect == "fade_in"
    assert second.transition_in.effect == "dissolve" and second.transition_in.duration.frames == 24
    assert third.transition_in.effect == "wipe" and third.transition_in.direction == "right"
    assert third.transition_out.effect == "fade_out"
    assert scene.running_frames == (4 + 3 + 2) * 24 - 24 - 12


def test_state_wardrobe_and_props_carry_across_scenes(tmp_path):
    result = check(tmp_path, '''
scene a at lot, night with rae, kai {
  shot wide 3s on rae, kai {
    rae takes baton
    rae becomes bloody
  }
  rae gives baton to kai
  rae wears "torn raincoat"
}
scene b at lot, continuous with rae (bloody), kai {
  shot medium 3s on rae {
    rae: "Still here."
  }
}
''')
    assert codes(result) == []
    first = result.film.scenes[0].shots[0]
    assert first.start.characters["rae"].states == []
    assert first.end.characters["rae"].states == ["bloody"]
    assert first.end.props == {"baton": "rae"}
    later = result.film.scenes[1].shots[0]
    assert later.start.time_of_day == "std.night"
    assert later.start.characters["rae"].wardrobe == "torn raincoat"
    assert later.start.props == {"baton": "kai"}
    assert later.start.present == ["kai", "rae"]


@pytest.mark.parametrize("body, expected", [
    ('scene a at lot, day with rae {\n  shot wide 3s on kai\n}\n', "E0501"),
    ('scene a at lot, day with rae {\n  shot wide 3s {\n    rae: "hi"\n  }\n}\n', "E0503"),
    ('scene a at lot, day with rae {\n  shot wide 3s on rae {\n    kai: "hi"\n  }\n}\n', "E0502"),
    ('scene a at lot, day with rae {\n  shot wide 3s on rae { rae drops baton }\n}\n', "E0507"),
    ('scene a at lot, day with rae, kai {\n  shot wide 3s on rae { rae takes baton; kai takes baton }\n}\n',
     "E0508"),
    ('scene a at lot, day with rae {\n  shot wide 1s\n  dissolve 2s\n  shot wide 3s\n}\n', "E0511"),
    ('scene a at lot, continuous with rae {\n  shot wide 1s\n}\n', "E0505"),
    ('scene a at lot, day with rae {\n  shot wide 2s on rae { sfx std.click at 3s }\n}\n', "E0412"),
])
def test_continuity_and_timing_errors(tmp_path, body, expected):
    assert expected in codes(check(tmp_path, body))


def test_declared_state_must_match_carried_state(tmp_path):
    result = check(tmp_path, '''
scene a at lot, day with rae {
  shot wide 3s on rae { rae becomes bloody }
}
scene b at lot, day with rae (not bloody) {
  shot wide 3s on rae
}
''')
    (d,) = [d for d in result.diagnostics if d.code == "E0504"]
    assert d.labels and d.labels[0].span.line == 12  # where she became bloody


def test_voice_over_needs_no_presence_and_off_screen_needs_no_frame(tmp_path):
    result = check(tmp_path, '''
scene a at lot, day with rae {
  shot wide 3s on rae {
    kai (V.O.): "Remember."
    rae (O.S.) (whispering): "I do."
  }
}
''')
    assert codes(result) == []
    lines = result.film.shots()[0].lines
    assert [line.mode for line in lines] == ["voice_over", "off_screen"]
    assert lines[1].parentheticals == ["whispering"]


def test_ir_is_json_serialisable(tmp_path):
    result = check(tmp_path, 'scene a at lot, day with rae {\n  shot wide 3s on rae\n}\n')
    data = json.loads(result.film.to_json())
    assert data["schema"] == "FilmIR.1"
    assert data["scenes"][0]["shots"][0]["span"]["line"] == 11
