"""Plain git, run with an isolated configuration so results never depend on
the user's ~/.gitconfig (README.md, "Changing upstream code")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mmlab_core.errors import MmlabError

BOT_NAME = "mmlab-extension"
BOT_EMAIL = "patches@mmlab-extension.invalid"

# Settings that change what git writes; pinned so every machine agrees.
PINNED_CONFIG = {
    "core.autocrlf": "false",
    "core.safecrlf": "false",
    "core.abbrev": "12",
    "diff.renames": "true",
    "diff.noprefix": "false",
    "diff.mnemonicPrefix": "false",
    "diff.indentHeuristic": "true",
    "diff.interHunkContext": "0",
    "diff.suppressBlankEmpty": "false",
    "format.useAutoBase": "false",
    "format.signature": "",
    "color.ui": "false",
    "gc.auto": "0",
    "advice.detachedHead": "false",
    "init.defaultBranch": "patched",
    "am.threeWay": "false",
    "am.keepcr": "true",
    "apply.whitespace": "nowarn",
}


class GitError(MmlabError):
    """A git command failed; carries its output for the caller to explain (a tool failure: exit 1)."""

    exit_code = 1

    def __init__(self, args: list[str], cwd: Path, result: subprocess.CompletedProcess):
        self.args_list = args
        self.cwd = cwd
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.returncode = result.returncode
        super().__init__(
            f"git {' '.join(args)} failed in {cwd} (exit {result.returncode}):\n"
            f"{(result.stderr or result.stdout).strip()}"
        )


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("GIT_") and key not in ("GIT_TRACE",):
            del env[key]
    env.update(
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_COMMITTER_NAME=BOT_NAME,
        GIT_COMMITTER_EMAIL=BOT_EMAIL,
        GIT_AUTHOR_NAME=BOT_NAME,
        GIT_AUTHOR_EMAIL=BOT_EMAIL,
        LC_ALL="C",
    )
    env.update(extra or {})
    return env


def git(
    cwd: Path,
    *args: str,
    check: bool = True,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run git in ``cwd`` and return its stdout as text."""
    return git_bytes(cwd, *args, check=check, input=input, env=env).decode("utf-8", "replace")


def git_bytes(
    cwd: Path,
    *args: str,
    check: bool = True,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
) -> bytes:
    """Run git in ``cwd`` and return its stdout as bytes (patches are bytes)."""
    cmd = ["git"]
    for key, value in PINNED_CONFIG.items():
        cmd += ["-c", f"{key}={value}"]
    cmd += list(args)
    result = subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, env=git_env(env))
    if check and result.returncode != 0:
        decoded = subprocess.CompletedProcess(
            result.args,
            result.returncode,
            result.stdout.decode("utf-8", "replace"),
            result.stderr.decode("utf-8", "replace"),
        )
        raise GitError(list(args), cwd, decoded)
    return result.stdout


def rev(cwd: Path, name: str) -> str | None:
    """The commit id ``name`` points to, or None if it does not exist."""
    out = git(cwd, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
    return out.strip() or None


def is_repo(path: Path) -> bool:
    return (path / ".git").exists()


def is_ancestor(cwd: Path, commit: str, of: str) -> bool:
    """True when ``commit`` is reachable from ``of``."""
    cmd = ["git", "merge-base", "--is-ancestor", commit, of]
    return subprocess.run(cmd, cwd=cwd, env=git_env(), capture_output=True).returncode == 0
