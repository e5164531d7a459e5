"""The patch queue: ``patches/<fork>/series`` <-> commits on the fork's
``patched`` branch (README.md, "Changing upstream code").

Commands: sync (import + apply), export, check, lint, status. Every command
that moves a fork first proves that nothing of the user's is lost. The work is
done in fork, sync, export, check, patch_lint and status; this module is only the
command line (import those names from the module that defines them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.settings import REPO_ROOT
from scripts.stack.check import check_fork
from scripts.stack.export import export_fork
from scripts.stack.fork import Fork, PatchQueueError, counted
from scripts.stack.patch_lint import lint_patch_dir, untested_patches
from scripts.stack.pins import load_pins, select
from scripts.stack.status import print_status
from scripts.stack.sync import sync_fork

COMMANDS = {
    "sync": "import the pinned release and apply the series",
    "export": "write the fork's commits to patches/<fork>/",
    "check": "from a fresh import: every series applies and re-exports unchanged",
    "lint": "series and files match; every patch has Why/Origin/Forwarded and a test that names it",
    "status": "pinned release, patch count and tree state of each fork",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="patches", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("forks", nargs="*", help="fork directories (default: all)")
        if name == "sync":
            cmd.add_argument("--force", action="store_true", help="set aside unexported work, then sync")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    forks = [Fork(pin, root) for pin in select(load_pins(root / "patches" / "upstream.toml"), args.forks)]
    if args.command == "sync":
        for fork in forks:
            print(f"[{fork.name}] {sync_fork(fork, args.force)}", flush=True)
    elif args.command == "export":
        for fork in forks:
            print(f"[{fork.name}] {export_fork(fork)}", flush=True)
    elif args.command == "status":
        print_status(forks)
    else:
        _lint_or_check(args.command, forks, root / "tests")
    return 0


def _lint_or_check(command: str, forks: list[Fork], tests_dir: Path) -> None:
    problems = []
    for fork in forks:
        if command == "lint":
            found = lint_patch_dir(fork.patch_dir) + untested_patches(fork.patch_dir, tests_dir)
        else:
            found = check_fork(fork.pin, fork.root)
        problems += found
        print(f"[{fork.name}] {counted(len(found), 'problem') if found else 'ok'}", flush=True)
    if problems:
        shown = "\n".join(f"  {problem}" for problem in problems)
        raise PatchQueueError(
            f"`{command}` found {counted(len(problems), 'problem')} in patches/:\n{shown}\n"
            f"Fix each as it says, then run `nox -s patches -- {command}` again."
        )


if __name__ == "__main__":
    sys.exit(run(main))
