"""Atomic writes whose results have the permissions of an ordinary file.

Every file and folder sparsetsc writes is first written under a temporary name beside its
target and then renamed, so a reader (or a killed process) never sees half of one. The
temporary names come from :mod:`tempfile`, which creates them private (0600 files, 0700
folders) whatever the user's umask; :func:`follow_umask` gives the finished file or folder
the permissions ``open()`` or ``mkdir()`` would have given it, so saved models and results
can be shared with other users or served from a container.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["follow_umask", "write_atomic"]


def _umask() -> int:
    # The only portable way to read the umask is to set it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: str | os.PathLike[str]) -> None:
    """Give ``path`` (and, for a folder, everything under it) the permissions a new file
    (0666) or folder (0777) gets under the current umask."""
    mask = _umask()
    root = Path(path)
    paths = [root, *root.rglob("*")] if root.is_dir() else [root]
    for item in paths:
        if item.is_symlink():
            continue
        os.chmod(item, (0o777 if item.is_dir() else 0o666) & ~mask)


def write_atomic(path: str | os.PathLike[str], data: str | bytes, prefix: str = ".tmp-") -> None:
    """Write ``data`` to ``path`` so that ``path`` is either absent or complete, with the
    permissions of a file created by ``open()``. The temporary file is
    ``<prefix><name>...`` in the same folder; it is removed if the write fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix + path.name)
    try:
        with os.fdopen(handle, "wb" if isinstance(data, bytes) else "w") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        follow_umask(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
