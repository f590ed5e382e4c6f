"""filmc's sound engine: speech, beds, effects, mixing, loudness, stems and subtitles."""
