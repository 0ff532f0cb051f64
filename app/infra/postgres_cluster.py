"""The local Postgres's cluster on disk: created once with ``initdb``, never opened twice.

Why a module of its own: creating the data directory and checking that no live server still
owns it are one-off steps before launch, separate from running the server. The superuser's
password is handed to ``initdb`` through a short-lived ``--pwfile`` (never on the command
line); local socket connections are trusted, TCP ones need the password (scram-sha-256).
"""

from __future__ import annotations

import os
import pwd
import shutil
from pathlib import Path

from frugalflow.infra.process import InfraError, run_command


def init_cluster(
    bin_dir: Path,
    pgdata: Path,
    cluster_dir: Path,
    *,
    superuser: str,
    password: str,
    user: str | None,
    env: dict[str, str],
) -> None:
    """Run ``initdb`` into ``pgdata`` as ``user``, with ``superuser``/``password`` as the owner."""
    if pgdata.exists():
        shutil.rmtree(pgdata)  # a half-made cluster from an interrupted initdb
    pwfile = cluster_dir / ".pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    try:
        run_command(
            [
                bin_dir / "initdb",
                "--pgdata",
                pgdata,
                "--username",
                superuser,
                "--pwfile",
                pwfile,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            what="initdb",
            timeout=180,
            env=env,
            cwd=cluster_dir,
            user=user,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def refuse_if_running(pgdata: Path) -> None:
    """Clear error when a server (e.g. orphaned by a killed test run) still owns ``pgdata``."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return  # no pid file, or a stale one: postgres itself cleans that up
    if b"postgres" in cmdline:
        raise InfraError(
            f"a postgres server (pid {pid}) is already running on {pgdata}; "
            f"stop it (kill -INT {pid}) or use another data dir"
        )
