"""The `filmc` console script: the compiler's commands plus the runtime's.

Lives above both packages because `compiler` must never import `runtime`.
"""

from __future__ import annotations

import atexit
import os
import sys


def main(argv: list[str] | None = None) -> int:
    from filmc.compiler import cli

    try:
        from filmc.runtime import commands  # registers build, clean, backends, doctor
    except ImportError as err:  # a broken runtime install must not take `filmc check` down with it
        print(f"filmc: warning: runtime commands unavailable: {err}", file=sys.stderr)
    else:
        commands.prewarm(sys.argv[1:] if argv is None else argv)
    return cli.main(argv)


def run() -> None:
    """The process entry point: `main`, then a quick exit.

    Once every exit handler has run (Ray's disconnect, multiprocessing's clean-up: all registered
    after this one, so they run before it), the process ends without the interpreter tearing down
    each module and object one by one (0.2 s after a build; every file is already written, fsynced
    and closed). Only the command-line process does this; `main` called as a function returns."""
    code: list[int] = []

    def leave() -> None:
        if code:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code[0])

    atexit.register(leave)
    try:
        code.append(main())
    except SystemExit as stop:
        code.append(stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1)
        raise
    sys.exit(code[0])


if __name__ == "__main__":
    run()
