"""How every command ends: a user error is one paragraph on stderr and exit 2.

Standard library only. Each ``main()`` is wrapped once::

    if __name__ == "__main__":
        sys.exit(run(main))
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from mmlab_core.errors import MmlabError


def run(main: Callable[[], int | None]) -> int:
    """Call ``main``; a ``MmlabError`` becomes ``error: <paragraph>`` and its exit code (2)."""
    try:
        return main() or 0
    except MmlabError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
