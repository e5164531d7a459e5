"""What every patch file must be: an exported mailbox patch with a subject, a diff,
the Why/Origin/Forwarded trailers, listed once in its series, and named by a test.
"""

from __future__ import annotations

import re
from pathlib import Path

from scripts.stack.fork import PatchQueueError, read_series

TRAILERS = ("Why", "Origin", "Forwarded")
FORWARDED = re.compile(r"^(no|not-needed|https?://\S+)$")
MBOX_START = b"From 0000000000000000000000000000000000000000 "


def message_of(patch: bytes) -> str:
    """The commit message part of a mailbox patch (headers and body)."""
    head = patch.split(b"\n---\n", 1)[0].split(b"\ndiff --git ", 1)[0]
    return head.decode("utf-8", "replace")


def lint_patch(name: str, data: bytes) -> list[str]:
    """Problems of one patch file on its own."""
    problems = []
    if not data.startswith(MBOX_START):
        problems.append(f"{name}: not a git mailbox patch with a zero commit id (export it, don't hand-write it)")
    message = message_of(data)
    if not re.search(r"^Subject: ", message, re.M):
        problems.append(f"{name}: no Subject: header")
    for trailer in TRAILERS:
        found = re.findall(rf"^{trailer}: *(.*)$", message, re.M)
        if not found or not found[-1].strip():
            problems.append(f"{name}: missing the {trailer}: trailer")
        elif trailer == "Forwarded" and not FORWARDED.match(found[-1].strip()):
            problems.append(f"{name}: Forwarded: must be no, not-needed or a URL, not {found[-1]!r}")
    if b"\ndiff --git " not in data:
        problems.append(f"{name}: carries no diff")
    return problems


def _shown(patch_dir: Path) -> Path:
    return patch_dir.relative_to(patch_dir.parent.parent) if patch_dir.is_absolute() else patch_dir


def lint_patch_dir(patch_dir: Path) -> list[str]:
    """Everything wrong with one fork's series and patch files."""
    try:
        names = read_series(patch_dir)
    except PatchQueueError as exc:
        return [str(exc)]
    rel = _shown(patch_dir)
    problems = []
    seen = set()
    for number, name in enumerate(names, 1):
        if name in seen:
            problems.append(f"{rel}/series: {name} is listed twice")
        seen.add(name)
        path = patch_dir / name
        if "/" in name or not name.endswith(".patch"):
            problems.append(f"{rel}/series entry {number}: {name!r} is not a .patch file name")
        elif not path.is_file():
            problems.append(f"{rel}/series entry {number}: {name} does not exist")
        else:
            problems += [f"{rel}/{p}" for p in lint_patch(name, path.read_bytes())]
    for stray in sorted(p.name for p in patch_dir.glob("*.patch")):
        if stray not in seen:
            problems.append(f"{rel}/{stray}: not listed in series")
    return problems


def untested_patches(patch_dir: Path, tests_dir: Path) -> list[str]:
    """Series entries that no ``tests/**/*.py`` names (by file name or stem)."""
    try:
        names = read_series(patch_dir)
    except PatchQueueError:
        return []  # lint_patch_dir reports the missing series
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in sorted(tests_dir.rglob("*.py"))]
    rel = _shown(patch_dir)
    return [
        f"{rel}/{name}: no test under {tests_dir.name}/ names it; put the file name in the docstring of the test "
        "that fails without this patch (or write such a test)"
        for name in names
        if not any(name.removesuffix(".patch") in text for text in texts)
    ]
