"""The server's data folder is readable by its own user only: folders 0700, files 0600, whatever the umask.

The folder holds the uploaded instances (de-identified, yet the study of a person), the index and the
tokens' hashes; another account on the machine has no reason to read any of it. The umask cannot be relied
on (022 on most systems: everything readable by all), and changing it is process-wide (not thread-safe), so
each folder and file is given its mode explicitly after it is created. SQLite creates its -wal and -shm
files with the mode of the database file (and resets them against the umask), so a database file created
here keeps its companions private too.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(folder: Path, *, existing_too: bool = False) -> None:
    """`folder` and every missing folder above it created 0700 (`Path.mkdir(parents=True)` would create
    the parents with the umask's mode); `existing_too`: an existing `folder` made 0700 as well (the data
    folder at start, perhaps made by an older version; not on every write, which would cost a syscall)."""
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another thread: its mode is set below
            path.mkdir(mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)
    if existing_too and not missing:
        os.chmod(folder, FOLDER_MODE)


def create_private_file(path: Path) -> int:
    """A new file opened for writing, 0600 (O_EXCL: never an existing file, nor one through a symlink)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def private_database(path: Path) -> None:
    """An SQLite database file made 0600 before SQLite opens it (created empty when missing: SQLite takes an
    empty file for a new database); its -wal and -shm, when left by an older version, made 0600 too."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.chmod(companion, FILE_MODE)
