"""`s3://` for a worker: the submitted code, input channels and checkpoints read, the
model and output written, through boto3 against whatever S3 the worker's environment
names (`AWS_ENDPOINT_URL_S3` and the usual credential chain: AWS, MinIO, Ceph, moto).

INTERFACE ONLY: being written (issue 25). Every method raises ObjectStoreError on any
failure, with a message fit to be a training job's FailureReason.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ObjectStore", "ObjectStoreError"]


class ObjectStoreError(Exception):
    """An S3 read or write failed; the message says which object and why."""


class ObjectStore:
    """One worker's S3 client, with downloads cached by ETag under `cache_dir`."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir

    def fetch_channel(self, uri: str, dest: Path, data_type: str = "S3Prefix") -> Path:
        """Download an input channel into the folder `dest` as SageMaker's File mode does
        (`S3Prefix`: every object under the prefix; `ManifestFile`: the objects listed);
        returns `dest`."""
        raise NotImplementedError

    def fetch_object(self, uri: str, dest: Path) -> Path:
        """Download one object (a `sourcedir.tar.gz`, say) to the file `dest`."""
        raise NotImplementedError

    def upload_archive(self, folder: Path, uri: str) -> None:
        """Write the folder's contents as a gzipped tar at `uri` (model.tar.gz)."""
        raise NotImplementedError

    def upload_folder(self, folder: Path, uri: str) -> None:
        """Write each file under `folder` to `uri/<relative path>` (checkpoints)."""
        raise NotImplementedError

    def download_folder(self, uri: str, dest: Path) -> None:
        """Every object under the prefix `uri`, to `dest/<relative key>` (checkpoints)."""
        raise NotImplementedError
