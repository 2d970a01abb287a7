"""app/clients/objects.py against moto's S3 server: literal objects in, literal files out."""

from __future__ import annotations

import io
import os
import shutil
import socket
import stat
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.clients.objects import ObjectStore, ObjectStoreError, channel_path


@pytest.fixture
def bucket(s3):
    return s3.new_bucket()


@pytest.fixture
def store(s3, tmp_path):
    return ObjectStore(tmp_path / "cache")


@pytest.fixture
def put(s3, bucket):
    """Write objects, `{key: bytes}`, into the test's bucket."""
    client = s3.client()

    def put(objects):
        for key, body in objects.items():
            client.put_object(Bucket=bucket, Key=key, Body=body)

    return put


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path relative to it."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def count_gets(store: ObjectStore) -> list[str]:
    """The keys of every GetObject the store's client sends from now on."""
    keys: list[str] = []
    store.client.meta.events.register(
        "before-parameter-build.s3.GetObject", lambda params, **_: keys.append(params["Key"])
    )
    return keys


TRAIN = {
    "data/train/a.csv": b"1,2\n",
    "data/train/sub/b.csv": b"3,4\n",
    "data/train/": b"",  # a folder marker, as the S3 console makes
    "data/train-extra.csv": b"5,6\n",
    "data/other.csv": b"7,8\n",
}


@pytest.mark.parametrize(
    ("prefix", "key", "path"),
    [
        ("data/", "data/a/b.csv", "a/b.csv"),
        ("data", "data/a/b.csv", "a/b.csv"),
        ("data/train", "data/train-1.csv", "train-1.csv"),
        ("data/x.csv", "data/x.csv", "x.csv"),
        ("", "top/x.csv", "top/x.csv"),
        ("da", "data/x.csv", "data/x.csv"),
    ],
)
def test_channel_path_places_a_key_as_file_mode_does(prefix, key, path):
    assert channel_path(prefix, key) == path


def test_a_prefix_ending_in_a_slash_gives_the_files_below_it(store, bucket, put, tmp_path):
    put(TRAIN)

    dest = store.fetch_channel(f"s3://{bucket}/data/train/", tmp_path / "train")

    assert dest == tmp_path / "train"
    assert files(dest) == {"a.csv": b"1,2\n", "sub/b.csv": b"3,4\n"}


def test_a_prefix_without_its_slash_also_takes_the_names_it_begins(store, bucket, put, tmp_path):
    put(TRAIN)

    dest = store.fetch_channel(f"s3://{bucket}/data/train", tmp_path / "train")

    assert files(dest) == {"a.csv": b"1,2\n", "sub/b.csv": b"3,4\n", "train-extra.csv": b"5,6\n"}


def test_a_prefix_ending_inside_names_keeps_the_names_it_matched(store, bucket, put, tmp_path):
    # The example of aws/sagemaker-python-sdk#3612, as SageMaker's instances lay it out.
    put(
        {
            "data/train-data.csv": b"x\n",
            "data/train-ground-truth.csv": b"y\n",
            "data/raw-data.txt": b"z\n",
            "debug/last.log": b"log\n",
        }
    )

    dest = store.fetch_channel(f"s3://{bucket}/data/train", tmp_path / "training")

    assert files(dest) == {"train-data.csv": b"x\n", "train-ground-truth.csv": b"y\n"}


def test_a_prefix_naming_one_object_gives_that_file(store, bucket, put, tmp_path):
    put(TRAIN)

    dest = store.fetch_channel(f"s3://{bucket}/data/other.csv", tmp_path / "train")

    assert files(dest) == {"other.csv": b"7,8\n"}


def test_a_manifest_fetches_the_objects_it_lists_at_their_relative_keys(
    store, bucket, put, tmp_path
):
    put(
        {
            "images/cats/1.jpg": b"cat",
            "images/dogs/2.jpg": b"dog",
            "images/cats/3.jpg": b"not listed",
            "lists/train.manifest": (
                f'[{{"prefix": "s3://{bucket}/images/"}}, "cats/1.jpg", "dogs/2.jpg"]'
            ).encode(),
        }
    )

    dest = store.fetch_channel(
        f"s3://{bucket}/lists/train.manifest", tmp_path / "train", "ManifestFile"
    )

    assert files(dest) == {"cats/1.jpg": b"cat", "dogs/2.jpg": b"dog"}


def test_a_manifest_listing_a_missing_object_names_it(store, bucket, put, tmp_path):
    put({"m.json": f'[{{"prefix": "s3://{bucket}/p/"}}, "gone.csv"]'.encode()})

    with pytest.raises(ObjectStoreError) as raised:
        store.fetch_channel(f"s3://{bucket}/m.json", tmp_path / "train", "ManifestFile")

    assert str(raised.value) == (
        f"s3://{bucket}/p/gone.csv (listed in manifest s3://{bucket}/m.json) could not be "
        "read: NoSuchKey: no such object (or no such bucket)"
    )


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"prefix": "s3://b/p/"}', b'["a.csv"]', b'[{"prefix": "s3://b/p/"}, 3]'],
)
def test_a_manifest_of_another_shape_is_refused(store, bucket, put, tmp_path, body):
    put({"m.json": body})

    with pytest.raises(ObjectStoreError, match=rf"manifest s3://{bucket}/m.json is not"):
        store.fetch_channel(f"s3://{bucket}/m.json", tmp_path / "train", "ManifestFile")


def test_an_augmented_manifest_is_refused(store, bucket, tmp_path):
    with pytest.raises(ObjectStoreError, match=r"AugmentedManifestFile .* is not supported"):
        store.fetch_channel(f"s3://{bucket}/m.jsonl", tmp_path / "t", "AugmentedManifestFile")


def test_a_missing_bucket_names_the_uri_and_the_cause(store, tmp_path):
    with pytest.raises(ObjectStoreError) as raised:
        store.fetch_channel("s3://no-such-bucket-x1/train/", tmp_path / "train")

    assert str(raised.value) == (
        "s3://no-such-bucket-x1/train/ could not be listed: "
        "NoSuchBucket: The specified bucket does not exist"
    )


def test_a_prefix_with_no_objects_fails_as_sagemaker_does(store, bucket, put, tmp_path):
    put(TRAIN)

    with pytest.raises(ObjectStoreError) as raised:
        store.fetch_channel(f"s3://{bucket}/data/test/", tmp_path / "test")

    assert str(raised.value).startswith(
        f'No S3 objects found under S3 URL "s3://{bucket}/data/test/" given in input data source.'
    )
    assert not (tmp_path / "test").exists()


@pytest.mark.parametrize(
    ("prefix", "key"),
    [("data/", "data/../../escaped.txt"), ("", "/escaped.txt"), ("data/", "data/a/../../..")],
)
def test_a_key_that_would_leave_the_channel_is_refused(store, bucket, put, tmp_path, prefix, key):
    put({key: b"tenant", f"{prefix}fine.txt": b"fine"})
    dest = tmp_path / "deep" / "train"

    with pytest.raises(ObjectStoreError, match="would be written outside the channel's folder"):
        store.fetch_channel(f"s3://{bucket}/{prefix}", dest)

    assert files(tmp_path) == {}  # nothing written, not even the harmless file


def test_a_manifest_entry_that_would_leave_the_channel_is_refused(store, bucket, put, tmp_path):
    put({"m.json": f'[{{"prefix": "s3://{bucket}/p/"}}, "../x"]'.encode(), "x": b"tenant"})

    with pytest.raises(ObjectStoreError, match=r"S3 key '\.\./x' under .* refusing it"):
        store.fetch_channel(f"s3://{bucket}/m.json", tmp_path / "train", "ManifestFile")

    assert not (tmp_path / "x").exists()


class Refused(Exception):
    """What the tests' location check raises."""


def only_under(root: str, checked: list[str]):
    """A location check that records each location and refuses those outside `root`."""

    def check(location: str) -> None:
        checked.append(location)
        if not location.startswith(root):
            raise Refused(location)

    return check


def record_requests(store: ObjectStore) -> list[tuple[str, str]]:
    """(operation, key or prefix) of every request the store's client sends from now on."""
    sent: list[tuple[str, str]] = []

    def record(params, model, **_):
        sent.append((model.name, params.get("Key", params.get("Prefix", ""))))

    store.client.meta.events.register("before-parameter-build.s3", record)
    return sent


def test_the_check_sees_the_prefix_before_listing_and_each_object_before_any_get(
    store, bucket, put, tmp_path
):
    put(TRAIN)
    checked: list[str] = []

    store.fetch_channel(
        f"s3://{bucket}/data/train/", tmp_path / "train", check=only_under("s3://", checked)
    )

    assert checked == [
        f"s3://{bucket}/data/train/",
        f"s3://{bucket}/data/train/a.csv",
        f"s3://{bucket}/data/train/sub/b.csv",
    ]


def test_a_prefix_the_check_refuses_is_not_listed(store, bucket, put, tmp_path):
    put(TRAIN)
    sent = record_requests(store)

    with pytest.raises(Refused):
        store.fetch_channel(
            f"s3://{bucket}/data/train/", tmp_path / "train", check=only_under("s3://x/", [])
        )

    assert sent == []
    assert not (tmp_path / "train").exists()


def test_manifest_entries_the_check_refuses_are_never_requested(store, bucket, put, tmp_path):
    # A manifest inside team-a whose prefix is the bucket: one entry in team-a, one not.
    manifest = f'[{{"prefix": "s3://{bucket}/"}}, "team-a/x.csv", "team-b/secret.csv"]'
    put(
        {
            "team-a/m.manifest": manifest.encode(),
            "team-a/x.csv": b"shared",
            "team-b/secret.csv": b"TEAM B SECRET",
        }
    )
    checked: list[str] = []
    sent = record_requests(store)

    with pytest.raises(Refused) as raised:
        store.fetch_channel(
            f"s3://{bucket}/team-a/m.manifest",
            tmp_path / "train",
            "ManifestFile",
            check=only_under(f"s3://{bucket}/team-a/", checked),
        )

    assert str(raised.value) == f"s3://{bucket}/team-b/secret.csv"
    assert checked == [
        f"s3://{bucket}/team-a/m.manifest",
        f"s3://{bucket}/team-a/x.csv",
        f"s3://{bucket}/team-b/secret.csv",
    ]
    # The manifest was read; none of its objects was asked for, not even team-a's.
    assert sent == [("GetObject", "team-a/m.manifest")]
    assert files(tmp_path) == {}


def test_an_unchanged_object_is_fetched_once_and_a_changed_one_again(store, bucket, put, tmp_path):
    put({"data/a.csv": b"first", "data/b.csv": b"other"})
    gets = count_gets(store)

    first = store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "run-1")
    second = store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "run-2")

    assert sorted(gets) == ["data/a.csv", "data/b.csv"]
    assert files(first) == files(second) == {"a.csv": b"first", "b.csv": b"other"}

    put({"data/a.csv": b"second"})
    third = store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "run-3")

    assert sorted(gets) == ["data/a.csv", "data/a.csv", "data/b.csv"]
    assert files(third) == {"a.csv": b"second", "b.csv": b"other"}
    assert files(first) == {"a.csv": b"first", "b.csv": b"other"}


def test_a_job_rewriting_its_copy_leaves_the_cache_and_the_next_fetch_unchanged(
    store, bucket, put, tmp_path
):
    put({"data/a.csv": b"first"})
    mine = store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "run-1") / "a.csv"
    gets = count_gets(store)

    # What a job may do to a file it owns (were it a link to the cache, the cache's too).
    os.chmod(mine, 0o644)
    mine.write_bytes(b"POISONED")
    later = store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "run-2")

    assert files(later) == {"a.csv": b"first"}
    assert gets == []  # from the cache, which still holds what S3 does
    (cached,) = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert cached.read_bytes() == b"first"
    assert stat.S_IMODE(cached.stat().st_mode) == 0o444


def test_slots_fetching_one_channel_at_once_each_get_all_of_it(store, bucket, put, tmp_path):
    put({f"data/part-{index}.csv": f"{index}\n".encode() * 50_000 for index in range(4)})
    expected = {f"part-{index}.csv": f"{index}\n".encode() * 50_000 for index in range(4)}

    with ThreadPoolExecutor(max_workers=4) as slots:
        dests = list(
            slots.map(
                lambda slot: store.fetch_channel(f"s3://{bucket}/data/", tmp_path / f"slot-{slot}"),
                range(4),
            )
        )

    assert [files(dest) for dest in dests] == [expected] * 4
    assert not [p for p in (tmp_path / "cache").rglob(".partial-*")]


def test_an_emptied_cache_leaves_fetched_files_and_fills_again(store, bucket, put, tmp_path):
    put({"data/a.csv": b"first"})
    first = store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "run-1")
    shutil.rmtree(tmp_path / "cache")
    gets = count_gets(store)

    second = store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "run-2")

    assert files(first) == files(second) == {"a.csv": b"first"}
    assert gets == ["data/a.csv"]


def test_a_fetch_into_a_filled_folder_replaces_its_files(store, bucket, put, tmp_path):
    put({"data/a.csv": b"first"})
    store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "train")
    put({"data/a.csv": b"second"})

    store.fetch_channel(f"s3://{bucket}/data/", tmp_path / "train")

    assert files(tmp_path / "train") == {"a.csv": b"second"}


def test_a_second_store_on_the_same_cache_fetches_nothing(s3, bucket, put, tmp_path):
    put({"code/sourcedir.tar.gz": b"tarball"})
    ObjectStore(tmp_path / "cache").fetch_object(
        f"s3://{bucket}/code/sourcedir.tar.gz", tmp_path / "one" / "sourcedir.tar.gz"
    )
    other = ObjectStore(tmp_path / "cache")  # another worker process sharing --cache-dir
    gets = count_gets(other)

    path = other.fetch_object(f"s3://{bucket}/code/sourcedir.tar.gz", tmp_path / "two.tar.gz")

    assert path == tmp_path / "two.tar.gz"
    assert path.read_bytes() == b"tarball"
    assert gets == []


def test_fetch_object_of_a_missing_key_names_it(store, bucket, tmp_path):
    with pytest.raises(ObjectStoreError) as raised:
        store.fetch_object(f"s3://{bucket}/code/sourcedir.tar.gz", tmp_path / "s.tar.gz")

    assert str(raised.value) == (
        f"s3://{bucket}/code/sourcedir.tar.gz could not be read: "
        "NoSuchKey: no such object (or no such bucket)"
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("bucket/key", "'bucket/key' is not an S3 URI (s3://bucket/key)"),
        ("s3:/bucket/key", "'s3:/bucket/key' is not an S3 URI (s3://bucket/key)"),
        ("s3://", "'s3://' is not an S3 URI (s3://bucket/key)"),
        ("https://bucket/key", "'https://bucket/key' is not an S3 URI (s3://bucket/key)"),
        ("s3://bucket", "'s3://bucket' names no S3 object (s3://bucket/key)"),
        ("s3://bucket/dir/", "'s3://bucket/dir/' names no S3 object (s3://bucket/key)"),
    ],
)
def test_a_malformed_uri_is_refused(store, tmp_path, uri, message):
    with pytest.raises(ObjectStoreError) as raised:
        store.fetch_object(uri, tmp_path / "x")

    assert str(raised.value) == message


def test_an_unreachable_endpoint_names_the_uri(store, monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    with pytest.raises(ObjectStoreError) as raised:
        store.fetch_channel("s3://bucket/train/", tmp_path / "train")

    assert str(raised.value) == (
        "s3://bucket/train/ could not be listed: Could not connect to the endpoint URL: "
        f'"http://127.0.0.1:{port}/bucket?list-type=2&prefix=train%2F&encoding-type=url"'
    )


def test_missing_credentials_name_the_uri(store, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(ObjectStoreError) as raised:
        store.fetch_object("s3://bucket/code/sourcedir.tar.gz", tmp_path / "s.tar.gz")

    assert str(raised.value) == (
        "s3://bucket/code/sourcedir.tar.gz could not be read: Unable to locate credentials"
    )


def read_archive(s3, bucket, key):
    body = s3.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {
            member.name: tar.extractfile(member).read() if member.isfile() else None
            for member in tar.getmembers()
        }


def test_upload_archive_holds_the_folder_contents_relative_to_it(s3, store, bucket, tmp_path):
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "model.pt").write_bytes(b"weights")
    (model / "sub" / "config.json").write_bytes(b"{}")

    store.upload_archive(model, f"s3://{bucket}/out/job-1/output/model.tar.gz")

    assert read_archive(s3, bucket, "out/job-1/output/model.tar.gz") == {
        "model.pt": b"weights",
        "sub": None,
        "sub/config.json": b"{}",
    }
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []  # the temporary file is gone


def test_upload_archive_of_an_empty_folder_is_an_empty_archive(s3, store, bucket, tmp_path):
    (tmp_path / "output").mkdir()

    store.upload_archive(tmp_path / "output", f"s3://{bucket}/out/output.tar.gz")

    assert read_archive(s3, bucket, "out/output.tar.gz") == {}


def test_upload_archive_to_a_missing_bucket_names_the_uri(store, tmp_path):
    (tmp_path / "model").mkdir()

    with pytest.raises(ObjectStoreError, match=r"^s3://no-such-bucket-x1/m.tar.gz could not be"):
        store.upload_archive(tmp_path / "model", "s3://no-such-bucket-x1/m.tar.gz")


def test_checkpoints_go_up_and_come_back(s3, store, bucket, put, tmp_path):
    checkpoints = tmp_path / "checkpoints"
    (checkpoints / "nested").mkdir(parents=True)
    (checkpoints / "epoch-1.pt").write_bytes(b"one")
    (checkpoints / "nested" / "state.json").write_bytes(b"{}")
    put({"ckpt-old/epoch-0.pt": b"another job's"})

    store.upload_folder(checkpoints, f"s3://{bucket}/ckpt")
    listed = s3.client().list_objects_v2(Bucket=bucket, Prefix="ckpt/")["Contents"]
    restored = tmp_path / "restored"
    store.download_folder(f"s3://{bucket}/ckpt", restored)

    assert sorted(item["Key"] for item in listed) == ["ckpt/epoch-1.pt", "ckpt/nested/state.json"]
    assert files(restored) == {"epoch-1.pt": b"one", "nested/state.json": b"{}"}
    # The job rewrites its checkpoints: they are its own files, not the cache's.
    (restored / "epoch-1.pt").write_bytes(b"two")
    assert not (tmp_path / "cache" / "objects").exists()


def test_a_link_in_the_checkpoints_is_not_uploaded(s3, store, bucket, tmp_path):
    secret = tmp_path / "worker-secret"
    secret.write_bytes(b"not the job's")
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    (checkpoints / "epoch-1.pt").write_bytes(b"one")
    (checkpoints / "leak").symlink_to(secret)

    store.upload_folder(checkpoints, f"s3://{bucket}/ckpt/")

    listed = s3.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["ckpt/epoch-1.pt"]


def test_no_checkpoints_yet_is_an_empty_folder(store, bucket, tmp_path):
    store.download_folder(f"s3://{bucket}/ckpt/", tmp_path / "checkpoints")

    assert os.listdir(tmp_path / "checkpoints") == []
