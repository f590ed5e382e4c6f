"""The `filmc` console script: the compiler's commands plus the runtime's.

Lives above both packages because `compiler` must never import `runtime`.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from filmc.compiler import cli

    try:
        from filmc.runtime import commands  # noqa: F401  (registers build, clean, backends, doctor)
    except ImportError as err:  # a broken runtime install must not take `filmc check` down with it
        print(f"filmc: warning: runtime commands unavailable: {err}", file=sys.stderr)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
