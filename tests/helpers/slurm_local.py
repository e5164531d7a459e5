"""A single-node Slurm cluster on this machine, to try the README's sbatch recipe.

``python -m tests.helpers.slurm_local start DIR`` starts munged, slurmctld and
slurmd (Debian's ``slurm-wlm`` and ``munge``) with every key, socket, state,
spool, log and pid file under DIR, and prints the ``SLURM_CONF`` to export;
``python -m tests.helpers.slurm_local stop DIR`` cancels its jobs and stops the
three daemons by their pid files. The node is this host as ``slurmd -C`` sees
it (name, CPUs, memory), reached on 127.0.0.1; no cgroups
(``proctrack/linuxproc``, ``task/none``), no accounting. Runs as root. Nothing
outside DIR is read or written, so the machine's own munge/Slurm stay untouched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mmlab_core.cli import run
from mmlab_core.errors import MmlabError

DAEMONS = ("munged", "slurmctld", "slurmd")
TOOLS = (*DAEMONS, "mungekey", "sbatch", "sinfo", "squeue", "scancel", "scontrol")
INSTALL = "apt-get install -y slurm-wlm munge"


class SlurmUnavailable(MmlabError):
    """The daemons cannot run here: a tool is missing, we are not root, or a daemon did not come up."""


def conf_path(root: Path) -> Path:
    return Path(root) / "slurm.conf"


def client_env(root: Path) -> dict[str, str]:
    """The environment in which sbatch, squeue and scontrol talk to this cluster."""
    return dict(os.environ, SLURM_CONF=str(conf_path(root)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str]) -> str:
    """Run a Slurm or munge command; its stdout, or ``SlurmUnavailable`` with its stderr."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SlurmUnavailable(f"`{' '.join(command)}` failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def slurm_conf(root: Path, node: str) -> str:
    """A minimal slurm.conf: one node (``node`` is ``slurmd -C``'s line), one partition, files under root."""
    host = node.split()[0].removeprefix("NodeName=")
    return f"""\
ClusterName=local
MailProg=/bin/true
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge.socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
{node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def check_prerequisites() -> None:
    """Raise ``SlurmUnavailable`` saying what is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise SlurmUnavailable(f"{', '.join(missing)} not found: install Debian's packages with `{INSTALL}`.")
    if os.geteuid() != 0:
        raise SlurmUnavailable("a local Slurm cluster needs root (slurmd starts jobs as their user): run as root.")


def _wait_until_idle(root: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=client_env(root))
        if state.stdout.strip() == "idle":
            return
        time.sleep(0.5)
    logs = "; ".join(f"{log.name}: {log.read_text()[-500:]}" for log in root.glob("slurm*.log"))
    raise SlurmUnavailable(f"the Slurm node in {root} did not become idle in {timeout:.0f} s. {logs}")


def start(root: Path) -> Path:
    """Start munged, slurmctld and slurmd with their files under root; return the slurm.conf path."""
    check_prerequisites()
    root = Path(root).resolve()
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # munged wants its socket's folder reachable by every user
    key = root / "munge.key"
    _run(["mungekey", "--create", f"--keyfile={key}", "--force"])
    node = _run(["slurmd", "-C"]).splitlines()[0].strip()  # this host: NodeName=<host> CPUs=.. RealMemory=..
    conf_path(root).write_text(slurm_conf(root, node))
    munged = ["munged", "--force", f"--key-file={key}", f"--socket={root}/munge.socket"]
    munged += [f"--pid-file={root}/munged.pid", f"--log-file={root}/munged.log", f"--seed-file={root}/munged.seed"]
    try:
        for command in (munged, ["slurmctld", "-f", str(conf_path(root))], ["slurmd", "-f", str(conf_path(root))]):
            _run(command)
        _wait_until_idle(root)
    except BaseException:
        stop(root)
        raise
    return conf_path(root)


def _stop_daemon(pid_file: Path, name: str, timeout: float = 15) -> None:
    try:
        pid = int(pid_file.read_text().split()[0])
        if Path(f"/proc/{pid}/comm").read_text().strip() != name:
            return  # the daemon is gone and its pid was reused: not ours to stop
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)


def stop(root: Path) -> None:
    """Cancel the cluster's jobs, then stop slurmd, slurmctld and munged by their pid files."""
    root = Path(root).resolve()
    if (root / "slurmctld.pid").exists():
        subprocess.run(["scancel", f"--user={os.getuid()}"], env=client_env(root), capture_output=True, timeout=30)
        for _ in range(20):
            queue = subprocess.run(["squeue", "-h"], env=client_env(root), capture_output=True, text=True)
            if queue.returncode != 0 or not queue.stdout.strip():
                break
            time.sleep(0.5)
    for name in reversed(DAEMONS):
        _stop_daemon(root / f"{name}.pid", name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("dir", type=Path, help="folder for the cluster's key, config, state, logs and pid files")
    args = parser.parse_args(argv)
    if args.action == "start":
        conf = start(args.dir)
        print(f"Slurm is up (files in {args.dir}); for sbatch, squeue and scontrol: export SLURM_CONF={conf}")
    else:
        stop(args.dir)
        print(f"Slurm in {args.dir} stopped")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
