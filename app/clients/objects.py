"""`s3://` for a worker: the submitted code, input channels and checkpoints read, the
model and output written, through boto3 against whatever S3 the worker's environment
names (`AWS_ENDPOINT_URL_S3` and the usual credential chain: AWS, MinIO, Ceph, moto).

Every method raises ObjectStoreError on any failure (S3's, the network's, the local
disk's), with a message fit to be a training job's FailureReason: it names the URI and
the cause. boto3's and the operating system's errors are translated here and nowhere else.

Downloads of input (channels and single objects) go through a cache under `cache_dir`,
one file per (endpoint, bucket, key, ETag), so a search of N runs on one worker fetches
each object once. A cached file is written whole under a temporary name and renamed into
place, so slots of one worker and workers sharing one `cache_dir` never read half a file;
two that miss the same object at the same moment both fetch it, and the last rename wins
with the same bytes. An object changed in S3 has a new ETag, so it is fetched anew. The
cache is never evicted: it grows with the distinct objects and versions fetched, and the
folder may be emptied at any time, even while jobs run (their files are copies). Temporary
files left by a killed worker start with `.partial-` or `.upload-` and may be deleted too.

A run's file (a channel's, the code archive) is a copy of the cached file, made with
`shutil.copyfile` (on Linux by sendfile, in the kernel: the bytes do not pass through
Python): the job owns it and may rewrite it. It is not a hard link, because a link is the
cached inode itself: a job could chmod it back to writable (it owns the file) and every
later run on the worker would read what it wrote. The cost is the disk space and the
copying of a channel once per run (this Python's shutil makes no reflinks). Cached files
are read-only all the same; a job run as the worker's own user can still reach the
cache folder by its path, so a worker serving tenants that must not touch each other's
input runs their jobs where the cache is not theirs (Docker, another user).
Checkpoints are not cached: the job rewrites them, so `download_folder` writes plain
files of its own.

A caller that confines a job to some S3 locations (`--s3-root`) passes `fetch_channel` a
check that sees every location the channel reads before it is requested, since a
ManifestFile's entries can name any bucket.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import boto3  # type: ignore[import-untyped]
import boto3.exceptions  # type: ignore[import-untyped]
import botocore.exceptions  # type: ignore[import-untyped]

__all__ = [
    "CHANNEL_DATA_TYPES",
    "ObjectStore",
    "ObjectStoreError",
    "S3Location",
    "channel_path",
    "parse_s3_uri",
]

# The S3DataType values `fetch_channel` reads; SageMaker's third, AugmentedManifestFile,
# exists only in Pipe mode.
CHANNEL_DATA_TYPES = ("S3Prefix", "ManifestFile")

_CHUNK_BYTES = 1 << 20

_BOTO_ERRORS = (
    botocore.exceptions.BotoCoreError,
    botocore.exceptions.ClientError,
    boto3.exceptions.Boto3Error,
)


class ObjectStoreError(Exception):
    """An S3 read or write failed; the message says which object and why."""


class S3Location(NamedTuple):
    """An `s3://bucket/key` URI taken apart; `key` may be empty (the whole bucket)."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class _Listed(NamedTuple):
    key: str
    etag: str


class _Placed(NamedTuple):
    """An object of a channel: where it is, its ETag, its path under the channel."""

    source: S3Location
    etag: str
    relative: str


def parse_s3_uri(uri: str) -> S3Location:
    """`s3://bucket/key` as its bucket and key; anything else is an ObjectStoreError."""
    scheme, separator, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme != "s3" or not separator or not bucket:
        raise ObjectStoreError(f"{uri!r} is not an S3 URI (s3://bucket/key)")
    return S3Location(bucket, key)


def channel_path(prefix: str, key: str) -> str:
    """Where SageMaker's File mode puts the object `key` of an `S3Prefix` channel whose
    prefix is `prefix`, relative to the channel's folder (/opt/ml/input/data/<channel>).

    A prefix ending in "/", or one the key continues with "/", names a folder: the key
    below it (`data/` or `data` with `data/a/b.csv` gives `a/b.csv`). Otherwise the prefix
    ends inside a name, and the object keeps that name: the key from the prefix's last "/"
    on (`data/train` with `data/train-1.csv` gives `train-1.csv`, and the prefix naming the
    object itself, `data/x.csv`, gives `x.csv`). That is what SageMaker's training
    instances do (the SDK's local mode differs, aws/sagemaker-python-sdk#3612).
    """
    rest = key[len(prefix) :]
    if not prefix or prefix.endswith("/"):
        return rest
    if rest.startswith("/"):
        return rest[1:]
    return key[prefix.rfind("/") + 1 :]


class ObjectStore:
    """One worker's S3 client, with downloads cached by ETag under `cache_dir`.

    Safe to share between threads (a worker's slots): the boto3 client is made once, on
    first use, under a lock, and boto3 clients are thread-safe. See the module's
    docstring for the cache's rules.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._client: Any = None
        self._client_lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 S3 client, made from the environment on first use."""
        with self._client_lock:
            if self._client is None:
                with _translated("S3 client", "could not be created"):
                    self._client = boto3.session.Session().client("s3")
            return self._client

    def fetch_channel(
        self,
        uri: str,
        dest: Path,
        data_type: str = "S3Prefix",
        *,
        check: Callable[[str], object] | None = None,
    ) -> Path:
        """Download an input channel into the folder `dest` as SageMaker's File mode does;
        returns `dest`.

        `S3Prefix`: every object whose key starts with the prefix, placed by
        `channel_path` (keys ending in "/" are folder markers and make no file).
        `ManifestFile`: `uri` is a JSON list `[{"prefix": "s3://bucket/p/"}, "rel", ...]`;
        each object prefix+rel is placed at `dest/rel`.

        `check`, where given, is called with every `s3://bucket/key` location the channel
        reads, before any request for it: the prefix before it is listed, the manifest
        before it is read, each object (listed, or named by the manifest) before the first
        object is requested. What it raises is raised unchanged, so the caller's own error
        (a training job's Unrunnable, say) says why.

        Raises:
            ObjectStoreError: no object under the prefix, a manifest that is not one,
                a key that would land outside `dest` (absolute, or with ".."),
                `AugmentedManifestFile` or another type, or any S3 or disk failure.
        """
        check = check or _anywhere
        if data_type == "S3Prefix":
            placed = self._prefix_objects(uri, check)
        elif data_type == "ManifestFile":
            placed = self._manifest_objects(uri, check)
        elif data_type == "AugmentedManifestFile":
            raise ObjectStoreError(
                f"S3DataType AugmentedManifestFile ({uri}) is not supported: SageMaker "
                "reads it only in Pipe mode, and this worker runs File mode"
            )
        else:
            raise ObjectStoreError(f"S3DataType {data_type!r} ({uri}) is not supported")
        # Every path is checked before the first file is written, so a refused key leaves
        # no half-fetched channel behind.
        targets = [(item, _inside(dest, item.relative, uri)) for item in placed]
        with _translated(uri, "could not be written to disk"):
            dest.mkdir(parents=True, exist_ok=True)
        for item, target in targets:
            self._place(item.source, item.etag, target)
        return dest

    def fetch_object(self, uri: str, dest: Path) -> Path:
        """Download one object (a `sourcedir.tar.gz`, say) to the file `dest`; returns
        `dest`, a copy of the cached file.

        Raises:
            ObjectStoreError: the URI names no object, or any S3 or disk failure.
        """
        source = _object_location(uri)
        with _translated(uri, "could not be read"):
            etag = self.client.head_object(Bucket=source.bucket, Key=source.key)["ETag"]
        self._place(source, etag, dest)
        return dest

    def upload_archive(self, folder: Path, uri: str) -> None:
        """Write the folder's contents as a gzipped tar at `uri` (model.tar.gz).

        Members are relative to the folder (`model.pt`, `sub/x`), as SageMaker's are; an
        empty folder makes an empty archive. The archive is built in a temporary file
        under `cache_dir`, not in memory.
        """
        target = _object_location(uri)
        with _translated(uri, "could not be written"), self._scratch(".upload-") as archive:
            with tarfile.open(archive, "w:gz") as tar:
                for entry in sorted(folder.iterdir()):
                    tar.add(entry, arcname=entry.name)
            self.client.upload_file(str(archive), target.bucket, target.key)

    def upload_folder(self, folder: Path, uri: str) -> None:
        """Write each file under `folder` to `uri/<relative path>` (checkpoints).

        Objects for files the folder no longer holds are left in place, as SageMaker's
        checkpoint upload leaves them; symbolic links are not followed, nor uploaded.
        """
        location = parse_s3_uri(uri)
        base = _folder_key(location.key)
        with _translated(uri, "could not be written"):
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "no such folder", str(folder))
            for path in sorted(folder.rglob("*")):
                # A link's target is not the job's to publish (the worker's own files).
                if path.is_file() and not path.is_symlink():
                    key = base + path.relative_to(folder).as_posix()
                    self.client.upload_file(str(path), location.bucket, key)

    def download_folder(self, uri: str, dest: Path) -> None:
        """Every object under the prefix `uri`, to `dest/<relative key>` (checkpoints).

        `uri` names a folder whether or not it ends in "/" (`s3://b/ckpt` is read as
        `s3://b/ckpt/`, so `ckpt-old/` is not taken); none there is no error (a first run
        has no checkpoints). The files are the job's own to rewrite: not the cache's.
        """
        location = parse_s3_uri(uri)
        base = _folder_key(location.key)
        with _translated(uri, "could not be read"):
            dest.mkdir(parents=True, exist_ok=True)
            for listed in self._list(location.bucket, base):
                if listed.key.endswith("/"):
                    continue
                target = _inside(dest, listed.key[len(base) :], uri)
                source = S3Location(location.bucket, listed.key)
                self._download(source, listed.etag, target, read_only=False)

    def _prefix_objects(self, uri: str, check: Callable[[str], object]) -> list[_Placed]:
        """The objects of an S3Prefix channel, each passed by `check`."""
        location = parse_s3_uri(uri)
        check(uri)
        with _translated(uri, "could not be listed"):
            listed = list(self._list(location.bucket, location.key))
        if not listed:
            raise ObjectStoreError(
                f'No S3 objects found under S3 URL "{uri}" given in input data source. '
                "Please ensure that the bucket exists and that objects exist under that "
                "S3 prefix."
            )
        objects = [
            _Placed(
                S3Location(location.bucket, item.key),
                item.etag,
                channel_path(location.key, item.key),
            )
            for item in listed
            if not item.key.endswith("/")
        ]
        # A listed key lies under the prefix as text, but may still hold "..", which a
        # store or proxy that normalises paths would read elsewhere: the check decides.
        for item in objects:
            check(str(item.source))
        return objects

    def _manifest_objects(self, uri: str, check: Callable[[str], object]) -> list[_Placed]:
        """The objects a ManifestFile lists, each at its relative key; the manifest and
        every object it names pass `check` before any of them is requested."""
        manifest = _object_location(uri)
        check(uri)
        with _translated(uri, "could not be read"):
            body = self.client.get_object(Bucket=manifest.bucket, Key=manifest.key)["Body"]
            text = body.read()
        prefix, relatives = _parse_manifest(text, uri)
        sources = []
        for relative in relatives:
            _relative_parts(relative, uri)  # refused before any request is made for it
            source = S3Location(prefix.bucket, prefix.key + relative)
            # The manifest's prefix is the tenant's text: any bucket, any folder.
            check(str(source))
            sources.append((source, relative))
        objects = []
        for source, relative in sources:
            with _translated(str(source), f"(listed in manifest {uri}) could not be read"):
                etag = self.client.head_object(Bucket=source.bucket, Key=source.key)["ETag"]
            objects.append(_Placed(source, etag, relative))
        return objects

    def _list(self, bucket: str, prefix: str) -> Iterator[_Listed]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                yield _Listed(item["Key"], item["ETag"])

    def _place(self, source: S3Location, etag: str, target: Path) -> None:
        """Copy the cached file of `source` at `etag` to `target`, fetching it on a miss."""
        cached = self._cache_path(source, etag)
        with _translated(str(source), "could not be written to disk"):
            target.parent.mkdir(parents=True, exist_ok=True)
            for attempt in (1, 2):
                if not cached.exists():
                    self._download(source, etag, cached, read_only=True)
                try:
                    _copy_out(cached, target)
                    return
                except FileNotFoundError:
                    # The cache was emptied between the fetch and the copy: once more.
                    if attempt == 2:
                        raise

    def _download(self, source: S3Location, etag: str, target: Path, *, read_only: bool) -> None:
        """GET `source` into `target`, whole or not at all (temporary file, then rename).

        `If-Match` makes an object changed since it was listed a failure rather than new
        bytes filed under the old ETag.
        """
        with _translated(str(source), "could not be read"):
            target.parent.mkdir(parents=True, exist_ok=True)
            with _temporary(target.parent, ".partial-") as partial:
                response = self.client.get_object(
                    Bucket=source.bucket, Key=source.key, IfMatch=etag
                )
                with partial.open("wb") as file:
                    _copy_stream(response["Body"].read, file.write)
                if read_only:
                    partial.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
                os.replace(partial, target)

    def _cache_path(self, source: S3Location, etag: str) -> Path:
        endpoint = self.client.meta.endpoint_url
        identity = json.dumps([endpoint, source.bucket, source.key, etag])
        digest = hashlib.sha256(identity.encode()).hexdigest()
        return self.cache_dir / "objects" / digest[:2] / digest

    @contextmanager
    def _scratch(self, prefix: str) -> Iterator[Path]:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with _temporary(self.cache_dir, prefix) as path:
            yield path


@contextmanager
def _translated(uri: str, what: str) -> Iterator[None]:
    """Turn boto3's and the disk's errors into ObjectStoreError: "<uri> <what>: <cause>"."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        raise ObjectStoreError(f"{uri} {what}: {_client_error_cause(exc)}") from exc
    except _BOTO_ERRORS as exc:
        raise ObjectStoreError(f"{uri} {what}: {exc}") from exc
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise ObjectStoreError(f"{uri} {what}: {exc.strerror or exc}{where}") from exc


def _client_error_cause(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    # A HEAD has no body, so S3 says only "404"; what it means is no such key or bucket.
    if code == "404":
        return "NoSuchKey: no such object (or no such bucket)"
    if code == "403":
        return "AccessDenied: Forbidden"
    return f"{code}: {message}" if message else code or str(exc)


def _object_location(uri: str) -> S3Location:
    location = parse_s3_uri(uri)
    if not location.key or location.key.endswith("/"):
        raise ObjectStoreError(f"{uri!r} names no S3 object (s3://bucket/key)")
    return location


def _folder_key(key: str) -> str:
    """A key prefix read as a folder: "" stays "", "ckpt" and "ckpt/" become "ckpt/"."""
    return key.rstrip("/") + "/" if key else ""


def _parse_manifest(text: bytes, uri: str) -> tuple[S3Location, list[str]]:
    """A ManifestFile's prefix and relative keys, or ObjectStoreError saying what is wrong."""
    shape = '[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]'
    try:
        entries = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ObjectStoreError(f"manifest {uri} is not JSON ({exc}); expected {shape}") from exc
    if (
        not isinstance(entries, list)
        or not entries
        or not isinstance(entries[0], dict)
        or not isinstance(entries[0].get("prefix"), str)
        or not all(isinstance(entry, str) for entry in entries[1:])
    ):
        raise ObjectStoreError(f"manifest {uri} is not a manifest; expected {shape}")
    if len(entries) == 1:
        raise ObjectStoreError(f"manifest {uri} lists no objects")
    return parse_s3_uri(entries[0]["prefix"]), entries[1:]


def _inside(dest: Path, relative: str, uri: str) -> Path:
    """`dest/relative`, refusing a relative path (a tenant's S3 key) that leaves `dest`."""
    return dest.joinpath(*_relative_parts(relative, uri))


def _relative_parts(relative: str, uri: str) -> tuple[str, ...]:
    parts = PurePosixPath(relative).parts
    if relative.startswith("/") or ".." in parts or not parts:
        raise ObjectStoreError(
            f"S3 key {relative!r} under {uri} would be written outside the channel's "
            'folder (an absolute path, "..", or no name); refusing it'
        )
    return parts


def _copy_out(cached: Path, target: Path) -> None:
    """`target` becomes a new file with the cached file's bytes, writable by its owner."""
    if target.is_dir() and not target.is_symlink():
        raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(target))
    # Removed first: copyfile would write through a symlink, or fail on a read-only file.
    target.unlink(missing_ok=True)
    shutil.copyfile(cached, target)


def _anywhere(location: str) -> None:
    """The check of a caller that confines a channel to no S3 locations."""


def _copy_stream(read: Callable[[int], bytes], write: Callable[[bytes], object]) -> None:
    while chunk := read(_CHUNK_BYTES):
        write(chunk)


@contextmanager
def _temporary(folder: Path, prefix: str) -> Iterator[Path]:
    """A new empty file in `folder`, removed on the way out unless renamed away."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=prefix)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
