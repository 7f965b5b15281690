"""A package of ``glue_scripts/`` as a zip for Glue's ``--extra-py-files``: the ``jobkit``
framework, and each data set's package with every file it holds (its SQL models too, which a
job reads with ``importlib.resources``).

Glue imports the package from the zip, so the package directory must be at the zip's root.
The zip is built in Python at synth (no Docker, no network), byte-for-byte the same for the
same sources (sorted entries, fixed timestamps and modes), so its asset hash only changes when
the code does.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16


def _sources(package_dir: Path) -> list[Path]:
    return sorted(
        path
        for path in package_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def library_zip_bytes(package_dir: Path) -> bytes:
    """The zip of ``package_dir`` with the package directory itself at the root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in _sources(package_dir):
            arcname = Path(package_dir.name, path.relative_to(package_dir)).as_posix()
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIMESTAMP)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def build_library_zip(package_dir: Path) -> Path:
    """Write the zip under the temp dir, named by its content hash; reused when unchanged.

    Concurrent synths (test workers) write to a private file first and rename it into place.
    """
    content = library_zip_bytes(package_dir)
    digest = hashlib.sha256(content).hexdigest()[:16]
    target = Path(tempfile.gettempdir(), "dataops-job-library", digest, f"{package_dir.name}.zip")
    if target.is_file() and target.read_bytes() == content:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, staging = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    Path(staging).replace(target)
    return target
