"""Generate the feature-length example film "Low Tide" as .film source.

The story is written by hand below as an outline: per scene, its place, time,
cast and beats (actions, lines, events). This script expands the outline into
shot-by-shot coverage the way a director's shot list would (an opener, a shot
per action, a shot per line with occasional reactions, cutaways to details of
the place, a closer), keeps its own continuity ledger so every scene header
declares the states and wardrobe its cast carry in, and computes each scene's
target from its shots.

Deterministic: the same outline always gives byte-identical files (each scene
draws from its own `random.Random` seeded with the scene's name).

Run:  python examples/feature/generate.py      (writes the .film files beside it)
"""

from __future__ import annotations

import math
import os
import random
import re
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
FPS = Fraction(24000, 1001)

# --- the cast, places and props ---------------------------------------------


@dataclass(frozen=True)
class Character:
    name: str
    title: str
    look: str
    voice: str
    wears: str
    wpm: float
    short: str  # first name as the action lines use it


VOICES = """\
voice mara_voice "Mara's voice" extends std.en_gb_female {
  pitch 54
  rate 158 wpm
}

voice tomas_voice "Tomas's voice" extends std.en_gb_male {
  pitch 44
  variant m2
  rate 165 wpm
}

voice sol_voice "Sergeant Baptiste's voice" extends std.en_us_female {
  pitch 45
  variant f1
  rate 150 wpm
}

voice aldo_voice "Aldo Crane's voice" extends std.en_gb_male {
  pitch 24
  variant m7
  rate 135 wpm
}
"""

CAST = [
    Character("mara", "Mara Quinn",
              "woman in her thirties, weathered face, auburn braid, grey eyes",
              "mara_voice", "navy jumper, yellow oilskin coat", 158, "Mara"),
    Character("tomas", "Tomas Quinn",
              "young fisherman, curly dark hair, broad shoulders, easy grin",
              "tomas_voice", "orange fishing overalls, striped top", 165, "Tomas"),
    Character("eli", "Eli Hart",
              "rumpled man in his forties, wire-rimmed glasses",
              "std.en_us_male", "charcoal overcoat, loose tie", 165, "Eli"),
    Character("ines", "Inès Laurent",
              "woman in her sixties, cropped silver hair, dark eyes",
              "std.fr_female", "cream cable-knit sweater", 165, "Inès"),
    Character("sol", "Sergeant Sol Baptiste",
              "tall woman in her fifties, cropped grey hair, tired eyes",
              "sol_voice", "blue police uniform, peaked cap", 150, "Sol"),
    Character("aldo", "Aldo Crane",
              "immaculate silver-haired man in his seventies, signet ring",
              "aldo_voice", "tweed three-piece suit", 135, "Aldo"),
]
CHAR = {c.name: c for c in CAST}

PROPS = {
    "radio": ("Harbour radio", "battered handheld marine VHF radio"),
    "ledger": ("The Crane ledger", "water-stained cloth-bound ledger in a rusted tin box"),
    "photo": ("Old photograph", "curled black-and-white photograph of two men on a boat deck"),
    "brass_key": ("Brass key", "green-tarnished brass locker key stamped 41"),
    "lantern": ("Storm lantern", "red paraffin storm lantern"),
    "logbook": ("Lighthouse logbook", "slim leather logbook, pages swollen with damp"),
}


@dataclass(frozen=True)
class Place:
    name: str
    title: str
    look: str
    variants: dict[str, str]
    ambience: list[tuple[str, int]]
    outdoor: bool
    details: list[str]


PLACES = [
    Place("harbour", "Saltmere harbour",
          "small stone harbour, moored fishing boats, harbour office",
          {"dawn": "stone harbour, boats lying on the mud at low water",
           "night": "harbour wall under yellow lamps, black water"},
          [("ocean", -30), ("crowd", -40)], True,
          ["W:Gulls wheel over the moored boats.", "A mooring rope creaks against an iron bollard.",
           "The harbour office clock ticks past the hour.", "Lobster pots stacked against the wall.",
           "W:Boats lie tilted on the mud where the water should be."]),
    Place("flats", "The tidal flats",
          "vast grey tidal mudflats, rippled sand, shallow channels",
          {"night": "moonlit mudflats, silver channels"},
          [("wind", -28), ("ocean", -36)], True,
          ["W:Wind drags ripples across a shallow channel.", "Bootprints fill slowly with seawater.",
           "A crab scuttles into a hole in the mud.", "W:Far off, the line of the returning tide glints.",
           "W:The lighthouse stands on the horizon like a needle."]),
    Place("wreck", "The wreck",
          "rotted wooden boat hull half-buried in mud, open ribs",
          {"night": "black wreck ribs against a moonlit sky"},
          [("ocean", -30), ("wind", -32)], True,
          ["Weed hangs from the wreck's ribs.", "A brass fitting stamped CRANE & SONS.",
           "Water drips through a split plank.", "Barnacles crust the wreck's rudder."]),
    Place("lighthouse", "Point Lumière lighthouse",
          "round whitewashed lighthouse room, spiral stair, brass lamp",
          {"night": "lighthouse room lit by the sweeping lamp"},
          [("wind", -30)], False,
          ["W:The great lamp turns above, throwing a slow beam.", "Charts curl on the curved wall.",
           "A kettle steams on a tiny stove.", "W:The spiral stair winds up into shadow."]),
    Place("anchor", "The Anchor",
          "low-beamed island pub, dark wood, fire in the grate",
          {}, [("crowd", -32), ("room_tone", -40)], False,
          ["A pint settles on the bar.", "The fire cracks in the grate.",
           "Old photographs of wrecks line the wall.", "Rain streaks the small window."]),
    Place("kitchen", "The Quinn kitchen",
          "cramped cottage kitchen, scrubbed table, range stove",
          {"night": "cottage kitchen under one lamp, black window"},
          [("room_tone", -40)], False,
          ["Oilskins drip on their hooks.", "A kettle begins to tick on the range.",
           "A photograph of a smiling fisherman on the dresser.", "The window rattles in the wind."]),
    Place("station", "Saltmere police station",
          "one-room island police station, desk, wall map",
          {}, [("office", -36)], False,
          ["A wall map of the island, pins in the harbour.", "W:The empty cell's door stands open.",
           "A ceiling fan turns slowly.", "A mug of cold tea on the desk."]),
    Place("study", "Crane's study",
          "wood-panelled study, leather chairs, ship models in cases",
          {"night": "study lit by a green desk lamp"},
          [("room_tone", -40)], False,
          ["A ship model in a glass case.", "A grandfather clock swings its pendulum.",
           "A decanter of whisky catches the lamplight.", "Crane's signet ring taps the desk."]),
    Place("cannery", "Crane & Sons cannery",
          "cavernous derelict fish cannery, rusted conveyors, steel lockers",
          {"night": "dark cannery, moonlight through broken skylights"},
          [("room_tone", -36), ("wind", -38)], False,
          ["A row of dented steel lockers.", "W:Chains sway from a rusted hoist.",
           "W:Pigeons scatter from a skylight.", "Water drips onto a conveyor belt."]),
    Place("causeway", "The causeway",
          "narrow stone causeway across mudflats, one lamp post",
          {"night": "causeway in driving rain, flickering lamp post"},
          [("wind", -28), ("rain", -30)], True,
          ["A tide marker pole, numbers fading.", "Rain hammers the causeway stones.",
           "W:The lamp post flickers and steadies.", "Seawater laps over the edge of the stones."]),
]
PLACE = {p.name: p for p in PLACES}

# --- the outline -------------------------------------------------------------


@dataclass
class A:
    """An action beat: one shot of `on` doing `text`, with events inside it."""

    text: str
    on: str = ""
    ev: list[str] = field(default_factory=list)
    sfx: tuple[str, float] | None = None
    type: str | None = None


@dataclass
class L:
    """A line of dialogue."""

    who: str
    text: str
    paren: str | None = None
    ev: list[str] = field(default_factory=list)


@dataclass
class E:
    """A scene-level event between shots: `tomas enters`, `mara exits`."""

    text: str


@dataclass
class T:
    """A transition between shots inside a scene: `dissolve 1s`."""

    text: str


@dataclass
class S:
    name: str
    title: str
    place: str
    time: str
    cast: str
    beats: list
    music: tuple[str, int] | None = None
    style: str | None = None
    into: str | None = None  # transition into the scene's first shot
    wearing: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    sfx_open: str | None = None
    out: str | None = None  # transition after the scene's last shot (the film's closing fade)


ACTS = [
    ("1", "The Wreck", [
        S("harbour_dawn", "The lowest tide", "harbour", "dawn", "mara", [
            A("Mara unlocks the harbour office and steps out onto the wall with a mug of tea.", "mara"),
            A("Mara lifts the harbour radio from its hook; static, then the coastguard's forecast.", "mara",
              ev=["mara takes radio"], sfx=("click", 0.5)),
            L("mara", "Lowest tide in fifty years, they say.", "to herself"),
            E("tomas enters"),
            A("Tomas jogs along the wall in his boots, breathless.", "tomas"),
            L("tomas", "Tide's gone out past the bar. Never seen it that far."),
            L("mara", "The almanac said it would."),
            L("tomas", "There's something out on the flats, Mara. A hull."),
            L("mara", "Nothing's been wrecked here since before we were born."),
            L("tomas", "Then it's been there since before we were born."),
            L("mara", "Or the sand has only just let go of it."),
            L("tomas", "Then come and see what it is."),
            A("Mara hangs the radio back on its hook and grabs her boots.", "mara", ev=["mara drops radio"]),
        ], music=("drone", -26), into="fade_in 2s",
            note="Opening titles run over the first three shots."),
        S("flats_morning", "Out on the mud", "flats", "morning", "mara, tomas", [
            A("Two small figures cross the endless flats.", "mara, tomas", type="extreme_wide"),
            L("mara", "Stay on the ridges. The mud will take your boots."),
            L("tomas", "I've walked these flats since I was six."),
            L("mara", "And lost a boot every spring."),
            L("tomas", "Dad used to carry me the last bit."),
            L("mara", "Dad used to carry both of us."),
            A("Tomas slips, laughs, and pulls his boot free with a sucking sound.", "tomas"),
            L("tomas", "There. See it? Past the channel."),
            A("On the horizon, dark ribs rise out of the mud.", "", type="pov"),
        ], music=("drone", -28), into="dissolve 1s"),
        S("wreck_morning", "Crane and Sons", "wreck", "continuous", "mara, tomas", [
            A("They reach the wreck: a rotted motor boat buried to the gunwales.", "mara, tomas"),
            L("tomas", "She's no fishing boat. Look at the fittings."),
            A("Mara wipes mud from a brass plate.", "mara", type="insert"),
            L("mara", "Cannery stamp. Crane and Sons."),
            L("tomas", "Old Crane's boat? Out here?"),
            L("mara", "Reported lost in a storm. I remember the service."),
            L("tomas", "Then what's it doing on our flats?"),
            A("Mara climbs into the hull and kneels by a rusted tin box under the bench.", "mara"),
            A("Inside the box: a cloth-bound ledger, dry in an oilcloth wrap.", "mara",
              ev=["mara takes ledger"], type="insert"),
            L("mara", "A ledger. Dates, tonnages, names."),
            L("tomas", "Put it back, Mara. That's Crane business."),
            L("mara", "No."),
        ], music=("tension", -26)),
        S("anchor_evening", "The stranger", "anchor", "evening", "eli", [
            A("Eli sits alone at the bar, notebook open beside a pint.", "eli"),
            E("tomas enters"),
            A("Tomas comes in out of the wind and takes the stool beside him.", "tomas, eli", type="two_shot"),
            L("eli", "I'm writing about the tide. You're the one who found the wreck?"),
            L("tomas", "Word travels fast."),
            L("eli", "The barman told me before I'd taken my coat off."),
            L("tomas", "Then he told you to leave it alone."),
            L("eli", "He did. That's why I'm asking you."),
            L("tomas", "You don't know this island."),
            L("eli", "No. But I know what a town sounds like when it's scared."),
            A("Tomas drains his glass and says nothing.", "tomas"),
            L("tomas", "Ask my sister. She's the one who climbed in."),
        ], music=("melancholy", -30), into="dissolve 1s"),
        S("kitchen_night", "The names", "kitchen", "night", "mara", [
            A("Mara reads the ledger at the kitchen table under a single lamp.", "mara"),
            A("A column of dates and initials: A.C., and beside them, a lighthouse symbol.", "", type="insert"),
            L("mara", "March the fourth. Forty crates. Paid to A.C. Received at the light.", "V.O."),
            E("tomas enters"),
            A("Tomas leans in the doorway, cap in his hand.", "tomas"),
            L("tomas", "You're still up."),
            L("mara", "The lighthouse signed for every shipment."),
            L("tomas", "Inès? She'd never."),
            L("mara", "Someone in that tower did."),
            L("tomas", "Burn it, Mara. Whatever it is."),
            L("mara", "Dad's initials are in here too, Tomas."),
            L("tomas", "What?"),
        ], music=("tension", -28)),
        S("study_night", "The owner", "study", "night", "aldo", [
            A("Aldo Crane stands at the tall window, a glass of whisky in his hand.", "aldo", type="full"),
            E("sol enters"),
            A("Sergeant Baptiste lets herself in and stays by the door.", "sol"),
            L("aldo", "The tide has uncovered my father's boat, Sergeant."),
            L("sol", "It's a wreck, Mr Crane. Wrecks belong to the crown."),
            L("aldo", "What was aboard belongs to my family."),
            L("sol", "Then file a claim like everyone else."),
            L("aldo", "I would rather it simply went missing."),
            L("sol", "I didn't hear that."),
            L("aldo", "You never do, Sergeant. It's why we get along."),
            E("sol exits"),
            A("Aldo turns back to the window, to the dark flats.", "aldo", type="medium_close_up"),
        ], music=("drone", -24), into="match_cut"),
        S("lighthouse_morning", "The keeper", "lighthouse", "morning", "ines, mara", [
            A("Inès polishes the great lamp's brass, humming.", "ines"),
            A("Mara climbs the last turn of the spiral stair, the ledger under her arm.", "mara"),
            L("ines", "Bonjour, Mara. Tu es venue tôt."),
            L("mara", "I found your name in a ledger, Inès."),
            L("ines", "Mon nom? Montre-moi."),
            A("Inès turns the pages slowly, her finger on a signature.", "ines", type="insert"),
            L("ines", "Ce n'est pas moi. C'est mon père qui tenait la lumière."),
            L("mara", "Then your father signed for smuggled cargo."),
            L("ines", "Tout le monde signait. Tout le monde avait peur."),
            L("mara", "Of Crane?"),
            L("ines", "De la mer. Et de Crane."),
            L("ines", "Mon père signait ce qu'on lui disait de signer."),
            A("Inès takes a photograph from the chart drawer and hands it to Mara.", "ines, mara",
              ev=["ines takes photo", "ines gives photo to mara"], type="two_shot"),
            L("ines", "Regarde. Le bateau. Mon père, ton père. Et Crane."),
        ], music=("melancholy", -28), into="dissolve 1s",
            wearing={"mara": "grey fisherman's sweater, waxed jacket"}),
        S("harbour_day", "The Courier", "harbour", "day", "mara", [
            A("Mara coils rope on the harbour wall.", "mara"),
            E("eli enters"),
            A("Eli picks his way along the wall in city shoes.", "eli"),
            L("eli", "Eli Hart. I write for the Courier."),
            L("mara", "I know who you are. Everyone does by now."),
            L("eli", "Your brother found a boat, and Aldo Crane wants it gone."),
            L("mara", "Then write about the tide."),
            L("eli", "I came for the tide. I'm staying for the boat."),
            L("mara", "Then you'll be staying a long time."),
            L("eli", "What's in the book, Mara?"),
            L("mara", "Nothing you can print."),
            A("Mara walks away down the wall; Eli watches her go.", "eli"),
        ], music=("pulse", -30)),
        S("cannery_dusk", "Private property", "cannery", "dusk", "tomas", [
            A("Tomas slips through a gap in the cannery fence.", "tomas", sfx=("footsteps", 0.5)),
            A("He tries the lockers one by one; all locked.", "tomas", sfx=("click", 1.0)),
            E("aldo enters"),
            A("Aldo steps out of the shadow of the conveyor.", "aldo", type="full"),
            L("aldo", "You're on private property, Tomas."),
            L("tomas", "Your father's boat is on public mud."),
            L("aldo", "Tell your sister to bring me what she took."),
            L("tomas", "Tell her yourself."),
            L("aldo", "I'm telling you. You're easier to find."),
            A("Two of Crane's men drag Tomas down; a boot, a fist.", "tomas",
              ev=["tomas becomes injured"], sfx=("impact", 0.6)),
            A("Aldo straightens his cuffs and walks away.", "aldo"),
            E("aldo exits"),
        ], music=("tension", -22), into="dip_to_black 12f"),
        S("causeway_night", "Home in the rain", "causeway", "night", "tomas (injured)", [
            A("Tomas staggers along the causeway in the rain, holding his ribs.", "tomas",
              sfx=("thunder", 1.5)),
            E("mara enters"),
            A("A torch beam: Mara running towards him.", "mara"),
            L("mara", "Tomas! Who did this?"),
            L("tomas", "Crane's men. They want the book."),
            L("mara", "Can you walk?"),
            L("tomas", "I walked this far."),
            L("mara", "Not to the station. Not tonight."),
            L("tomas", "The lighthouse, then. Inès will patch me up."),
            A("Mara gets his arm over her shoulder; they limp towards the light.", "mara, tomas",
              type="wide"),
        ], music=("tension", -24), style="storm"),
        S("lighthouse_night", "Nothing broken", "lighthouse", "night", "ines, mara, tomas (injured)", [
            A("Inès cleans the cut over Tomas's eye by lamplight.", "ines, tomas", type="two_shot"),
            L("ines", "Assieds-toi. Ne bouge pas."),
            L("tomas", "What's she saying?"),
            L("mara", "Sit still."),
            A("Inès winds a bandage round his head.", "tomas",
              ev=["tomas sheds injured", "tomas becomes bandaged"]),
            L("ines", "Il a de la chance. Rien de cassé."),
            L("mara", "We can't go to the station. Sol plays cards with Crane."),
            L("ines", "Alors va voir le journaliste."),
            L("mara", "She says go to the reporter."),
            L("tomas", "I understood that bit."),
        ], music=("melancholy", -28), style="storm"),
        S("anchor_night", "The bargain", "anchor", "night", "eli", [
            A("The pub is nearly empty; Eli writes by the dying fire.", "eli"),
            E("mara enters"),
            A("Mara comes in soaked and sits opposite him.", "mara, eli", type="two_shot"),
            L("mara", "You asked what's in the book."),
            L("eli", "And now you want to tell me."),
            L("mara", "They hurt my brother."),
            L("eli", "Then let's make it cost them."),
            L("mara", "Not a word in print until I say so."),
            L("eli", "Deal."),
            A("Mara slides the photograph across the table to him.", "mara, eli",
              ev=["mara gives photo to eli"], type="insert"),
            A("Eli turns the photograph to the firelight.", "eli", type="close_up"),
        ], music=("pulse", -28), style="storm"),
    ]),
    ("2", "The Ledger", [
        S("station_morning", "The sergeant", "station", "morning", "sol", [
            A("Sol types a report with two fingers.", "sol"),
            E("eli enters"),
            A("Eli knocks on the open door and walks in anyway.", "eli"),
            L("sol", "You're the reporter."),
            L("eli", "And you're the sergeant who plays cards with Aldo Crane."),
            L("sol", "Every Thursday. I also lose."),
            L("eli", "Tomas Quinn was beaten half senseless in Crane's cannery."),
            L("sol", "Has Tomas made a report?"),
            L("eli", "He's making it to me."),
            L("sol", "Careful, Mr Hart. Islands are small places."),
            L("eli", "So I keep hearing."),
        ], music=("pulse", -30), into="dip_to_black 1s"),
        S("kitchen_morning", "Twelve years", "kitchen", "morning", "mara, tomas (bandaged)", [
            A("Tomas, bandaged, nurses a mug of tea; Mara spreads the ledger open.", "mara, tomas",
              type="two_shot"),
            E("eli enters"),
            A("Eli ducks under the low lintel.", "eli"),
            L("eli", "The ledger names every shipment for twelve years."),
            L("mara", "And the last entry is the night our father drowned."),
            L("tomas", "You never told me that."),
            L("mara", "I didn't know until last night."),
            L("eli", "Then we need the rest of the books."),
            L("tomas", "Crane kept everything in the cannery."),
            L("mara", "Which burns very well, if he knows we're coming."),
        ], music=("melancholy", -30),
            wearing={"mara": "green wool jumper, oilskin trousers", "tomas": "oiled wool jumper, flat cap"}),
        S("flats_day", "Two hours", "flats", "day", "mara, eli", [
            A("Mara and Eli head out across the flats.", "mara, eli", type="extreme_wide"),
            L("eli", "How long until the tide turns?"),
            L("mara", "Two hours. Then it comes in faster than you can run."),
            L("eli", "Encouraging."),
            L("mara", "You asked."),
            A("Eli sinks to the ankle and hauls himself out.", "eli"),
        ], music=("pulse", -28), into="dissolve 1s"),
        S("wreck_day", "Locker forty-one", "wreck", "continuous", "mara, eli", [
            A("They climb into the wreck's hull.", "mara, eli"),
            A("Eli prises up a loose board in the wheelhouse floor.", "eli"),
            A("Beneath it: a green brass key stamped 41.", "eli", ev=["eli takes brass_key"], type="insert"),
            L("mara", "Cannery lockers had brass keys."),
            L("eli", "Locker forty-one."),
            A("Water trickles into the hull; Mara looks up sharply.", "mara", sfx=("whoosh", 0.5)),
            L("mara", "The tide. We go now."),
        ], music=("tension", -26)),
        S("flats_afternoon", "The tide turns", "flats", "continuous", "mara, eli", [
            A("The tide races in across the flats in a shining line.", "", type="aerial"),
            A("Mara and Eli run, splashing, the water at their knees.", "mara, eli",
              ev=["mara becomes wet", "eli becomes wet"], type="wide"),
            L("mara", "Follow my steps!"),
            L("eli", "I can't see the ridges!"),
            L("mara", "Then follow me!"),
            A("They reach the causeway steps, gasping.", "mara, eli", type="full"),
        ], music=("chase", -20)),
        S("harbour_afternoon", "Shells", "harbour", "afternoon", "mara (wet), eli (wet)", [
            A("Mara and Eli come up the slipway, soaked to the waist.", "mara, eli", type="wide"),
            E("sol enters"),
            A("Sol waits at the top, arms folded.", "sol", type="full"),
            L("sol", "You two went out on a turning tide?"),
            L("mara", "We were collecting shells."),
            L("sol", "Go home and get dry. And stay off the flats."),
            L("eli", "Is that advice or an order?"),
            L("sol", "Yes."),
            L("mara", "She's warning us."),
            L("eli", "She's warning someone."),
        ], music=("pulse", -30)),
        S("study_evening", "Everything on this island", "study", "evening", "aldo", [
            A("Aldo plays patience at his desk.", "aldo"),
            E("sol enters"),
            A("Sol stands in the doorway, cap under her arm.", "sol"),
            L("aldo", "They went back to the wreck."),
            L("sol", "And came back with nothing but wet feet."),
            L("aldo", "The reporter has a key in his pocket."),
            L("sol", "How would you know that?"),
            L("aldo", "I know everything that happens on this island, Sergeant."),
            L("sol", "Then you know I'm not your watchman."),
            E("sol exits"),
        ], music=("drone", -24), into="dissolve 1s"),
        S("kitchen_evening", "Dry clothes", "kitchen", "evening", "mara (wet), tomas (bandaged)", [
            A("Mara peels off her wet jumper by the range and pulls on a dry sweater.", "mara",
              ev=["mara sheds wet", 'mara wears "dry blue sweater, oilskin trousers"']),
            L("tomas", "You'll catch your death."),
            L("mara", "Not before Crane does."),
            L("tomas", "I'm coming with you tomorrow."),
            L("mara", "You can barely hold a cup."),
            A("Tomas lifts his mug with a steady hand and grins.", "tomas"),
            L("tomas", "I can hold a lantern."),
        ], music=("melancholy", -30), into="dissolve 1s"),
        S("anchor_evening_ines", "Casier quarante et un", "anchor", "evening", "eli (wet)", [
            A("Eli dries out by the fire, steam rising from his coat.", "eli", ev=["eli sheds wet"]),
            E("ines enters"),
            A("Inès sits down opposite him without asking.", "ines"),
            L("ines", "Vous êtes le journaliste."),
            L("eli", "I'm sorry, my French is terrible."),
            L("ines", "Mon père est mort à cause de ce livre."),
            L("eli", "Your father?"),
            L("ines", "La nuit de la tempête. Il n'est jamais revenu."),
            L("eli", "I'm sorry."),
            L("ines", "Casier quarante et un. Ne l'ouvrez pas seul."),
            E("ines exits"),
            A("Eli looks at the key in his palm.", "eli", type="insert"),
        ], music=("melancholy", -30)),
        S("cannery_night", "The locker", "cannery", "night", "mara, eli, tomas (bandaged)", [
            A("Three torch beams cut through the dark cannery.", "mara, eli, tomas", type="wide",
              sfx=("footsteps", 0.3)),
            A("Tomas lights the storm lantern.", "tomas", ev=["tomas takes lantern"], sfx=("click", 0.8)),
            A("Eli hands Mara the key.", "mara, eli", ev=["eli gives brass_key to mara"], type="insert"),
            L("mara", "Locker forty-one."),
            L("eli", "Your hands are shaking."),
            L("tomas", "Both of you, hurry up."),
            L("mara", "So are yours."),
            A("The key turns; inside lies a slim leather logbook.", "mara",
              ev=["mara drops brass_key", "mara takes logbook"], sfx=("click", 0.5), type="insert"),
            L("tomas", "Someone's coming."),
        ], music=("tension", -22), style="storm",
            wearing={"mara": "dark fisherman's smock", "eli": "navy raincoat, crumpled shirt",
                     "tomas": "oiled wool jumper, flat cap"}),
        S("cannery_fire", "Fire", "cannery", "continuous", "mara, eli, tomas (bandaged)", [
            E("aldo enters"),
            A("Aldo walks slowly down the line of lockers, a torch in his hand.", "aldo", type="full",
              sfx=("footsteps", 0.2)),
            L("aldo", "I know you're here, Mara."),
            A("Eli steps out to draw him off; a man swings a pipe.", "eli",
              ev=["eli becomes bruised"], sfx=("impact", 0.7)),
            L("mara", "Leave him!"),
            L("aldo", "Give me the book and walk away."),
            L("mara", "It's already copied."),
            L("aldo", "Then the copies can burn with the cannery."),
            A("Tomas hurls the lantern; it bursts against the conveyor in a sheet of flame.", "tomas",
              ev=["tomas drops lantern"], sfx=("glass_break", 0.5)),
            A("Fire races along the oil-soaked belt; Aldo falls back.", "aldo", sfx=("whoosh", 0.3)),
            E("aldo exits"),
        ], music=("chase", -20), style="storm"),
        S("causeway_escape", "Not everything", "causeway", "continuous",
          "mara, eli (bruised), tomas (bandaged)", [
              A("They run along the causeway; behind them the cannery burns orange.", "mara, eli, tomas",
                type="extreme_wide"),
              L("eli", "Did he just burn his own cannery?"),
              L("mara", "With everything in it."),
              L("tomas", "Not everything."),
            L("eli", "Remind me never to play cards with your family."),
              A("Mara opens her coat: the logbook, dry.", "mara", type="insert"),
          ], music=("chase", -22), style="storm"),
        S("lighthouse_dawn", "The handwriting", "lighthouse", "dawn",
          "ines, mara, eli (bruised), tomas (bandaged)", [
              A("Dawn in the lamp room; four exhausted people around a chart table.", "ines, mara, eli, tomas",
                type="wide"),
              A("Mara hands the logbook to Inès.", "mara, ines", ev=["mara gives logbook to ines"],
                type="two_shot"),
              L("ines", "C'est l'écriture de mon père."),
              L("mara", "The night of the storm. Crane's boat ran without lights."),
              L("eli", "Your father and Inès's father were on the same boat."),
              L("ines", "Et Crane les a laissés dans l'eau."),
              L("tomas", "He left them to drown."),
            L("mara", "And wrote them off as a storm."),
            L("ines", "Et personne n'a posé de questions."),
              A("Inès closes the logbook and gives it back to Mara.", "ines, mara",
                ev=["ines gives logbook to mara"], type="insert"),
          ], music=("melancholy", -26), into="dissolve 2s"),
        S("station_day", "Arson", "station", "day", "sol, aldo", [
            A("Aldo sits across the desk from Sol, gloves in his lap.", "aldo, sol", type="two_shot"),
            L("aldo", "Arson, Sergeant. The Quinn girl and the reporter."),
            L("sol", "Your night watchman says you were there."),
            L("aldo", "My night watchman is mistaken."),
            L("sol", "He seemed very sure."),
            L("aldo", "He will be less sure tomorrow."),
            L("sol", "Is that a confession, Aldo?"),
            L("aldo", "It's a forecast."),
            A("Sol writes nothing down.", "sol", type="insert"),
        ], music=("drone", -26), wearing={"aldo": "black overcoat, charcoal suit"}),
        S("harbour_dusk", "Mayday", "harbour", "dusk", "mara, eli (bruised)", [
            A("Mara takes the harbour radio down from its hook.", "mara", ev=["mara takes radio"],
              sfx=("click", 0.4)),
            L("mara", "Mainland coastguard, this is Saltmere harbour."),
            L("eli", "They won't come for a fire."),
            L("mara", "They'll come for a murder."),
            L("eli", "You can't prove a murder."),
            L("mara", "Not yet."),
            A("Static; then a voice answers.", "mara", type="close_up"),
            A("Mara lowers the radio and looks across the water.", "mara, eli", type="two_shot"),
        ], music=("pulse", -28), into="dissolve 1s",
            wearing={"mara": "dark fisherman's smock", "eli": "charcoal overcoat, loose tie"}),
        S("station_night", "A deadline", "station", "night", "sol", [
            A("Sol alone at her desk, the lamp on, the radio murmuring.", "sol"),
            E("mara enters"),
            E("eli enters"),
            A("Mara and Eli come in out of the dark.", "mara, eli", type="two_shot"),
            A("Mara sets the logbook on the desk in front of Sol.", "mara, sol",
              ev=["mara gives logbook to sol"], type="insert"),
            L("mara", "You can arrest him, or you can burn with him."),
            L("sol", "Is that a threat?"),
            L("eli", "It's a deadline. The story runs on Friday."),
            L("sol", "Then I have until Friday."),
            L("mara", "Don't waste it."),
        ], music=("tension", -26)),
        S("flats_night", "Forty years", "flats", "night", "sol", [
            A("Sol walks out onto the moonlit flats alone, the logbook under her arm.", "sol",
              type="extreme_wide"),
            A("She stops at the wreck and lays a hand on its ribs.", "sol"),
            L("sol", "Forty years of looking the other way."),
        ], music=("melancholy", -26), style="storm"),
        S("study_night_confront", "Written down", "study", "night", "aldo", [
            A("Aldo pours a drink with a steady hand.", "aldo"),
            E("sol enters"),
            A("Sol enters without knocking and lays the logbook on his desk.", "sol, aldo", type="two_shot"),
            L("sol", "Your father's boat is on the flats, Aldo. So is the truth."),
            L("aldo", "Truth doesn't survive the tide."),
            L("sol", "This one is written down."),
            L("aldo", "By a drowned man."),
            L("sol", "Drowned men make good witnesses, Aldo. They don't change their story."),
            A("Sol picks up the logbook and leaves.", "sol"),
            E("sol exits"),
            A("Aldo, alone, hurls his glass into the fireplace.", "aldo", sfx=("glass_break", 0.4)),
        ], music=("drone", -22)),
    ]),
    ("3", "High Water", [
        S("kitchen_dawn", "Healed enough", "kitchen", "dawn", "mara, tomas (bandaged)", [
            A("Tomas unwinds the bandage from his head in the grey light.", "tomas",
              ev=["tomas sheds bandaged"]),
            L("tomas", "Healed enough."),
            L("mara", "Liar."),
            L("tomas", "Crane's selling the boat for scrap. They tow her out tonight."),
            L("mara", "On the spring tide."),
            L("tomas", "If they sink her past the bar, she's gone for good."),
            L("tomas", "Then we get there first."),
        ], music=("melancholy", -30), into="dip_to_black 1s",
            wearing={"mara": "grey fisherman's sweater, waxed jacket",
                     "tomas": "orange fishing overalls, striped top"}),
        S("anchor_day", "The bodies", "anchor", "day", "eli (bruised), ines", [
            A("Inès and Eli at a corner table, two untouched coffees.", "ines, eli", type="two_shot"),
            L("ines", "Il ne faut pas que ce bateau parte."),
            L("eli", "The boat? Why does the boat matter now?"),
            L("ines", "Les corps. On ne les a jamais retrouvés."),
            L("eli", "You think they're still aboard."),
            L("ines", "Ton amie Mara le sait aussi."),
            L("ines", "Je le sais."),
        ], music=("melancholy", -30)),
        S("harbour_afternoon_prep", "Preparations", "harbour", "afternoon", "mara, tomas", [
            A("Mara and Tomas load ropes and torches into a dinghy on the mud.", "mara, tomas", type="wide"),
            E("eli enters"),
            A("Eli arrives with a camera round his neck.", "eli"),
            L("eli", "I'm coming."),
            L("mara", "You can't run on mud."),
            L("eli", "I've had practice."),
            L("tomas", "He has. Badly."),
            A("Mara hangs the radio on the dinghy's thwart and leaves it there.", "mara",
              ev=["mara drops radio"], type="insert"),
        ], music=("pulse", -26), into="wipe right 500ms"),
        S("cannery_ruins", "Sink her", "cannery", "dusk", "aldo", [
            A("Aldo stands in the blackened ruin of his cannery.", "aldo", type="wide"),
            L("aldo", "Tow her out past the bar and sink her."),
            L("aldo", "Nobody goes near her. Nobody."),
            A("Aldo's reflection in a puddle of ash and rain.", "aldo", type="insert"),
        ], music=("drone", -22), into="wipe left 500ms"),
        S("flats_race", "Nineteen minutes", "flats", "night", "mara, tomas, eli (bruised)", [
            A("Three torch beams bob across the black flats.", "mara, tomas, eli", type="aerial"),
            L("mara", "Tide turns in twenty minutes."),
            L("tomas", "Then we have nineteen."),
            A("Headlights on the causeway: Crane's tow truck.", "", type="pov"),
        ], music=("chase", -20), style="storm"),
        S("wreck_night", "The grave", "wreck", "continuous", "mara, tomas, eli (bruised)", [
            A("They drop into the wreck's hull; water swirls around their boots.", "mara, tomas, eli",
              type="wide"),
            A("Eli's torch finds a wedding ring on a rusted bunk.", "eli", type="insert"),
            L("mara", "Dad's ring."),
            L("tomas", "Mara."),
            A("Eli photographs the bunk, the flash lighting the hull white.", "eli", sfx=("click", 0.5)),
            T("dip_to_white 6f"),
            E("aldo enters"),
            A("Aldo appears at the gunwale above them.", "aldo", type="full"),
            L("aldo", "Step away from my boat."),
            L("mara", "It's a grave, Aldo."),
            L("aldo", "It's salvage."),
            E("sol enters"),
            L("sol", "It's evidence.", "O.S."),
            A("Sol climbs over the gunwale behind Aldo.", "sol"),
        ], music=("tension", -20), style="storm", sfx_open="thunder"),
        S("wreck_arrest", "High water", "wreck", "continuous", "mara, tomas, eli (bruised), aldo, sol", [
            L("sol", "Aldo Crane, you're under arrest."),
            L("aldo", "On the word of a drowned man?"),
            L("sol", "On his handwriting."),
            L("aldo", "You'll lose your pension over a logbook."),
            L("sol", "I've already lost forty years."),
            A("Sol snaps handcuffs onto Aldo's wrists.", "sol, aldo", ev=["aldo becomes handcuffed"],
              sfx=("click", 0.6), type="two_shot"),
            A("The tide pours over the gunwale; everyone is soaked in seconds.", "mara, tomas, eli",
              ev=["mara becomes wet", "tomas becomes wet", "eli becomes wet"], type="wide",
              sfx=("whoosh", 0.3)),
            L("mara", "Out! Now!"),
            A("They haul each other out of the flooding hull.", "mara, tomas, eli", type="full"),
        ], music=("chase", -20), style="storm"),
        S("causeway_dawn", "The walk", "causeway", "dawn", "sol, aldo (handcuffed)", [
            A("Sol walks Aldo along the causeway in the first light.", "sol, aldo", type="extreme_wide"),
            L("sol", "Walk."),
            L("aldo", "This island will have forgotten by Christmas."),
            L("sol", "Not this time."),
            L("aldo", "You sound very sure, Sergeant."),
            L("sol", "I've read the ledger."),
            A("Aldo looks back at the flats; the tide covers the wreck.", "aldo", type="close_up"),
        ], music=("melancholy", -26), into="dissolve 2s",
            wearing={"aldo": "black overcoat, charcoal suit"}),
        S("lighthouse_return", "Rest", "lighthouse", "morning", "ines", [
            A("Inès sits by the lamp, waiting.", "ines"),
            E("mara enters"),
            E("eli enters"),
            A("Mara and Eli climb the stair, dried off, tired faces.", "mara, eli", type="two_shot",
              ev=["mara sheds wet", "eli sheds wet"]),
            A("Eli gives Inès the photograph.", "eli, ines", ev=["eli gives photo to ines"], type="insert"),
            L("ines", "Merci."),
            L("eli", "It's yours. It always was."),
            L("ines", "Mon père peut se reposer maintenant."),
            L("mara", "So can mine."),
        ], music=("melancholy", -28)),
        S("harbour_farewell", "Send me a copy", "harbour", "magic_hour", "mara, tomas (wet), eli (bruised)", [
            A("The tide is in; boats float again at their moorings.", "", type="establishing"),
            A("Tomas, still damp, loads Eli's bag onto the ferry.", "tomas, eli",
              ev=["tomas sheds wet"], type="wide"),
            L("eli", "The story runs tomorrow."),
            L("mara", "Send me a copy."),
            L("eli", "I'll bring one."),
            L("tomas", "Bring a better pair of boots."),
            A("Mara almost smiles.", "mara", type="close_up"),
            A("The ferry pulls away into the low gold light.", "", type="extreme_wide"),
        ], music=("melancholy", -24), style="glow", into="dissolve 2s", out="fade_out 3s",
            wearing={"tomas": "orange fishing overalls, striped top"}),
    ]),
]

# --- coverage ----------------------------------------------------------------

TIME_WORDS = {"dawn": "at dawn", "morning": "in the morning", "day": "by day", "afternoon": "in the afternoon",
              "dusk": "at dusk", "evening": "in the evening", "night": "at night", "magic_hour": "at magic hour"}
REACTIONS = [
    "{N} takes this in without a word.", "{N} looks away.", "{N}'s jaw tightens.",
    "{N} weighs the words.", "{N} holds the look.", "{N} almost answers, then doesn't.",
    "{N} breathes out slowly.", "{N} swallows hard.",
]
LINE_TYPES = ["close_up", "medium_close_up", "over_the_shoulder", "medium", "close_up", "medium_close_up"]
SOLO_TYPES = ["medium", "full", "medium_wide", "medium", "medium_close_up"]
GROUP_TYPES = ["two_shot", "wide", "medium_wide"]
DETAIL_CLOSE = ["insert", "insert", "extreme_close_up"]
DETAIL_WIDE_OUT = ["extreme_wide", "establishing", "aerial"]
DETAIL_WIDE_IN = ["wide", "pov"]
MOVES = {
    "establishing": ["static", "pan_right", "crane_down", "pan_left"],
    "extreme_wide": ["static", "pan_left", "crane_up"],
    "aerial": ["orbit", "static", "truck_right"],
    "wide": ["static", "truck_right", "pull_out", "static"],
    "full": ["static", "truck_left", "dolly_in"],
    "medium_wide": ["static", "dolly_in", "handheld"],
    "medium": ["static", "push_in", "handheld", "static"],
    "two_shot": ["static", "push_in", "orbit"],
    "over_the_shoulder": ["static", "static", "push_in"],
    "medium_close_up": ["static", "push_in"],
    "close_up": ["static", "push_in", "zoom_in"],
    "extreme_close_up": ["static", "zoom_in"],
    "insert": ["static", "tilt_down", "push_in"],
    "pov": ["handheld", "static", "tilt_up"],
}
LENSES = {"close_up": 85, "extreme_close_up": 100, "medium_close_up": 65, "over_the_shoulder": 50,
          "extreme_wide": 18, "aerial": 24, "insert": 100}
SPEEDS = [None, None, "slow", "slow", "normal", None]


def _and(names: list[str]) -> str:
    """['Eli', 'Mara', 'Tomas'] -> 'Eli, Mara and Tomas'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _place_ref(place: Place) -> str:
    """'The tidal flats' -> 'the tidal flats'; proper names keep their capitals."""
    return "the" + place.title[3:] if place.title.startswith("The ") else place.title


def _round_up(seconds: float, step: float = 0.5) -> float:
    return math.ceil(seconds / step - 1e-9) * step


def _spoken_seconds(who: str, text: str) -> float:
    words = len(re.findall(r"[\w']+", text))
    return words / CHAR[who].wpm * 60


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _secs(value: float) -> str:
    return f"{value:g}s"


@dataclass
class Shot:
    type: str
    seconds: float
    on: list[str]
    action: str
    camera: str | None = None
    lens: int | None = None
    angle: str | None = None
    lines: list[tuple[str, str | None, str]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    sfx: list[tuple[str, float]] = field(default_factory=list)
    reference: bool = False


@dataclass
class World:
    """The generator's own continuity ledger (the checker keeps the real one)."""

    states: dict[str, set[str]] = field(default_factory=lambda: {c.name: set() for c in CAST})
    wardrobe: dict[str, str] = field(default_factory=lambda: {c.name: c.wears for c in CAST})
    holder: dict[str, str] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)

    def apply(self, event: str, where: str) -> None:
        words = event.split()
        who, verb, args = words[0], words[1], words[2:]
        if verb == "enters":
            assert who not in self.present, (where, event)
            self.present.add(who)
            return
        assert who in self.present, (where, event)
        if verb == "exits":
            self.present.discard(who)
        elif verb == "becomes":
            assert args[0] not in self.states[who], (where, event)
            self.states[who].add(args[0])
        elif verb == "sheds":
            assert args[0] in self.states[who], (where, event)
            self.states[who].discard(args[0])
        elif verb == "takes":
            assert args[0] not in self.holder, (where, event, self.holder)
            self.holder[args[0]] = who
        elif verb == "drops":
            assert self.holder.get(args[0]) == who, (where, event, self.holder)
            del self.holder[args[0]]
        elif verb == "gives":
            assert self.holder.get(args[0]) == who and args[2] in self.present, (where, event)
            self.holder[args[0]] = args[2]
        elif verb == "wears":
            self.wardrobe[who] = event.split('"')[1]


def _parse_cast(cast: str) -> list[str]:
    return [re.sub(r"\s*\(.*\)", "", m).strip() for m in re.split(r",\s*(?![^()]*\))", cast) if m.strip()]


class SceneBuilder:
    def __init__(self, scene: S, number: int, world: World) -> None:
        self.s = scene
        self.number = number
        self.world = world
        self.rng = random.Random(f"low-tide:{scene.name}")
        self.items: list[Shot | str] = []  # shots and scene-level lines (events, transitions)
        self.since_detail = 0
        self.details = list(PLACE[scene.place].details)
        self.rng.shuffle(self.details)
        self.line_turn = self.rng.randrange(len(LINE_TYPES))
        self.last_speaker: str | None = None

    # -- shot helpers --

    def camera(self, shot_type: str) -> str:
        move = self.rng.choice(MOVES[shot_type])
        speed = self.rng.choice(SPEEDS) if move not in ("static", "handheld") else None
        return f"{move} {speed}" if speed else move

    def add(self, shot: Shot) -> None:
        if shot.camera is None:
            shot.camera = self.camera(shot.type)
        if shot.lens is None and shot.type in LENSES and self.rng.random() < 0.5:
            shot.lens = LENSES[shot.type]
        if shot.angle is None:
            if "aldo" in shot.on and shot.type in ("full", "medium", "medium_wide") and self.rng.random() < 0.5:
                shot.angle = "low"
            elif shot.type in ("aerial",):
                shot.angle = "birds_eye"
            elif shot.type == "extreme_wide" and self.rng.random() < 0.3:
                shot.angle = "high"
            elif self.s.style == "storm" and shot.type in ("medium", "close_up") and self.rng.random() < 0.15:
                shot.angle = "dutch"
        self.items.append(shot)
        self.since_detail += 1

    def others(self, who: str) -> list[str]:
        return sorted(p for p in self.world.present if p != who)

    def detail(self) -> None:
        place = PLACE[self.s.place]
        if not self.details:
            self.details = list(place.details)
            self.rng.shuffle(self.details)
        text = self.details.pop()
        if text.startswith("W:"):
            text = text[2:]
            types = DETAIL_WIDE_OUT if place.outdoor else DETAIL_WIDE_IN
        else:
            types = DETAIL_CLOSE
        shot_type = self.rng.choice(types)
        seconds = self.rng.choice([4.5, 5.0, 6.0, 7.0])
        if shot_type in ("extreme_wide", "establishing", "aerial"):
            seconds += 3
        self.add(Shot(shot_type, seconds, [], text))
        self.since_detail = 0

    def maybe_detail(self) -> None:
        if self.since_detail >= 3 and self.rng.random() < 0.75:
            self.detail()

    # -- beats --

    def opener(self) -> None:
        place = PLACE[self.s.place]
        if self.s.time != "continuous":
            kind = "establishing" if place.outdoor or self.rng.random() < 0.5 else "extreme_wide"
            self.add(Shot(kind, self.rng.choice([7.0, 8.0, 9.0]), [], f"{place.title} {TIME_WORDS[self.s.time]}."))
        present = sorted(self.world.present)
        if present:
            names = _and([CHAR[p].short for p in present])
            where = ("at " if place.outdoor else "in ") + _place_ref(place)
            text = f"{names} {where}." if len(present) > 1 else f"{names} {where}, alone."
            shot_type = "wide" if len(present) > 1 else self.rng.choice(["wide", "full"])
            self.add(Shot(shot_type, self.rng.choice([6.0, 7.0, 8.0]), present, text, reference=True))
        if self.s.sfx_open and self.items:
            self.items[-1].sfx.append((self.s.sfx_open, 1.0))

    def action(self, beat: A) -> None:
        on = _parse_cast(beat.on) if beat.on else []
        if beat.type:
            shot_type = beat.type
        elif not on:
            shot_type = "insert"
        elif len(on) == 1:
            shot_type = self.rng.choice(SOLO_TYPES)
        else:
            shot_type = self.rng.choice(GROUP_TYPES)
        if shot_type == "two_shot" and len(on) != 2:
            shot_type = "wide"
        if shot_type in ("insert", "extreme_close_up") and on and any(
                e.split()[1] in ("takes", "gives", "drops", "becomes", "sheds", "wears") for e in beat.ev):
            on = on[:2]
        base = {"insert": 5.0, "extreme_close_up": 4.5, "close_up": 5.5}.get(shot_type, 8.0)
        if shot_type in ("extreme_wide", "aerial", "establishing"):
            base = 10.0
        seconds = base + self.rng.choice([0.0, 0.5, 1.0, 1.5, 2.0])
        shot = Shot(shot_type, seconds, on, beat.text, events=list(beat.ev))
        if beat.sfx:
            shot.sfx.append(beat.sfx)
        for e in beat.ev:
            self.world.apply(e, self.s.name)
        self.add(shot)
        if on and shot_type in ("wide", "two_shot", "full", "medium_wide", "extreme_wide") and self.rng.random() < 0.5:
            who = self.rng.choice(on)
            closer = self.rng.choice(["medium", "medium_close_up", "close_up"])
            self.add(Shot(closer, self.rng.choice([4.0, 4.5, 5.0, 5.5]), [who],
                          f"Closer on {CHAR[who].short}. {beat.text}"))

    def line(self, beat: L) -> None:
        spoken = _spoken_seconds(beat.who, beat.text)
        seconds = max(4.5, _round_up(spoken + 2.5))
        off = beat.paren in ("V.O.", "O.S.")
        listeners = self.others(beat.who)
        if off:
            target = listeners[:1] if listeners else []
            shot_type = "close_up" if target else "insert"
            action = (f"{CHAR[target[0]].short} listens." if target
                      else "The room holds still.")
            shot = Shot(shot_type, seconds, target, action)
        else:
            shot_type = LINE_TYPES[self.line_turn % len(LINE_TYPES)]
            self.line_turn += 1
            on = [beat.who]
            if shot_type == "over_the_shoulder":
                if listeners:
                    on = [beat.who, listeners[0]]
                else:
                    shot_type = "medium"
            speaker = CHAR[beat.who].short
            if shot_type == "over_the_shoulder":
                action = f"Over {CHAR[on[1]].short}'s shoulder, {speaker} speaks."
            elif listeners:
                action = f"{speaker} speaks to {_and([CHAR[x].short for x in listeners])}."
            else:
                action = f"{speaker} speaks."
            if beat.paren:
                action = f"{action[:-1]}, {beat.paren}."
            shot = Shot(shot_type, seconds, on, action)
        shot.lines.append((beat.who, beat.paren, beat.text))
        for e in beat.ev:
            self.world.apply(e, self.s.name)
        shot.events.extend(beat.ev)
        self.add(shot)
        if not off and listeners and self.rng.random() < 0.55:
            who = self.rng.choice(listeners)
            text = self.rng.choice(REACTIONS).replace("{N}", CHAR[who].short)
            self.add(Shot(self.rng.choice(["close_up", "medium_close_up"]), self.rng.choice([3.0, 3.5, 4.0, 4.5]),
                          [who], text))
        self.last_speaker = beat.who

    def build(self) -> None:
        s = self.s
        if s.into:
            self.items.append(s.into)
        self.opener()
        for beat in s.beats:
            if isinstance(beat, A):
                self.maybe_detail()
                self.action(beat)
            elif isinstance(beat, L):
                if beat.paren not in ("V.O.", "O.S."):
                    self.maybe_detail()
                self.line(beat)
            elif isinstance(beat, E):
                self.world.apply(beat.text, s.name)
                self.items.append(beat.text)
            elif isinstance(beat, T):
                self.items.append(beat.text)
        if self.since_detail >= 2:
            self.detail()
        present = sorted(self.world.present)
        if present:
            self.add(Shot(self.rng.choice(["wide", "medium_wide"]), self.rng.choice([5.0, 6.0]), present,
                          self.rng.choice(["They stand in silence for a moment.", "Nobody moves.",
                                           "The moment hangs.", "The light shifts."])))
        if s.out:
            self.items.append(s.out)

    # -- output --

    def running_seconds(self) -> Fraction:
        total = Fraction(0)
        frames = 0
        for item in self.items:
            if isinstance(item, Shot):
                frames += round(Fraction(str(item.seconds)) * FPS)
            elif item.split()[0] in ("dissolve", "wipe", "dip_to_black", "dip_to_white"):
                frames -= _transition_frames(item)
        total = Fraction(frames) / FPS
        return total

    def render(self, header: str) -> list[str]:
        s = self.s
        out = [header]
        running = self.running_seconds()
        out.append(f"  target {float(running):.1f}s")
        if s.style:
            out.append(f"  style {s.style}")
        for bed, level in PLACE[s.place].ambience:
            out.append(f"  ambience std.{bed} at {level} dB")
        if s.music:
            out.append(f"  music std.{s.music[0]} at {s.music[1]} dB")
        if s.note:
            out.append(f"  note {_q(s.note)}")
        for item in self.items:
            if isinstance(item, str):
                out.append(f"  {item}")
                continue
            out.extend(_render_shot(item))
        out.append("}")
        return out

    def shot_count(self) -> int:
        return sum(isinstance(i, Shot) for i in self.items)


def _transition_frames(text: str) -> int:
    parts = text.split()
    amount = parts[-1]
    if amount.endswith("f"):
        return int(amount[:-1])
    if amount.endswith("ms"):
        return round(Fraction(amount[:-2]) / 1000 * FPS)
    return round(Fraction(amount[:-1]) * FPS)


def _render_shot(shot: Shot) -> list[str]:
    on = f" on {', '.join(shot.on)}" if shot.on else ""
    out = [f"  shot {shot.type} {_secs(shot.seconds)}{on} {{"]
    if shot.camera:
        out.append(f"    camera {shot.camera}")
    if shot.lens:
        out.append(f"    lens {shot.lens}mm")
    if shot.angle:
        out.append(f"    angle {shot.angle}")
    out.append(f"    action {_q(shot.action)}")
    if shot.reference:
        out.append("    reference")
    for name, at in shot.sfx:
        out.append(f"    sfx std.{name} at {_secs(at)}")
    for who, paren, text in shot.lines:
        p = f" ({paren})" if paren else ""
        out.append(f"    {who}{p}: {_q(text)}")
    for e in shot.events:
        out.append(f"    {e}")
    out.append("  }")
    return out


def _member(name: str, world: World, declared_wardrobe: str | None) -> str:
    parts = sorted(world.states[name])
    if declared_wardrobe:
        parts.append(f"wearing {_q(declared_wardrobe)}")
    return f"{name} ({', '.join(parts)})" if parts else name


# --- files -------------------------------------------------------------------

GENERATED = "# Generated by generate.py from its outline: edit the outline there, not this file.\n"


def film_file(act_files: list[str]) -> str:
    imports = "\n".join(f'import "{f}"' for f in ["cast.film", "places.film", *act_files])
    return f"""# Low Tide: a feature-length example film for filmc.
{GENERATED}
film "Low Tide" {{
  resolution 1920x1080
  fps 23.976
  colour ACEScg -> rec709
  loudness -16 LUFS
  export web_mp4, prores_422, dnxhr_hq
  start 01:00:00:00
  style salt
  seed 4041
}}

import std.styles
{imports}

style salt "Salt" extends std.thriller {{
  look "windswept tidal island, grey sea light, salt-bleached colours"
  palette #5b6b73, #c2b59b, #2e3b44, #d9a441
  lighting "soft overcast daylight, practical lamps indoors"
  lens 40mm
  grade std.cold at 60%
}}

style storm "Storm night" extends std.thriller {{
  look "storm-lashed island night, rain, wind, darkness"
  palette #0c1420, #36506b, #c9a227
  lighting "torch beams, lightning flashes, one warm practical"
  texture "heavy grain, rain streaks"
  grade std.moonlight at 75%
}}

style glow "Evening glow" extends std.golden_hour {{
  lens 85mm
  grade std.golden_hour at 70%
}}
"""


def cast_file() -> str:
    out = ["# Low Tide: cast, voices and props.", GENERATED, VOICES]
    for c in CAST:
        out.append(f"character {c.name} {_q(c.title)} {{\n  look {_q(c.look)}\n  voice {c.voice}\n"
                   f"  wears {_q(c.wears)}\n}}\n")
    for name, (title, look) in PROPS.items():
        out.append(f"prop {name} {_q(title)} {{\n  look {_q(look)}\n}}\n")
    return "\n".join(out)


def places_file() -> str:
    out = ["# Low Tide: locations.", GENERATED]
    for p in PLACES:
        lines = [f"location {p.name} {_q(p.title)} {{", f"  look {_q(p.look)}"]
        for time, look in p.variants.items():
            lines += [f"  when {time} {{", f"    look {_q(look)}", "  }"]
        lines.append("}\n")
        out.append("\n".join(lines))
    return "\n".join(out)


def build() -> tuple[dict[str, str], dict[str, object]]:
    world = World()
    files: dict[str, str] = {}
    stats = {"scenes": 0, "shots": 0, "seconds": Fraction(0), "lines": 0}
    number = 0
    act_files = []
    for act_number, act_title, scenes in ACTS:
        out = [f"# Low Tide, act {act_number}: {act_title}.", GENERATED, f'act {act_number} {_q(act_title)}', ""]
        for scene in scenes:
            number += 1
            cast = _parse_cast(scene.cast)
            world.present = set(cast)
            for name in cast:
                declared = re.search(rf"\b{name}\s*\(([^)]*)\)", scene.cast)
                declared_states = {p.strip() for p in declared.group(1).split(",")} if declared else set()
                if declared_states != world.states[name]:
                    raise SystemExit(f"outline: scene {scene.name} must declare {name} "
                                     f"({', '.join(sorted(world.states[name]))})")
            wearing = {}
            for name, wardrobe in scene.wearing.items():
                assert name in cast, (scene.name, name)
                if wardrobe != world.wardrobe[name]:
                    assert scene.time != "continuous", (scene.name, name)
                    world.wardrobe[name] = wardrobe
                wearing[name] = wardrobe
            members = ", ".join(_member(n, world, wearing.get(n)) for n in cast)
            builder = SceneBuilder(scene, number, world)
            title = f" {_q(scene.title)}"
            with_ = f" with {members}" if members else ""
            header = f"scene {scene.name}{title} at {scene.place}, {scene.time}{with_} {{"
            builder.build()
            out.extend(builder.render(header))
            out.append("")
            stats["scenes"] += 1
            stats["shots"] += builder.shot_count()
            stats["seconds"] += builder.running_seconds()
            stats["lines"] += sum(len(i.lines) for i in builder.items if isinstance(i, Shot))
        name = f"act{act_number}.film"
        act_files.append(name)
        files[name] = "\n".join(out).rstrip() + "\n"
    files["feature.film"] = film_file(act_files)
    files["cast.film"] = cast_file()
    files["places.film"] = places_file()
    return files, stats


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main() -> None:
    files, stats = build()
    for name, text in files.items():
        write_atomic(HERE / name, text)
    minutes = float(stats["seconds"]) / 60
    print(f"Low Tide: {stats['scenes']} scenes, {stats['shots']} shots, {stats['lines']} lines, "
          f"{minutes:.1f} minutes; wrote {', '.join(sorted(files))}")


if __name__ == "__main__":
    main()
