"""Make a deep copy of a filmc timeline that editor formats (EDL, FCP7, FCPXML, AAF) can hold.

Editors need what OTIO leaves implicit: every time at one rate, `file://` URLs, a known media
range for every clip (offline ones too), non-negative source times, and media handles under
every transition. The input timeline is never touched.
"""

from __future__ import annotations

import copy
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from ..diagnostics import Diagnostic
from .common import RT, TR, W_HANDLES, W_MEDIA, frames, listing, timeline_rate, warning


@dataclass
class EditorCopy:
    timeline: otio.schema.Timeline
    rate: float
    diagnostics: list[Diagnostic] = field(default_factory=list)


def file_url(target: str) -> str:
    """A `file://` URL for a path or URL; other schemes (http, s3) are kept as they are."""
    parsed = urllib.parse.urlparse(target)
    if parsed.scheme and len(parsed.scheme) > 1:
        return target
    return Path(target).resolve().as_uri()


def _frames_range(tr: otio.opentime.TimeRange, rate: float) -> otio.opentime.TimeRange:
    start, duration = tr.start_time, tr.duration
    if start.rate == rate == duration.rate and start.value.is_integer() and duration.value.is_integer():
        return tr  # already whole frames at the film's rate: the common case, kept cheap
    return TR(RT(frames(start, rate), rate), RT(frames(duration, rate), rate))


def _conform_rates(tl: otio.schema.Timeline, rate: float) -> None:
    """Every time at the film's rate, on whole frames: writers compare rates with `==`."""
    if tl.global_start_time is not None:
        tl.global_start_time = RT(frames(tl.global_start_time, rate), rate)
    for track in tl.tracks:
        for marker in track.markers:
            marker.marked_range = _frames_range(marker.marked_range, rate)
        for item in track:
            if isinstance(item, otio.schema.Transition):
                item.in_offset = RT(frames(item.in_offset, rate), rate)
                item.out_offset = RT(frames(item.out_offset, rate), rate)
                continue
            if item.source_range is not None:
                item.source_range = _frames_range(item.source_range, rate)
            for marker in item.markers:
                marker.marked_range = _frames_range(marker.marked_range, rate)
            ref = getattr(item, "media_reference", None)
            if ref is not None and ref.available_range is not None:
                ref.available_range = _frames_range(ref.available_range, rate)


def _replace_generators(tl: otio.schema.Timeline, fmt: str) -> list[Diagnostic]:
    """Title cards and slates as GeneratorReference crash three writers: mark them offline."""
    replaced = []
    for clip in tl.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.GeneratorReference):
            clip.media_reference = otio.schema.MissingReference(
                name=ref.name or clip.name,
                available_range=ref.available_range,
                metadata={"filmc": {"generator_kind": ref.generator_kind}},
            )
            replaced.append(clip.name)
    if not replaced:
        return []
    return [
        warning(
            W_MEDIA,
            fmt,
            f"generated media (title cards, slates) cannot be written; offline clips instead: {listing(replaced)}",
            hint="render generated clips to files and reference them with ExternalReference",
        )
    ]


def _normalise_urls(tl: otio.schema.Timeline) -> None:
    for clip in tl.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            ref.target_url = file_url(ref.target_url)


def _neighbours(track: otio.schema.Track, index: int) -> tuple:
    before = track[index - 1] if index > 0 else None
    after = track[index + 1] if index + 1 < len(track) else None
    before = before if isinstance(before, otio.schema.Transition) else None
    after = after if isinstance(after, otio.schema.Transition) else None
    return before, after


def _media_known(clip: otio.schema.Clip) -> bool:
    ref = clip.media_reference
    return not isinstance(ref, otio.schema.MissingReference) and ref.available_range is not None


def _spare_frames(clip: otio.core.Item, rate: float) -> tuple[float, float]:
    """Frames of media before and after the clip's source range (infinite when not yet rendered)."""
    if not isinstance(clip, otio.schema.Clip) or not _media_known(clip):
        return float("inf"), float("inf")
    avail = clip.media_reference.available_range
    src = clip.source_range
    before = frames(src.start_time, rate) - frames(avail.start_time, rate)
    after = frames(avail.end_time_exclusive(), rate) - frames(src.end_time_exclusive(), rate)
    return max(before, 0), max(after, 0)


def _drop_empty_transitions(track: otio.schema.Track, rate: float) -> None:
    """A transition of zero frames is a cut; writers would emit malformed events for it."""
    for index in reversed(range(len(track))):
        item = track[index]
        if isinstance(item, otio.schema.Transition) and frames(item.in_offset, rate) + frames(item.out_offset, rate) == 0:
            del track[index]


def _fit_transitions_to_media(track: otio.schema.Track, rate: float, fmt: str) -> list[Diagnostic]:
    """Shift or shorten transitions whose clips' media lacks the frames they overlap into."""
    changed: list[str] = []
    index = 0
    while index < len(track):
        item = track[index]
        if not isinstance(item, otio.schema.Transition) or index == 0 or index + 1 >= len(track):
            index += 1
            continue
        a_side, b_side = track[index - 1], track[index + 1]
        _, a_after = _spare_frames(a_side, rate)
        b_before, _ = _spare_frames(b_side, rate)
        want_in, want_out = frames(item.in_offset, rate), frames(item.out_offset, rate)
        if want_in <= b_before and want_out <= a_after:
            index += 1
            continue
        total = want_in + want_out
        new_in = int(min(want_in, b_before))
        new_out = int(min(total - new_in, a_after))
        new_in = int(min(total - new_out, b_before))
        change = "moved off the cut" if new_in + new_out == total else f"shortened {total}f -> {new_in + new_out}f"
        label = f"{item.name or 'transition'} {a_side.name}->{b_side.name} ({change})"
        changed.append(label)
        if new_in + new_out == 0:
            del track[index]
            continue
        item.in_offset = RT(new_in, rate)
        item.out_offset = RT(new_out, rate)
        index += 1
    if not changed:
        return []
    return [
        warning(
            W_HANDLES,
            fmt,
            "media lacks the handle frames these transitions overlap into; they were moved off "
            f"the cut or shortened: {listing(changed)}",
            hint="render or conform shots with handles (frames before and after the cut)",
        )
    ]


def _fill_media_ranges(track: otio.schema.Track, rate: float) -> None:
    """Give every clip a media range that covers its transitions' handles, starting at frame >= 0.

    Offline (not yet rendered) clips get the range filmc will render: the shot plus the handle
    frames its transitions borrow. Negative media times are relabelled from the media's first
    frame, which leaves the picture unchanged.
    """
    for index, item in enumerate(track):
        if not isinstance(item, otio.schema.Clip):
            continue
        before, after = _neighbours(track, index)
        pre = frames(before.in_offset, rate) if before else 0
        post = frames(after.out_offset, rate) if after else 0
        ref = item.media_reference
        src = item.source_range or item.trimmed_range()
        if ref.available_range is None or isinstance(ref, otio.schema.MissingReference):
            start = frames(src.start_time, rate) - pre
            length = frames(src.duration, rate) + pre + post
            if ref.available_range is not None:
                known = ref.available_range
                start = min(start, frames(known.start_time, rate))
                end = max(start + length, frames(known.end_time_exclusive(), rate))
                length = end - start
            ref.available_range = TR(RT(start, rate), RT(length, rate))
        shift = -frames(ref.available_range.start_time, rate)
        if shift > 0:
            avail = ref.available_range
            ref.available_range = TR(RT(0, rate), avail.duration)
            item.source_range = TR(RT(frames(src.start_time, rate) + shift, rate), src.duration)
            for marker in item.markers:
                marked = marker.marked_range
                marker.marked_range = TR(RT(frames(marked.start_time, rate) + shift, rate), marked.duration)
        elif item.source_range is None:
            item.source_range = src


def editor_copy(tl: otio.schema.Timeline, fmt: str) -> EditorCopy:
    """A deep copy of `tl` normalised for editor formats, with warnings for what changed."""
    rate = timeline_rate(tl)
    out = copy.deepcopy(tl)
    _conform_rates(out, rate)
    diags = _replace_generators(out, fmt)
    _normalise_urls(out)
    for track in out.tracks:
        _drop_empty_transitions(track, rate)
        diags += _fit_transitions_to_media(track, rate, fmt)
        _fill_media_ranges(track, rate)
    return EditorCopy(out, rate, diags)
