"""Writing files others open: whole or not at all, and text a spreadsheet will not run as a formula."""

from __future__ import annotations

import os
import tempfile
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
