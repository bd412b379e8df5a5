"""Downloading into the cache, against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from aeon.datasets.tsc_datasets import tsc_zenodo

from sparsetsc.data.archive import list_datasets, load_dataset, load_train_test
from sparsetsc.data.download import DownloadError, download_dataset

BUNDLED_GUNPOINT = Path(__file__).resolve().parents[2] / "src/sparsetsc/data/bundled/GunPoint"
# An archive name that is not bundled, so that loading it by name goes to the server.
NAME = "Coffee"
RECORD_ID = 4242
N_TRAIN, N_TEST = 6, 4


def gunpoint_lines(split: str, n_rows: int) -> str:
    with open(BUNDLED_GUNPOINT / f"GunPoint_{split}.tsv") as handle:
        return "".join(handle.readline() for _ in range(n_rows))


TRAIN_TSV = gunpoint_lines("TRAIN", N_TRAIN).encode()
TEST_TSV = gunpoint_lines("TEST", N_TEST).encode()


@dataclass
class Route:
    """What the server answers for one path."""

    body: bytes
    status: int = 200
    extra_length: int = 0  # claim more bytes than are sent, then hang up
    before: Callable[[], None] | None = None  # run before answering


@dataclass
class Archive:
    """The served files, and how often each path was asked for."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/records"

    def publish(
        self,
        files: dict[str, bytes],
        record_id: int = RECORD_ID,
        checksums: dict[str, str] | None = None,
        algorithm: str = "md5",
    ) -> None:
        """Serve ``files`` and a record JSON listing them with their checksums."""
        entries = []
        for name, body in files.items():
            self.routes[f"/files/{name}"] = Route(body)
            digest = hashlib.new(algorithm, body).hexdigest()
            entries.append(
                {
                    "key": name,
                    "size": len(body),
                    "checksum": (checksums or {}).get(name, f"{algorithm}:{digest}"),
                    "links": {"self": f"{self.url}/files/{name}"},
                }
            )
        record = json.dumps({"id": record_id, "files": entries}).encode()
        self.routes[f"/api/records/{record_id}"] = Route(record)


class Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        archive: Archive = self.server.archive  # type: ignore[attr-defined]
        archive.hits[self.path] += 1
        route = archive.routes.get(self.path, Route(b"not found", status=404))
        if route.before is not None:
            route.before()
        self.send_response(route.status)
        self.send_header("Content-Length", str(len(route.body) + route.extra_length))
        self.end_headers()
        self.wfile.write(route.body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="module")
def httpd() -> Iterator[ThreadingHTTPServer]:
    """A local HTTP server (127.0.0.1, a free port) running in a thread for this module."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server(httpd: ThreadingHTTPServer) -> Archive:
    """The local server with nothing published yet."""
    archive = Archive(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.archive = archive  # type: ignore[attr-defined]
    return archive


def make_zip(members: dict[str, bytes], special: dict[str, int] | None = None) -> bytes:
    """A zip of ``members``; ``special`` gives Unix file-type bits (symlink, fifo) by name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, body in members.items():
            info = zipfile.ZipInfo(name)
            mode = (special or {}).get(name, 0o100644)
            info.external_attr = mode << 16
            zipped.writestr(info, body)
    return buffer.getvalue()


def dataset_zip(prefix: str = f"{NAME}/") -> bytes:
    return make_zip({f"{prefix}{NAME}_TRAIN.tsv": TRAIN_TSV, f"{prefix}{NAME}_TEST.tsv": TEST_TSV})


def assert_nothing_left(dest: Path) -> None:
    """No dataset folder and no temporary folder in ``dest``."""
    assert not dest.exists() or list(dest.iterdir()) == []


# ---------------------------------------------------------------------------- success
def test_download_then_load(
    server: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.publish({f"{NAME}.zip": dataset_zip()})
    dest = tmp_path / "datasets"
    folder = download_dataset(NAME, dest, api_url=server.api_url, record_id=RECORD_ID)
    assert folder == dest / NAME
    assert sorted(p.name for p in dest.iterdir()) == [NAME]  # no temporary folder left
    assert sorted(p.name for p in folder.iterdir()) == [f"{NAME}_TEST.tsv", f"{NAME}_TRAIN.tsv"]
    assert (folder / f"{NAME}_TRAIN.tsv").read_bytes() == TRAIN_TSV
    X, y = load_dataset(NAME, root=dest, download=False)
    expected, expected_y = load_dataset(BUNDLED_GUNPOINT / "GunPoint_TRAIN.tsv")
    np.testing.assert_array_equal(X, expected[:N_TRAIN])
    np.testing.assert_array_equal(y, expected_y[:N_TRAIN])
    assert capsys.readouterr() == ("", "")  # prints nothing


def test_flat_files_with_sha256(server: Archive, tmp_path: Path) -> None:
    # Zenodo records of the tsml archive list the split files themselves.
    server.publish(
        {f"{NAME}_TRAIN.tsv": TRAIN_TSV, f"{NAME}_TEST.tsv": TEST_TSV, "README.txt": b"hi"},
        algorithm="sha256",
    )
    folder = download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert (folder / f"{NAME}_TEST.tsv").read_bytes() == TEST_TSV
    assert (folder / "README.txt").is_file()


def test_load_downloads_into_the_cache_once(
    server: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_data_env: Path
) -> None:
    record_id = tsc_zenodo[NAME]
    server.publish({f"{NAME}.zip": dataset_zip(prefix="")}, record_id=record_id)
    monkeypatch.setenv("SPARSETSC_ARCHIVE_URL", server.api_url)
    empty_root = tmp_path / "root"
    empty_root.mkdir()
    X_train, _, X_test, _ = load_train_test(NAME.lower(), root=empty_root)
    assert X_train.shape == (N_TRAIN, 1, 150) and X_test.shape == (N_TEST, 1, 150)
    assert (isolated_data_env / NAME / f"{NAME}_TRAIN.tsv").is_file()
    assert server.hits == {f"/api/records/{record_id}": 1, f"/files/{NAME}.zip": 1}
    load_dataset(NAME, "test", root=empty_root)
    assert NAME in list_datasets(empty_root)
    assert sum(server.hits.values()) == 2  # the cached copy is used


def test_variant_downloads_its_dataset(
    server: Archive, monkeypatch: pytest.MonkeyPatch, isolated_data_env: Path
) -> None:
    short_train = gunpoint_lines("TRAIN", 2).encode()
    server.publish(
        {
            f"{NAME}_TRAIN.tsv": TRAIN_TSV,
            f"{NAME}_TEST.tsv": TEST_TSV,
            f"{NAME}_eq_TRAIN.tsv": short_train,
            f"{NAME}_eq_TEST.tsv": short_train,
        },
        record_id=tsc_zenodo[NAME],
    )
    monkeypatch.setenv("SPARSETSC_ARCHIVE_URL", server.api_url)
    X, _ = load_dataset(f"{NAME}_eq")
    assert X.shape == (2, 1, 150)
    assert (isolated_data_env / NAME / f"{NAME}_eq_TEST.tsv").is_file()


def test_progress_bar_goes_to_stderr(
    server: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.publish({f"{NAME}.zip": dataset_zip()})
    download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and f"{NAME}.zip" in captured.err


def test_existing_folder_is_not_downloaded_again(server: Archive, tmp_path: Path) -> None:
    (tmp_path / NAME).mkdir()
    (tmp_path / NAME / "marker").write_text("mine")
    server.publish({f"{NAME}.zip": dataset_zip()})
    assert download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID) == (
        tmp_path / NAME
    )
    assert sum(server.hits.values()) == 0


def test_folder_created_meanwhile_is_kept(server: Archive, tmp_path: Path) -> None:
    def other_process_finishes_first() -> None:
        (tmp_path / NAME).mkdir()
        (tmp_path / NAME / "marker").write_text("theirs")

    server.publish({f"{NAME}.zip": dataset_zip()})
    server.routes[f"/files/{NAME}.zip"].before = other_process_finishes_first
    folder = download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert sorted(p.name for p in folder.iterdir()) == ["marker"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [NAME]


# ---------------------------------------------------------------------------- failures
def test_checksum_mismatch(server: Archive, tmp_path: Path) -> None:
    server.publish({f"{NAME}.zip": dataset_zip()}, checksums={f"{NAME}.zip": "md5:" + "0" * 32})
    dest = tmp_path / "datasets"
    with pytest.raises(DownloadError, match=f"checksum mismatch for {server.url}/files/"):
        download_dataset(NAME, dest, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(dest)


def test_interrupted_download(server: Archive, tmp_path: Path) -> None:
    server.publish({f"{NAME}.zip": dataset_zip()})
    server.routes[f"/files/{NAME}.zip"].extra_length = 1000
    with pytest.raises(DownloadError, match="interrupted"):
        download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID, timeout=5)
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize(
    ("member", "special", "reason"),
    [
        ("../evil.txt", None, r"'\.\.' in path"),
        (f"{NAME}/../../evil.txt", None, r"'\.\.' in path"),
        ("{tmp}/evil.txt", None, "absolute path"),
        ("C:\\evil.txt", None, "drive letter"),
        (f"{NAME}/link", 0o120777, "symbolic link"),
        (f"{NAME}/fifo", 0o010644, "not a regular file or directory"),
    ],
    ids=["parent", "nested-parent", "absolute", "drive", "symlink", "fifo"],
)
def test_unsafe_zip_members_are_refused(
    server: Archive, tmp_path: Path, member: str, special: int | None, reason: str
) -> None:
    member = member.format(tmp=tmp_path)  # an absolute path inside this test's folder
    members = {f"{NAME}/{NAME}_TRAIN.tsv": TRAIN_TSV, f"{NAME}/{NAME}_TEST.tsv": TEST_TSV}
    members[member] = b"/etc/passwd"
    body = make_zip(members, {member: special} if special else None)
    assert member in zipfile.ZipFile(io.BytesIO(body)).namelist()  # stored as written
    server.publish({f"{NAME}.zip": body})
    dest = tmp_path / "sandbox" / "datasets"
    with pytest.raises(DownloadError, match=reason):
        download_dataset(NAME, dest, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(dest)
    # Nothing was written anywhere in the test's folder, which all the bad paths point into.
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["datasets", "sandbox"]


def test_zip_crc_is_checked(server: Archive, tmp_path: Path) -> None:
    body = bytearray(dataset_zip())
    position = body.find(TRAIN_TSV[:20])  # stored uncompressed: corrupt the data itself
    body[position] ^= 0xFF
    server.publish({f"{NAME}.zip": bytes(body)})  # the checksum matches the corrupted zip
    with pytest.raises(DownloadError, match="damaged"):
        download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(tmp_path)


def test_zip_unpacking_beyond_the_size_limit_is_refused(
    server: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sparsetsc.data import download

    monkeypatch.setattr(download, "MAX_EXTRACTED_BYTES", len(TRAIN_TSV))  # below both files
    server.publish({f"{NAME}.zip": dataset_zip()})
    with pytest.raises(DownloadError, match="would unpack to"):
        download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(tmp_path)


def test_not_a_zip(server: Archive, tmp_path: Path) -> None:
    server.publish({f"{NAME}.zip": b"this is not a zip file"})
    with pytest.raises(DownloadError, match="damaged"):
        download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(tmp_path)


def test_record_without_the_dataset(server: Archive, tmp_path: Path) -> None:
    server.publish({"Other.zip": make_zip({"Other_TRAIN.tsv": TRAIN_TSV})})
    with pytest.raises(DownloadError, match=f"does not hold {NAME}_TRAIN"):
        download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"files": []}', "lists no files"),
        (
            b'{"files": [{"key": "../x.zip", "checksum": "md5:0", "links": {"self": "x"}}]}',
            "unsafe file name",
        ),
        (
            b'{"files": [{"key": "x.zip", "links": {"self": "http://127.0.0.1:9/x"}}]}',
            "without a name, link or checksum",
        ),
        (
            b'{"files": [{"key": "x.zip", "checksum": "crc32:00", "links": {"self": "x"}}]}',
            "unsupported checksum",
        ),
        (
            b'{"files": [{"key": "x.zip", "checksum": "md5:0", "links": {"self": "file:///x"}}]}',
            "only http and https",
        ),
    ],
    ids=["json", "no-files", "traversal", "no-checksum", "bad-algorithm", "file-url"],
)
def test_bad_records(server: Archive, tmp_path: Path, record: bytes, reason: str) -> None:
    server.routes[f"/api/records/{RECORD_ID}"] = Route(record)
    with pytest.raises(DownloadError, match=reason):
        download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(tmp_path)


def test_http_error_names_the_url(server: Archive, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=f"{server.api_url}/{RECORD_ID}: HTTP 404"):
        download_dataset(NAME, tmp_path, api_url=server.api_url, record_id=RECORD_ID)
    assert_nothing_left(tmp_path)


def test_name_outside_the_archive(server: Archive, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a dataset of the UCR/UEA archive"):
        download_dataset("NoSuchThing", tmp_path, api_url=server.api_url)
    assert sum(server.hits.values()) == 0


def test_an_unreachable_archive_says_how_to_work_offline(tmp_path: Path) -> None:
    # a closed local port: the connection is refused, as without a network
    with pytest.raises(DownloadError, match=r"Connection refused.*point --data-root") as raised:
        download_dataset(NAME, tmp_path, api_url="http://127.0.0.1:9/api/records")
    assert "$SPARSETSC_DATA" in str(raised.value)
    assert_nothing_left(tmp_path)
