"""``python -m scripts.loop.zoo [--only NAME ...] [--timeout S]``: which upstream model families build,
train one step, predict and export on this stack; writes docs/zoo.md and docs/zoo.json (rows of families
not re-run are kept) and prints one line per family as it finishes. Logs: <cache>/zoo/<family>.log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.settings import REPO_ROOT, current
from scripts.loop.common.checks import UsageError
from scripts.loop.zoo import matrix, table
from scripts.loop.zoo.families import FAMILIES, by_name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these families (names as in docs/zoo.md)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per family (default 240)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs", help="where zoo.md and zoo.json go")
    args = parser.parse_args(argv)
    try:
        families = [by_name(n) for n in args.only] if args.only else list(FAMILIES)
    except KeyError as exc:
        raise UsageError(f"--only: {exc.args[0]}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    md, js = args.out / "zoo.md", args.out / "zoo.json"
    env, kept = table.environment(), table.previous(js) if args.only else []
    log_dir = current().cache / "zoo"
    print(f"zoo: {len(families)} families, {args.timeout:.0f} s each at most; logs in {log_dir}", flush=True)
    done: list[dict] = []

    def on_result(result: dict) -> None:
        done.append(result)
        print(matrix.progress_line(result), flush=True)
        table.write(table.merged(kept, done), env, args.timeout, md, js)

    matrix.run_all(families, args.timeout, log_dir, on_result)
    c = table.counts(table.merged(kept, done))
    print(
        f"mmdet3d {c['mmdet3d']['green']}/{c['mmdet3d']['total']}, mmdet {c['mmdet']['green']}/"
        f"{c['mmdet']['total']} green (config, train, predict); export parity {c['export']['green']}/"
        f"{c['export']['total']}; written: {md}, {js}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
