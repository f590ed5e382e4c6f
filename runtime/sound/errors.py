"""The one error type the sound engine raises for bad input, so callers can show a message."""


class SoundError(ValueError):
    """A problem with user input or the environment, stated as a readable message."""
