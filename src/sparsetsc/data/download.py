"""Download UCR/UEA datasets from the tsml archive on Zenodo into the local cache.

Each dataset of the archive is one Zenodo record (the record ids come from aeon's
``aeon.datasets.tsc_datasets.tsc_zenodo``). The record's JSON lists its files with an
``md5`` (or ``sha256``) checksum; every file is downloaded, verified, and zip files are
extracted after checking every member (no absolute paths, ``..``, drive letters, links or
special files). All of it happens in a temporary folder inside the destination, which is
moved into place as ``<dest_root>/<Name>/`` in one atomic rename only when everything has
been verified: a failed or interrupted download leaves nothing behind.

Environment variables
---------------------
``SPARSETSC_CACHE``
    The dataset cache folder (default: ``platformdirs.user_cache_dir("sparsetsc")/datasets``).
``SPARSETSC_ARCHIVE_URL``
    Base URL of the record API (default :data:`ZENODO_API_URL`), e.g. for a mirror.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

import platformdirs
from aeon.datasets.tsc_datasets import tsc_zenodo

from .._files import follow_umask
from .._progress import progress_bar

__all__ = [
    "ARCHIVE_URL_ENV",
    "CACHE_ENV",
    "ZENODO_API_URL",
    "DownloadError",
    "archive_name",
    "cache_dir",
    "download_dataset",
]

#: Base URL of Zenodo's record API; a record's JSON is at ``f"{ZENODO_API_URL}/{record_id}"``.
ZENODO_API_URL = "https://zenodo.org/api/records"
#: Environment variable overriding :data:`ZENODO_API_URL`.
ARCHIVE_URL_ENV = "SPARSETSC_ARCHIVE_URL"
#: Environment variable overriding the cache folder.
CACHE_ENV = "SPARSETSC_CACHE"

#: Largest total size a downloaded zip may unpack to (the biggest tsml archives are a few GB).
MAX_EXTRACTED_BYTES = 16 * 2**30
_USER_AGENT = "sparsetsc (dataset download)"
_CHUNK_SIZE = 1 << 20
_CHECKSUM_ALGORITHMS = ("md5", "sha256")
_FILE_TYPE_MASK = 0o170000
_REGULAR_FILE, _DIRECTORY, _SYMLINK = 0o100000, 0o040000, 0o120000


class DownloadError(ValueError):
    """A dataset could not be downloaded; the message names the URL and the reason.

    A subclass of ``ValueError`` (as aeon's own download errors are), so one
    ``except ValueError`` handles every dataset problem.
    """


def cache_dir() -> Path:
    """The folder where downloaded datasets are kept.

    Returns
    -------
    pathlib.Path
        ``$SPARSETSC_CACHE`` if set, else ``platformdirs.user_cache_dir("sparsetsc")``
        followed by ``datasets``. It may not exist yet; it is created on first download.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("sparsetsc")) / "datasets"


def archive_name(name: str) -> str | None:
    """The archive's spelling of a dataset name, or ``None`` if the archive lacks it.

    Parameters
    ----------
    name : str
        Dataset name, matched exactly first, then ignoring case.

    Returns
    -------
    str or None
        The key of ``tsc_zenodo`` that ``name`` refers to.
    """
    if name in tsc_zenodo:
        return name
    by_lower = {key.lower(): key for key in tsc_zenodo}
    return by_lower.get(name.lower())


def _check_plain_name(value: str, what: str) -> None:
    # Names become file and folder names inside the destination: no way out of it.
    if (
        not value
        or value in (".", "..")
        or "/" in value
        or "\\" in value
        or "\x00" in value
        or re.match(r"^[A-Za-z]:", value)
    ):
        raise DownloadError(f"refusing unsafe {what} {value!r}")


def _open_url(url: str, timeout: float) -> http.client.HTTPResponse:
    if urlparse(url).scheme not in ("http", "https"):
        raise DownloadError(f"refusing to download {url!r}: only http and https URLs are used")
    request = Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        return urlopen(request, timeout=timeout)
    except HTTPError as err:
        raise DownloadError(f"could not download {url}: HTTP {err.code} {err.reason}") from err
    except (URLError, OSError, http.client.HTTPException) as err:
        reason = err.reason if isinstance(err, URLError) else err
        raise DownloadError(
            f"could not download {url}: {reason}. Without a network, point --data-root (root= "
            "in Python, or $SPARSETSC_DATA) at a folder holding the dataset's <Name>/ folder, "
            "or give the path of the dataset's files"
        ) from err


def _fetch_record(url: str, timeout: float) -> list[dict[str, Any]]:
    with _open_url(url, timeout) as response:
        try:
            body = response.read()
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(f"could not download {url}: {err}") from err
    try:
        record = json.loads(body)
    except ValueError as err:
        raise DownloadError(f"the record at {url} is not valid JSON: {err}") from err
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, list) or not files:
        raise DownloadError(f"the record at {url} lists no files")
    return files


def _download_file(
    url: str, target: Path, checksum: str, size: int | None, timeout: float, progress: bool
) -> None:
    algorithm, _, expected = checksum.partition(":")
    if algorithm.lower() not in _CHECKSUM_ALGORITHMS or not expected:
        raise DownloadError(
            f"cannot verify {url}: unsupported checksum {checksum!r} (expected md5:<hex> or "
            "sha256:<hex>)"
        )
    digest = hashlib.new(algorithm.lower(), usedforsecurity=False)
    received = 0
    with _open_url(url, timeout) as response:
        header = response.headers.get("Content-Length", "")
        declared = int(header) if header.strip().isdigit() else None
        bar = progress_bar(
            total=size if size is not None else declared,
            unit="B",
            unit_scale=True,
            desc=target.name,
            file=sys.stderr,
            disable=not progress,
            leave=False,
        )
        try:
            with open(target, "wb") as out:
                while chunk := response.read(_CHUNK_SIZE):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(f"download of {url} failed after {received} bytes: {err}") from err
        finally:
            bar.close()
    # urllib does not notice a connection that closes early: compare the byte counts.
    if declared is not None and received != declared:
        raise DownloadError(
            f"download of {url} was interrupted: received {received} of {declared} bytes"
        )
    if size is not None and received != size:
        raise DownloadError(
            f"download of {url} has the wrong size: received {received} bytes, the record "
            f"says {size}"
        )
    if digest.hexdigest() != expected.lower():
        raise DownloadError(
            f"checksum mismatch for {url}: expected {algorithm}:{expected}, got "
            f"{algorithm}:{digest.hexdigest()}"
        )


def _member_parts(info: zipfile.ZipInfo, url: str) -> list[str]:
    """The path components of a zip member, after refusing anything unsafe."""
    name = info.filename
    normalized = name.replace("\\", "/")
    reason = None
    file_type = (info.external_attr >> 16) & _FILE_TYPE_MASK
    parts = [part for part in normalized.split("/") if part not in ("", ".")]
    if normalized.startswith("/"):
        reason = "absolute path"
    elif re.match(r"^[A-Za-z]:", normalized):
        reason = "drive letter"
    elif ".." in parts:
        reason = "'..' in path"
    elif not parts:
        reason = "empty path"
    elif file_type == _SYMLINK:
        reason = "symbolic link"
    elif file_type not in (0, _REGULAR_FILE, _DIRECTORY):  # 0: no Unix mode recorded
        reason = "not a regular file or directory"
    if reason is not None:
        raise DownloadError(f"unsafe member {name!r} in the zip file from {url}: {reason}")
    return parts


def _extract_zip(archive: Path, dest: Path, url: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            # Check every member before writing any, so a bad zip writes nothing.
            checked = [(info, _member_parts(info, url)) for info in members]
            # A zip bomb is refused from its declared sizes; zipfile stops reading a member
            # at its declared size and then checks its CRC, so the sizes cannot lie.
            unpacked = sum(info.file_size for info in members)
            if unpacked > MAX_EXTRACTED_BYTES:
                raise DownloadError(
                    f"the zip file from {url} would unpack to {unpacked:,} bytes, more than "
                    f"the limit of {MAX_EXTRACTED_BYTES:,} (sparsetsc.data.download."
                    "MAX_EXTRACTED_BYTES)"
                )
            for info, parts in checked:
                target = dest.joinpath(*parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                # Reading each member to its end makes zipfile verify its CRC-32.
                with zipped.open(info) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK_SIZE)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as err:
        raise DownloadError(f"the zip file from {url} is damaged or unsupported: {err}") from err


def _dataset_folder(root: Path, name: str) -> Path | None:
    """The shallowest folder under ``root`` holding ``<name>_TRAIN`` and ``<name>_TEST``."""
    stem = name.lower()
    wanted = {f"{stem}_{split}{ext}" for split in ("train", "test") for ext in (".ts", ".tsv")}
    found: dict[Path, set[str]] = {}
    for path in root.rglob("*"):
        if path.is_file() and path.name.lower() in wanted:
            split = "train" if path.name.lower().startswith(f"{stem}_train.") else "test"
            found.setdefault(path.parent, set()).add(split)
    complete = [folder for folder, splits in found.items() if splits == {"train", "test"}]
    return min(complete, key=lambda folder: (len(folder.parts), str(folder)), default=None)


def download_dataset(
    name: str,
    dest_root: str | os.PathLike[str] | None = None,
    *,
    api_url: str | None = None,
    record_id: int | str | None = None,
    timeout: float = 60,
    progress: bool = False,
) -> Path:
    """Download a dataset of the tsml archive on Zenodo into ``<dest_root>/<Name>/``.

    Nothing is downloaded if ``<dest_root>/<Name>/`` already exists. Otherwise every file of
    the dataset's Zenodo record is downloaded and checked against its checksum, zip files
    are safely extracted, and the folder holding ``<Name>_TRAIN`` and ``<Name>_TEST``
    (``.ts`` or ``.tsv``) is moved into place atomically. On any failure nothing is left in
    ``dest_root``; if another process put ``<Name>/`` there in the meantime, theirs is kept.
    Prints nothing, unless ``progress=True``.

    Parameters
    ----------
    name : str
        Dataset name, e.g. ``"Coffee"``; matched to the archive's spelling ignoring case.
    dest_root : path, optional
        Destination folder (created if needed). Default: :func:`cache_dir`.
    api_url : str, optional
        Base URL of the record API. Default: ``$SPARSETSC_ARCHIVE_URL`` if set, else
        :data:`ZENODO_API_URL`. The record JSON is read from ``f"{api_url}/{record_id}"``.
    record_id : int or str, optional
        Zenodo record to download; by default the one aeon's ``tsc_zenodo`` gives for
        ``name``. With an explicit record, ``name`` need not be an archive name.
    timeout : float, default=60
        Seconds to wait for the server on each connection or read.
    progress : bool, default=False
        Show a progress bar on stderr.

    Returns
    -------
    pathlib.Path
        The dataset folder ``<dest_root>/<Name>``.

    Raises
    ------
    ValueError
        If ``name`` is not in the archive and no ``record_id`` is given.
    DownloadError
        If the record or a file cannot be downloaded, is incomplete, fails its checksum, is
        an unsafe or damaged zip file, or the record does not hold the dataset's files.
    """
    if record_id is None:
        known = archive_name(name)
        if known is None:
            raise ValueError(
                f"{name!r} is not a dataset of the UCR/UEA archive; see "
                "sparsetsc.data.archive_datasets() for the names that can be downloaded"
            )
        name, record_id = known, tsc_zenodo[known]
    _check_plain_name(name, "dataset name")
    dest = Path(dest_root).expanduser() if dest_root is not None else cache_dir()
    target = dest / name
    if target.is_dir():
        return target
    base_url = api_url or os.environ.get(ARCHIVE_URL_ENV) or ZENODO_API_URL
    record_url = f"{base_url.rstrip('/')}/{record_id}"

    dest.mkdir(parents=True, exist_ok=True)
    # Hidden and inside dest: dataset listings skip it, and the final rename stays on one
    # filesystem, so it is atomic.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.download-", dir=dest))
    try:
        downloads, unzipped = staging / "files", staging / "unzipped"
        downloads.mkdir()
        for index, entry in enumerate(_fetch_record(record_url, timeout)):
            filename = entry.get("key") or entry.get("filename")
            links = entry.get("links") or {}
            url = links.get("self") or links.get("download")
            checksum = entry.get("checksum")
            if not filename or not url or not checksum:
                raise DownloadError(
                    f"the record at {record_url} has a file entry without a name, link or "
                    f"checksum: {entry}"
                )
            _check_plain_name(filename, f"file name in the record at {record_url}:")
            path = downloads / filename
            _download_file(url, path, checksum, entry.get("size"), timeout, progress)
            if path.suffix.lower() == ".zip":
                # Each zip gets its own folder, so no member can overwrite a download.
                _extract_zip(path, unzipped / str(index), url)
                path.unlink()
        folder = _dataset_folder(staging, name)
        if folder is None:
            found = sorted(p.name for p in staging.rglob("*") if p.is_file())
            raise DownloadError(
                f"the record at {record_url} does not hold {name}_TRAIN and {name}_TEST "
                f"(.ts or .tsv); it holds: {found}"
            )
        follow_umask(folder)  # parts of it may sit in mkdtemp's private folder
        try:
            os.replace(folder, target)
        except OSError:
            if not target.is_dir():  # not the "another process was first" case
                raise
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
