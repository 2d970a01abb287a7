"""What of the worker's disk and S3 a training job may use: its `--data-root` folders,
its `--s3-root` locations, and the bounds a `sourcedir.tar.gz` is unpacked within.

A training job is a tenant's text, and the worker's disk is not the tenant's: a local path
it names (a `file://` input channel, a `sagemaker_submit_directory` folder, `file://` URL or
archive) is used only if it resolves, symlinks and `..` followed, inside a folder the
worker shares (`Sharing.data_roots`; none by default). A channel is the tenant's data and
the submit directory its code, so both follow one rule.

S3 is read and written with the worker's own credentials, which stand where SageMaker has
the job's RoleArn: a training job may name any location they reach, unless the worker is
told which (`Sharing.s3_roots`), as a worker that serves several tenants should be.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from app.clients.training_job import Unrunnable

__all__ = ["Sharing", "check_s3_location", "s3_root", "shared_path", "unpack_source"]


@dataclass(frozen=True)
class Sharing:
    """What of the worker's disk a training job may use.

    `data_roots`: folders (resolved, symlinks followed) under which `file://` channels
    and a local `sagemaker_submit_directory` may lie; none shares nothing.
    `max_source_bytes`, `max_source_files`: the most a `sourcedir.tar.gz` may unpack to,
    in bytes of its files and in entries, checked entry by entry as it is read.
    `s3_roots`: `s3://bucket/folder/` locations (`s3_root` writes them so) under which
    every S3 location of a job must lie: its channels, code, checkpoints and output path;
    none: wherever the worker's credentials reach.
    """

    data_roots: tuple[Path, ...] = ()
    max_source_bytes: int = 1 << 30
    max_source_files: int = 100_000
    s3_roots: tuple[str, ...] = ()


def s3_root(given: str) -> str:
    """An `--s3-root` as `s3://bucket/` or `s3://bucket/folder/`: a folder, so that
    `s3://b/team-a` does not also take `s3://b/team-ab`.

    Raises: ValueError, for what is no `s3://bucket[/folder]`.
    """
    scheme, separator, rest = given.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme != "s3" or not separator or not bucket:
        raise ValueError(f"{given!r} is not an S3 location (s3://bucket or s3://bucket/folder)")
    key = key if not key or key.endswith("/") else f"{key}/"
    return f"s3://{bucket}/{key}"


def check_s3_location(what: str, uri: str, sharing: Sharing, *, folder: bool = False) -> None:
    """Refuse an S3 location outside the worker's `s3_roots` (where it has any).

    `uri` is compared as text with each root, a folder ending in "/". How it is read:
    - an object (code, a manifest) or an S3Prefix channel's prefix, `folder` False: as
      given. A prefix equal to a root without its slash (`s3://b/team-a` for the root
      `s3://b/team-a/`) is refused, because listing it also takes `s3://b/team-ab/...`.
      Every object a prefix inside a root lists then lies under the root too.
    - a folder (a checkpoint prefix, an output path), `folder` True: with one "/" at its
      end, as `ObjectStore.download_folder`, `upload_folder` and the worker's output
      paths read it, so `s3://b/team-a` is the root `s3://b/team-a/` itself.
    `s3://bucket` alone is the bucket's root either way.

    A location with a "." or ".." segment (`s3://b/team-a/../team-b/x`) is refused
    whatever follows: it lies under the root as text, but an S3-compatible store or a
    proxy that normalises paths would read it elsewhere. Without roots the worker's
    credentials may reach any location anyway, and nothing is refused.

    Raises:
        Unrunnable: it lies outside every root, or has a "." or ".." segment.
    """
    if not sharing.s3_roots:
        return
    roots = ", ".join(sharing.s3_roots)
    if any(segment in (".", "..") for segment in uri.removeprefix("s3://").split("/")):
        raise Unrunnable(
            f"{what} {uri!r} has a '.' or '..' segment, which an S3 store that normalises "
            f"paths would read outside its folder; this worker serves only locations "
            f"inside its --s3-root locations ({roots})"
        )
    location = uri if uri.startswith("s3://") and uri.count("/") >= 3 else f"{uri}/"
    if folder:
        location = location.rstrip("/") + "/"
    if any(location.startswith(root) for root in sharing.s3_roots):
        return
    raise Unrunnable(
        f"{what} {uri!r} is outside the S3 locations this worker serves (its --s3-root "
        f"locations: {roots})"
    )


def shared_path(what: str, given: str, sharing: Sharing) -> Path:
    """The folder or file `given` (a `file://` URL or a path) names, symlinks and `..`
    resolved, if it lies inside one of the worker's data roots.

    Raises:
        Unrunnable: it is not a local path, does not exist, or is not shared.
    """
    if given.startswith("file:"):
        url = urlparse(given)
        if url.netloc not in ("", "localhost"):
            raise Unrunnable(f"{what} {given!r} names host {url.netloc!r}: only local paths")
        text = unquote(url.path)
    else:
        text = given
    try:
        found = Path(text).resolve()
        if any(found.is_relative_to(root.resolve()) for root in sharing.data_roots):
            # strict, once inside: a path that does not exist yet could be made later, or
            # by docker -v (as root), somewhere no check saw.
            return found.resolve(strict=True)
    except (OSError, ValueError, RuntimeError) as exc:  # missing, NUL, symlink loop
        raise Unrunnable(f"{what} {given!r} cannot be read on this worker: {exc}") from exc
    # Said the same whether the path exists or not: a tenant learns nothing of the disk.
    shared = ", ".join(str(root) for root in sharing.data_roots) or "none"
    raise Unrunnable(
        f"{what} {given!r} is {str(found)!r}, outside the folders this worker shares "
        f"(its --data-root folders: {shared})"
    )


def unpack_source(archive: Path, code: Path, sharing: Sharing) -> None:
    """Extract a `sourcedir.tar.gz` into `code`, entry by entry, within the bounds.

    Only files and folders are unpacked: an entry of any other kind (a symbolic or hard
    link, a device, a FIFO) is refused before it is written, and the run fails naming it.
    Links are refused although tarfile's "data" filter checks where they lead, because
    this Python's filter lacks the fixes of CVE-2024-12718 and CVE-2025-4138/4330/4517
    (a chain of links writes outside the folder); code sent by the SageMaker SDK holds
    none unless its source_dir did. The filter still refuses absolute names and `..`.

    Each entry's size is read from its header before its bytes are, so an archive that
    would unpack to more than `max_source_bytes`, or hold more than `max_source_files`
    entries, is refused having written at most the bound.

    Raises:
        Unrunnable: over a bound, or an entry neither file nor folder.
        tarfile.TarError, OSError: a broken archive.
    """
    code.mkdir(parents=True)
    files = size = 0
    with tarfile.open(archive) as tar:
        for entry in tar:  # reads one header at a time, as the entries are extracted
            files += 1
            size += entry.size if entry.isreg() else 0
            if files > sharing.max_source_files:
                raise Unrunnable(
                    f"sagemaker_submit_directory {str(archive)!r} holds more than "
                    f"{sharing.max_source_files} entries (this worker's --max-source-files)"
                )
            if size > sharing.max_source_bytes:
                raise Unrunnable(
                    f"sagemaker_submit_directory {str(archive)!r} unpacks to more than "
                    f"{sharing.max_source_bytes} bytes (this worker's --max-source-bytes)"
                )
            if not (entry.isreg() or entry.isdir()):
                raise Unrunnable(
                    f"sagemaker_submit_directory {str(archive)!r} holds "
                    f"{_kind(entry)}: this worker unpacks only files and folders from it"
                )
            tar.extract(entry, code, filter="data")


def _kind(entry: tarfile.TarInfo) -> str:
    """An entry that is neither file nor folder, in words: its kind, name and target."""
    if entry.issym():
        return f"a symbolic link, {entry.name!r} (to {entry.linkname!r})"
    if entry.islnk():
        return f"a hard link, {entry.name!r} (to {entry.linkname!r})"
    if entry.isdev():
        return f"a device or FIFO, {entry.name!r}"
    return f"{entry.name!r}, of tar type {entry.type!r}"
