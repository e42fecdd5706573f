"""What a load of a contracts directory reads, and the state of those files on disk.

:func:`contract_files` is the one place that says which files are contract files: every file in every
contract folder (``directory/<name>/``), hidden ones and subfolders (caches) passed over. The loader reads
them, plus the lock file. :func:`snapshot` records those files' size, modification time (nanoseconds) and
inode — a few ``stat`` calls, no reading — so a running gateway can tell that something it loaded changed
(a version added, a draft edited, a release locked) without a file-watching dependency. A file that is
replaced by a rename (``contracts lock`` writes the lock that way) changes its inode; one written twice
within a nanosecond tick with the same size is not noticed until the next change.
"""

import os
from pathlib import Path

from sigma_aetl.contracts.lock import lock_path
from sigma_aetl.core.value import value


@value
class FileState:
    """One file as ``stat`` sees it."""

    path: str
    """Relative to the contracts directory, with forward slashes."""
    size: int
    mtime_ns: int
    inode: int


Snapshot = frozenset[FileState]
"""The state of every file a load reads; two snapshots are equal when nothing changed."""


def contract_files(directory: Path) -> list[Path]:
    """Every file in every contract folder, sorted; hidden ones and subfolders (caches) are passed over."""
    folders = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return [
        path
        for folder in folders
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.startswith(".")
    ]


def snapshot(directory: Path) -> Snapshot:
    """The state of the contract files and the lock of ``directory``; empty if it does not exist.

    Never raises for a file that vanishes while it is looked at: it is simply not in the snapshot.
    """
    try:
        paths = [*contract_files(directory), lock_path(directory)]
    except OSError:  # the directory is missing or unreadable: the load will say so
        return frozenset()
    return frozenset(state for path in paths if (state := _state(path, directory)) is not None)


def _state(path: Path, root: Path) -> FileState | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return FileState(path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns, stat.st_ino)
