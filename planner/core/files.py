"""Writing files others open: whole or not at all, and text a spreadsheet will not run as a formula."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting so as a formula


def csv_text(text: str) -> str:
    """Free text made safe to open in a spreadsheet: formula-like text gets a leading apostrophe.

    A name such as `=HYPERLINK("http://...")` would otherwise run when the CSV is opened in
    Excel (CSV injection). The loader takes the apostrophe off again (`validation.parse_text`),
    so a dataset written and read back is unchanged (a name that itself starts with apostrophes before
    formula-like text gets one more, so "'=x" stays "'=x"). Other CSV writers can use this too.
    """
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write beside the target and rename, so a reader never opens half a file; readable by others
    as the umask allows (mkstemp alone makes files private, and plans and reports are for sharing)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_new_file(path: Path, data: bytes) -> None:
    """Write a file that did not exist, to disk (fsync): the one place a folder's files are written."""
    with open(path, "xb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def write_folder_atomic(folder: Path, files: Mapping[str, str | bytes]) -> None:
    """Make `folder` hold exactly `files`, whole or not at all.

    Every file is written into a fresh folder beside the target; then the two folders swap
    places in one step (Linux `renameat2(RENAME_EXCHANGE)`) or, where that is missing, by two
    renames (old aside, new in; the old folder is put back if the second fails), and the old
    folder is deleted. A full disk or a crash while writing leaves the old folder as it was and
    at most a hidden `.NAME.new-*` folder beside it, never a folder mixing two versions.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.new-"))
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(fresh, 0o777 & ~mask)  # mkdtemp makes it private; a run folder is for sharing
        for name, data in files.items():
            write_new_file(fresh / name, data.encode("utf-8") if isinstance(data, str) else data)
        if not folder.exists():
            os.rename(fresh, folder)
            return
        if not _exchange(fresh, folder):
            aside = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
            os.rmdir(aside)
            os.rename(folder, aside)
            try:
                os.rename(fresh, folder)
            except BaseException:
                os.rename(aside, folder)
                raise
            fresh = aside
        shutil.rmtree(fresh, ignore_errors=True)  # now the old version
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where not supported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_current_folder, rename_exchange = -100, 2
    if renameat2(at_current_folder, os.fsencode(first), at_current_folder, os.fsencode(second), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV):
        return False  # a file system or kernel without it: the two renames will do
    raise OSError(error, os.strerror(error), str(second))
