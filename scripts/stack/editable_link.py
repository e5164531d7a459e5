"""Install a fork editable from its metadata alone, without building it.

pip's editable install of mmcv always recompiles its ops in a temporary
folder. mmcv_ops compiles (and caches) them in place instead, so the package
only needs linking: its PEP 517 metadata, a .pth file that points at the
fork, and a RECORD so that ``pip uninstall`` and ``pip check`` work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from scripts.stack.mmcv_ops import BuildError

_METADATA = (
    "import sys, setuptools.build_meta as backend; print(backend.prepare_metadata_for_build_editable(sys.argv[1]))"
)


def site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip())


def link_install(project: Path, python: Path, env: dict[str, str], log: Path) -> str:
    """Make ``project`` importable and known to pip as an editable install."""
    site = site_packages(python)
    with tempfile.TemporaryDirectory() as tmp, log.open("a") as out:
        proc = subprocess.run(
            [str(python), "-c", _METADATA, tmp],
            cwd=project,
            env=dict(os.environ, **env),
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
        )
        if proc.returncode != 0:
            raise BuildError(f"reading the metadata of {project} failed; see {log}")
        dist_info = Path(tmp) / proc.stdout.strip().splitlines()[-1]
        name, version = dist_info.name[: -len(".dist-info")].split("-", 1)
        subprocess.run(
            [str(python), "-m", "pip", "uninstall", "-y", "--quiet", name], stdout=out, stderr=out, check=False
        )
        target = site / dist_info.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(dist_info, target)
    (target / "INSTALLER").write_text("mmlab-extension\n")
    direct_url = {"url": project.resolve().as_uri(), "dir_info": {"editable": True}}
    (target / "direct_url.json").write_text(json.dumps(direct_url))
    pth = site / f"__editable__.{name}-{version}.pth"
    pth.write_text(f"{project.resolve()}\n")
    record = [f"{pth.name},,"] + [f"{target.name}/{p.name},," for p in sorted(target.iterdir())]
    record.append(f"{target.name}/RECORD,,")
    (target / "RECORD").write_text("\n".join(record) + "\n")
    return f"linked {name} {version} -> {project}"
