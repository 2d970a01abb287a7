"""app/clients/sharing.py's check of S3 locations against a worker's `--s3-root` folders:
literal locations in, accepted or the literal reason out."""

from __future__ import annotations

import pytest

from app.clients.sharing import Sharing, check_s3_location, s3_root
from app.clients.training_job import Unrunnable

TEAM_A = Sharing(s3_roots=(s3_root("s3://b/team-a"),))
OUTSIDE = "is outside the S3 locations this worker serves (its --s3-root locations: s3://b/team-a/)"
DOTS = (
    "has a '.' or '..' segment, which an S3 store that normalises paths would read "
    "outside its folder; this worker serves only locations inside its --s3-root "
    "locations (s3://b/team-a/)"
)


@pytest.mark.parametrize(
    ("uri", "folder"),
    [
        ("s3://b/team-a/x.csv", False),
        ("s3://b/team-a/", False),
        ("s3://b/team-a/data", False),
        # A folder (checkpoints, an output path) is read with its slash: the root itself.
        ("s3://b/team-a", True),
        ("s3://b/team-a/", True),
        ("s3://b/team-a/ckpt", True),
    ],
)
def test_a_location_inside_a_root_is_accepted(uri, folder):
    check_s3_location("CheckpointConfig.S3Uri", uri, TEAM_A, folder=folder)


@pytest.mark.parametrize(
    ("uri", "folder", "reason"),
    [
        # As an S3Prefix, s3://b/team-a would also list s3://b/team-ab/...
        ("s3://b/team-a", False, OUTSIDE),
        ("s3://b/team-ab/x.csv", False, OUTSIDE),
        ("s3://b/team-ab", True, OUTSIDE),
        ("s3://b", True, OUTSIDE),
        ("s3://other/team-a/x", False, OUTSIDE),
        # Inside as text; a store or proxy that normalises paths would read team-b.
        ("s3://b/team-a/../team-b/x.csv", False, DOTS),
        ("s3://b/team-a/..", True, DOTS),
        ("s3://b/team-a/./x.csv", False, DOTS),
        ("s3://b/team-a/sub/../../team-b/", True, DOTS),
    ],
)
def test_a_location_outside_every_root_or_with_dot_segments_is_refused(uri, folder, reason):
    with pytest.raises(Unrunnable) as raised:
        check_s3_location("input channel 'train' at", uri, TEAM_A, folder=folder)

    assert str(raised.value) == f"input channel 'train' at {uri!r} {reason}"


def test_a_name_with_dots_that_is_no_segment_is_accepted():
    check_s3_location("code", "s3://b/team-a/..data/v1.0/x..csv", TEAM_A)


def test_the_root_of_a_bucket_takes_the_bucket_named_alone():
    check_s3_location("input channel 'train' at", "s3://b", Sharing(s3_roots=("s3://b/",)))


def test_without_roots_every_location_is_accepted():
    check_s3_location("input channel 'train' at", "s3://b/team-a/../team-b/x", Sharing())
