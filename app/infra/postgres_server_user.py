"""The account that runs the local Postgres, and the file permissions it needs.

Why a module of its own: Postgres refuses to run as root, so a root caller (typical in
containers and CI) runs the binaries as an unprivileged system user -- ``postgres`` when
Debian's package created it, else ``nobody`` -- that must own the cluster directory and be
able to reach it. Everything about that hand-over lives here; a non-root caller runs the
server as itself and needs none of it.
"""

from __future__ import annotations

import logging
import os
import pwd
import stat
from pathlib import Path

from frugalflow.infra.process import InfraError, is_root

log = logging.getLogger(__name__)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def server_user(run_as: str | None) -> pwd.struct_passwd | None:
    """The account that runs the server: ``run_as`` if given, else ourselves unless root."""
    if run_as is not None:
        name = run_as
    elif not is_root():
        return None
    else:
        names = [n for n in ("postgres", "nobody") if _has_user(n)]
        if not names:
            raise InfraError("running as root, but neither 'postgres' nor 'nobody' users exist")
        name = names[0]
    try:
        return pwd.getpwnam(name)
    except KeyError as exc:
        raise InfraError(f"system user {name!r} does not exist") from exc


def _user_can_traverse(path: Path, pw: pwd.struct_passwd) -> bool:
    st = path.stat()
    groups = set(os.getgrouplist(pw.pw_name, pw.pw_gid))
    if st.st_uid == pw.pw_uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in groups:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def ensure_traversable(path: Path, pw: pwd.struct_passwd) -> None:
    """Let ``pw`` reach ``path``: add the search bit (only) on ancestors that lack it.

    Needed when root keeps the data dir somewhere private, e.g. pytest's
    ``/tmp/pytest-of-root`` (mode 0700). Search without read lets the server
    user open its own directory but not list the parents.
    """
    for parent in reversed(path.parents):
        if not _user_can_traverse(parent, pw):
            log.warning("granting o+x on %s so user %s can reach %s", parent, pw.pw_name, path)
            parent.chmod(parent.stat().st_mode | stat.S_IXOTH)


def chown_tree(root: Path, pw: pwd.struct_passwd) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), pw.pw_uid, pw.pw_gid, follow_symlinks=False)
