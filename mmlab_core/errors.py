"""The project's one error base, and the error for bad driving data.

Standard library only: the host-side tooling, the ML loop and the plugin all
raise subclasses of ``MmlabError``, and every command catches it once
(``mmlab_core.cli.run``), prints the message as one paragraph and exits 2.
"""

from __future__ import annotations

from pathlib import Path


class MmlabError(Exception):
    """Something the user can fix; the message names the file, key or patch at fault and says what to do."""

    exit_code = 2


class DataFormatError(MmlabError, ValueError):
    """A data file is missing, truncated or malformed; the message names the file (and line, or key)."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
