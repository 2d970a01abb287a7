"""What a worker runs for a training job that names an image: script mode, a mapped
image, or the container itself as SageMaker runs one."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from app.clients.docker import docker_command
from app.clients.script_mode import launch
from app.clients.sharing import Sharing
from app.clients.training_job import CheckpointConfig, InputChannel, TrainingJob, Unrunnable
from tests.sagemaker.conftest import tuning_request
from tests.sagemaker.test_api import run_worker


def job(**channels):
    """A training job with these input channels (name=URI), File mode, S3Prefix."""
    return TrainingJob("toy-001", tuple(InputChannel(n, uri) for n, uri in channels.items()))


HYPERPARAMETERS = {
    "lr": "0.01",
    "epochs": "3",
    "_tuning_objective_metric": "acc",
    "sagemaker_program": '"train.py"',
}


def test_hyperparameters_the_sdk_json_encoded_arrive_decoded_as_the_toolkit_passes_them(tmp_path):
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("print('hi')\n")
    given = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"file://{code}"',
        "run_tag": '"baseline"',  # the SDK sends every static value JSON-encoded
        "epochs": "8",
        "amp": "true",
        "layers": "[64, 32]",
        "optimizer": "adam",  # AMT sends a tuned categorical value as it is: no JSON
        "note": '"two words"',
    }

    found = launch(given, "image", job(), {}, tmp_path / "run", sharing=Sharing((tmp_path,)))

    assert found.command[2:] == [
        "--amp",
        "True",
        "--epochs",
        "8",
        "--layers",
        "[64, 32]",
        "--note",
        "two words",
        "--optimizer",
        "adam",
        "--run_tag",
        "baseline",
    ]
    environment = found.environment
    assert (environment["SM_HP_RUN_TAG"], environment["SM_HP_AMP"]) == ("baseline", "true")
    assert environment["SM_HP_LAYERS"] == "[64,32]"  # the toolkit's compact JSON
    assert json.loads(environment["SM_TRAINING_ENV"])["hyperparameters"] == {
        "run_tag": "baseline",
        "epochs": 8,
        "amp": True,
        "layers": [64, 32],
        "optimizer": "adam",
        "note": "two words",
    }


def test_script_mode_runs_the_program_with_the_toolkits_arguments(tmp_path):
    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("print('hi')\n")
    (tmp_path / "data").mkdir()
    given = {**HYPERPARAMETERS, "sagemaker_submit_directory": f'"file://{code}"'}
    channels = job(train=f"file://{tmp_path}/data")

    found = launch(given, "image", channels, {}, tmp_path / "run", sharing=Sharing((tmp_path,)))

    # As the training toolkit writes them: in name order.
    assert found.command == [
        sys.executable,
        "train.py",
        "--_tuning_objective_metric",
        "acc",
        "--epochs",
        "3",
        "--lr",
        "0.01",
    ]
    assert found.cwd == str(tmp_path / "run" / "code")
    assert (tmp_path / "run" / "code" / "train.py").read_text() == "print('hi')\n"
    environment = found.environment
    assert (environment["SM_HP_LR"], environment["SM_HP_EPOCHS"]) == ("0.01", "3")
    assert environment["SM_CHANNEL_TRAIN"] == f"{tmp_path}/data"
    assert environment["SM_MODEL_DIR"] == str(tmp_path / "run" / "model")
    assert json.loads(environment["SM_TRAINING_ENV"])["hyperparameters"] == {
        "lr": 0.01,
        "epochs": 3,
        "_tuning_objective_metric": "acc",
    }


def test_script_mode_unpacks_a_sourcedir_archive(tmp_path):
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        body = b"print('packed')\n"
        entry = tarfile.TarInfo("train.py")
        entry.size = len(body)
        tar.addfile(entry, io.BytesIO(body))
    given = {**HYPERPARAMETERS, "sagemaker_submit_directory": f"file://{archive}"}

    found = launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((tmp_path,)))

    assert (tmp_path / "run" / "code" / "train.py").read_text() == "print('packed')\n"
    assert found.command[:2] == [sys.executable, "train.py"]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("s3://bucket/sourcedir.tar.gz", "is in S3, and this worker has no S3 to read it from"),
        ("{root}/nonexistent", "cannot be read on this worker"),
        ("{root}/notes.txt", "no such folder or .tar.gz"),
        (None, "script mode needs the hyperparameter sagemaker_submit_directory"),
    ],
)
def test_script_mode_says_what_it_cannot_reach(tmp_path, source, reason):
    (tmp_path / "notes.txt").write_text("not code")
    given = dict(HYPERPARAMETERS)
    if source is not None:
        given["sagemaker_submit_directory"] = source.format(root=tmp_path)
    with pytest.raises(Unrunnable, match=reason):
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((tmp_path,)))


def test_a_mapped_image_runs_its_command_with_the_toolkits_environment(tmp_path):
    found = launch(
        {"lr": "0.1"}, "my/image:1", job(), {"my/image:1": "python -m train --fast"}, tmp_path
    )
    assert found.command == ["python", "-m", "train", "--fast"]
    assert found.environment["SM_HP_LR"] == "0.1"


def test_a_container_runs_as_sagemaker_runs_one(tmp_path):
    command = docker_command(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/byo:2",
        {"lr": "0.1"},
        {"train": Path("/data/train")},
        tmp_path,
        {"SM_LOG_LEVEL": "20"},
        job(train="file:///data/train"),
    )
    assert command == [
        "docker",
        "run",
        "--rm",
        "-v",
        f"{tmp_path}:/opt/ml",  # the run's folder is laid out as /opt/ml
        "-v",
        "/data/train:/opt/ml/input/data/train:ro",
        "-e",
        "SM_LOG_LEVEL=20",
        "--",  # docker reads no option after it: the image is never one
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/byo:2",
        "train",
    ]
    config = tmp_path / "input" / "config"
    assert json.loads((config / "hyperparameters.json").read_text()) == {"lr": "0.1"}
    assert json.loads((config / "inputdataconfig.json").read_text()) == {
        "train": {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
    }
    assert json.loads((config / "resourceconfig.json").read_text())["hosts"] == ["algo-1"]
    assert (tmp_path / "model").is_dir() and (tmp_path / "output" / "data").is_dir()


def test_a_container_takes_its_entrypoint_arguments_and_checkpoint_path(tmp_path):
    given = TrainingJob(
        "toy-001",
        checkpoint=CheckpointConfig("s3://b/ckpt", "/ckpt"),
        container_entrypoint=("/bin/bash", "-e"),
        container_arguments=("-c", "echo --privileged"),
    )
    command = docker_command("trainer:1", {}, {}, tmp_path, {}, given)
    assert command == [
        *("docker", "run", "--rm", "-v", f"{tmp_path}:/opt/ml"),
        *("-v", f"{tmp_path}/checkpoints:/ckpt"),
        "--entrypoint=/bin/bash",
        *("--", "trainer:1", "-e", "-c", "echo --privileged"),
    ]


@pytest.mark.parametrize("local_path", ["ckpt", "/a:/etc", "/a,b"])
def test_a_container_mounts_no_checkpoint_path_docker_would_misread(tmp_path, local_path):
    given = TrainingJob("toy-001", checkpoint=CheckpointConfig("s3://b/ckpt", local_path))
    with pytest.raises(Unrunnable, match="must be an absolute path without ':' or ','"):
        docker_command("trainer:1", {}, {}, tmp_path, {}, given)


def test_a_broken_archive_is_a_reason_not_a_crash(tmp_path):
    archive = tmp_path / "sourcedir.tar.gz"
    archive.write_bytes(b"not a tar file")
    given = {**HYPERPARAMETERS, "sagemaker_submit_directory": str(archive)}
    with pytest.raises(Unrunnable, match="cannot unpack sagemaker_submit_directory"):
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((tmp_path,)))


# What a training job may use of the worker's disk: only what lies in a data root.


@pytest.fixture
def shared(tmp_path):
    """A data root holding a channel's folder and script-mode code, a folder outside it,
    and a symlink in the root that leads out."""
    root = tmp_path / "shared"
    (root / "data").mkdir(parents=True)
    (root / "code").mkdir()
    (root / "code" / "train.py").write_text("print('hi')\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "train.py").write_text("print('not yours')\n")
    (root / "way-out").symlink_to(outside)
    return root


def image_mode(channels, sharing):
    """Launch as a mapped image, the mode that only exposes the channels."""
    return launch({"lr": "0.1"}, "my/image:1", job(**channels), {"my/image:1": "train"}, *sharing)


OUTSIDE_CHANNELS = [
    ("file:///", "'/', outside the folders this worker shares"),
    ("file:///var/run/docker.sock", "'{docker}', outside the folders"),
    ("file://{root}/data/../../outside", "'{tmp}/outside', outside the folders"),
    ("file://{root}/way-out", "'{tmp}/outside', outside the folders"),
    ("file://{root}/data/%2E%2E/%2E%2E/outside", "'{tmp}/outside', outside the folders"),
    ("file://{root}/missing", "cannot be read on this worker"),
    ("file://elsewhere/{root}/data", "names host 'elsewhere': only local paths"),
]


@pytest.mark.parametrize(("uri", "reason"), OUTSIDE_CHANNELS)
def test_a_channel_outside_the_data_roots_is_refused_in_every_mode(
    tmp_path, shared, monkeypatch, uri, reason
):
    docker = os.path.realpath("/var/run/docker.sock")  # /var/run is often a link to /run
    uri, reason = uri.format(root=shared), reason.format(tmp=tmp_path, docker=docker)
    code = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(shared / "code")}
    sharing = Sharing((shared,))
    monkeypatch.setattr("app.clients.script_mode.docker_available", lambda: True)
    for hyperparameters, image, images in [
        (code, None, {}),  # script mode: SM_CHANNEL_TRAIN
        ({}, "my/image:1", {"my/image:1": "train"}),  # a mapped image: SM_CHANNEL_TRAIN
        ({}, "my/image:1", {}),  # docker run -v
    ]:
        workdir = tmp_path / "run"
        with pytest.raises(Unrunnable) as refused:
            launch(hyperparameters, image, job(train=uri), images, workdir, None, sharing)
        assert str(refused.value).startswith(f"input channel 'train' at {uri!r} ")
        assert reason in str(refused.value)
        assert not workdir.exists()  # refused before anything was made


def test_a_channel_inside_a_data_root_is_exposed_by_its_real_path(tmp_path, shared):
    (shared / "link").symlink_to(shared / "data")
    channels = job(train=f"file://{shared}/link")
    found = launch({}, "i", channels, {"i": "train"}, tmp_path, None, Sharing((shared,)))
    assert found.environment["SM_CHANNEL_TRAIN"] == str(shared / "data")


def test_without_a_data_root_no_channel_is_shared(tmp_path, shared):
    with pytest.raises(Unrunnable) as refused:
        launch({}, "i", job(train=f"file://{shared}/data"), {"i": "t"}, tmp_path)
    assert str(refused.value) == (
        f"input channel 'train' at 'file://{shared}/data' is '{shared}/data', outside the "
        "folders this worker shares (its --data-root folders: none)"
    )


@pytest.mark.parametrize(
    "source",
    ["{tmp}/outside", "file://{tmp}/outside", "{root}/way-out", "{root}/code/../../outside"],
)
def test_a_submit_directory_outside_the_data_roots_is_refused(tmp_path, shared, source):
    source = source.format(tmp=tmp_path, root=shared)
    given = {**HYPERPARAMETERS, "sagemaker_submit_directory": source}
    with pytest.raises(Unrunnable, match="outside the folders this worker shares"):
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,)))
    assert not (tmp_path / "run" / "code").exists()


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        ("{tmp}/outside/train.py", "must be a relative path inside sagemaker_submit_directory"),
        ("../../../outside/train.py", "must be a relative path inside sagemaker_submit_directory"),
        ("sub/../../x.py", "must be a relative path inside sagemaker_submit_directory"),
        ("-c", "must be a relative path inside sagemaker_submit_directory"),
        ("escape/train.py", "leads outside sagemaker_submit_directory (through a symlink)"),
        ("escape.py", "leads outside sagemaker_submit_directory (through a symlink)"),
    ],
)
def test_the_program_must_lie_inside_the_submitted_code(tmp_path, shared, program, reason):
    (shared / "code" / "escape").symlink_to(tmp_path / "outside")
    (shared / "code" / "escape.py").symlink_to(tmp_path / "outside" / "train.py")
    given = {
        "sagemaker_program": json.dumps(program.format(tmp=tmp_path)),
        "sagemaker_submit_directory": str(shared / "code"),
    }
    with pytest.raises(Unrunnable) as refused:
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,)))
    assert reason in str(refused.value)


def test_a_program_in_a_subfolder_runs(tmp_path, shared):
    (shared / "code" / "src").mkdir()
    (shared / "code" / "src" / "main.py").write_text("print('deep')\n")
    given = {"sagemaker_program": "src/main.py", "sagemaker_submit_directory": str(shared / "code")}
    found = launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,)))
    assert found.command == [sys.executable, "src/main.py"]


def sourcedir(path, members):
    """A sourcedir.tar.gz of (name, bytes) files."""
    with tarfile.open(path, "w:gz") as tar:
        for name, body in members:
            entry = tarfile.TarInfo(name)
            entry.size = len(body)
            tar.addfile(entry, io.BytesIO(body))
    return path


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ({"max_source_files": 3}, "holds more than 3 entries (this worker's --max-source-files)"),
        (
            {"max_source_bytes": 2500},
            "unpacks to more than 2500 bytes (this worker's --max-source-bytes)",
        ),
    ],
)
def test_an_archive_over_the_bounds_is_refused_as_it_is_read(tmp_path, shared, limits, reason):
    files = [(f"part{i}.bin", bytes(1000)) for i in range(9)] + [("train.py", b"print(1)\n")]
    archive = sourcedir(shared / "sourcedir.tar.gz", files)
    given = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(archive)}
    with pytest.raises(Unrunnable, match=re.escape(reason)):
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,), **limits))
    # Checked entry by entry: what was unpacked before the bound stays within it.
    unpacked = list((tmp_path / "run" / "code").iterdir())
    assert len(unpacked) <= limits.get("max_source_files", 3)
    assert sum(f.stat().st_size for f in unpacked) <= limits.get("max_source_bytes", 3000)


def test_an_archive_at_the_bounds_unpacks(tmp_path, shared):
    archive = sourcedir(shared / "sourcedir.tar.gz", [("a.bin", bytes(100)), ("train.py", b"1\n")])
    given = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(archive)}
    sharing = Sharing((shared,), max_source_bytes=102, max_source_files=2)
    launch(given, None, job(), {}, tmp_path / "run", sharing=sharing)
    assert (tmp_path / "run" / "code" / "train.py").read_bytes() == b"1\n"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.py", "cannot unpack sagemaker_submit_directory"),
        ("link", "holds a symbolic link, 'link' (to '{tmp}/outside')"),
        ("{tmp}/evil.py", "sagemaker_program 'train.py' is not in"),  # unpacked inside
    ],
)
def test_an_archive_cannot_write_outside_its_folder(tmp_path, shared, name, reason):
    archive = shared / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        entry = tarfile.TarInfo(name.format(tmp=tmp_path))
        if name == "link":
            entry.type, entry.linkname = tarfile.SYMTYPE, str(tmp_path / "outside")
        tar.addfile(entry, io.BytesIO(b""))
    given = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(archive)}
    with pytest.raises(Unrunnable, match=re.escape(reason.format(tmp=tmp_path))):
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,)))
    assert not (tmp_path / "run" / "evil.py").exists()
    assert not (tmp_path / "evil.py").exists()


@pytest.mark.parametrize(
    ("link_type", "kind"),
    [(tarfile.SYMTYPE, "a symbolic link"), (tarfile.LNKTYPE, "a hard link")],
)
def test_an_archive_holding_a_link_is_refused_before_the_link_is_written(
    tmp_path, shared, link_type, kind
):
    # A link to a file of its own, which tarfile's "data" filter lets through: refused
    # all the same, since this Python's filter can be led outside by chains of links.
    archive = shared / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        body = b"print('hi')\n"
        program = tarfile.TarInfo("train.py")
        program.size = len(body)
        tar.addfile(program, io.BytesIO(body))
        link = tarfile.TarInfo("helper.py")
        link.type, link.linkname = link_type, "train.py"
        tar.addfile(link)
    given = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(archive)}

    with pytest.raises(Unrunnable) as raised:
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,)))

    assert str(raised.value) == (
        f"sagemaker_submit_directory {str(archive)!r} holds {kind}, 'helper.py' (to "
        "'train.py'): this worker unpacks only files and folders from it"
    )
    assert sorted(p.name for p in (tmp_path / "run" / "code").iterdir()) == ["train.py"]


def test_an_archive_holding_a_fifo_is_refused(tmp_path, shared):
    archive = shared / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        fifo = tarfile.TarInfo("pipe")
        fifo.type = tarfile.FIFOTYPE
        tar.addfile(fifo)
    given = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(archive)}

    with pytest.raises(Unrunnable) as raised:
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,)))

    assert str(raised.value) == (
        f"sagemaker_submit_directory {str(archive)!r} holds a device or FIFO, 'pipe': "
        "this worker unpacks only files and folders from it"
    )


@pytest.mark.parametrize("image", ["--privileged", "-v/:/host", "alpine --privileged", "Alpine"])
def test_a_container_is_refused_an_image_that_is_no_image_reference(tmp_path, monkeypatch, image):
    monkeypatch.setattr("app.clients.script_mode.docker_available", lambda: True)
    with pytest.raises(Unrunnable, match=f"^training image {re.escape(repr(image))} "):
        launch({}, image, job(), {}, tmp_path)


def test_docker_mounts_no_path_it_would_misread(tmp_path):
    with pytest.raises(Unrunnable, match="holds ':' or ','"):
        docker_command("trainer:1", {}, {"train": Path("/data/a:/etc")}, tmp_path, {})


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client here")
def test_dockers_own_client_reads_what_follows_the_double_dash_as_the_image(tmp_path):
    command = docker_command("trainer:1", {}, {}, tmp_path, {})
    # Were a tenant's text to reach the image's place, docker's parser would take it as
    # an image (and refuse it as one) rather than as the option it spells.
    command[command.index("trainer:1")] = "--privileged"
    environment = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)
    assert done.returncode == 125
    assert "invalid reference format" in done.stderr


def test_a_worker_fails_a_training_job_whose_channel_it_does_not_share(
    service, sagemaker, tmp_path, shared
):
    (shared / "code" / "train.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w')\n")
    request = tuning_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}
    )
    definition = request["TrainingJobDefinition"]
    definition["StaticHyperParameters"].update(
        sagemaker_program='"train.py"', sagemaker_submit_directory=f'"{shared / "code"}"'
    )
    s3 = {"S3DataType": "S3Prefix", "S3Uri": f"file://{shared}/data/../../outside"}
    definition["InputDataConfig"] = [{"ChannelName": "train", "DataSource": {"S3DataSource": s3}}]
    sagemaker.create_hyper_parameter_tuning_job(**request)

    run_worker(service.url, "--job", "toy", "--data-root", str(shared))
    (job,) = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="toy"
    )["TrainingJobSummaries"]
    assert (job["TrainingJobStatus"], job["FailureReason"]) == (
        "Failed",
        f"input channel 'train' at 'file://{shared}/data/../../outside' is "
        f"'{tmp_path}/outside', outside the folders this worker shares (its --data-root "
        f"folders: {shared})",
    )
    assert not (tmp_path / "ran").exists()  # refused before anything started


def test_code_sent_as_the_code_channel_is_read_from_that_channels_folder(tmp_path, shared):
    sourcedir(shared / "data" / "sourcedir.tar.gz", [("train.py", b"print('isolated')\n")])
    given = {
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": "/opt/ml/input/data/code/sourcedir.tar.gz",
    }
    channels = job(code=f"file://{shared}/data")

    found = launch(given, None, channels, {}, tmp_path / "run", sharing=Sharing((shared,)))

    assert (tmp_path / "run" / "code" / "train.py").read_bytes() == b"print('isolated')\n"
    assert found.environment["SM_CHANNEL_CODE"] == str(shared / "data")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        # Not a channel's path: read as any other path, and refused outside the roots.
        ("/opt/ml/input/data/code/../../../../{tmp}/outside", "outside the folders"),
        ("/opt/ml/input/data/other/sourcedir.tar.gz", "outside the folders"),
        ("/opt/ml/input/data/code/way-out/train.py", "leads outside input channel 'code'"),
    ],
)
def test_a_path_in_the_code_channel_stays_in_it(tmp_path, shared, source, reason):
    (shared / "data" / "way-out").symlink_to(tmp_path / "outside")
    given = {
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": source.format(tmp=tmp_path),
    }
    with pytest.raises(Unrunnable, match=reason):
        launch(
            given,
            None,
            job(code=f"file://{shared}/data"),
            {},
            tmp_path / "run",
            sharing=Sharing((shared,)),
        )
    assert not (tmp_path / "run" / "code").exists()


def test_a_requirements_file_needs_a_cache_folder_and_pip_to_agree(tmp_path, shared):
    (shared / "code" / "requirements.txt").write_text("--no-index\nnot-here==1.0\n")
    given = {"sagemaker_program": "train.py", "sagemaker_submit_directory": str(shared / "code")}
    with pytest.raises(
        Unrunnable, match=re.escape("holds a requirements.txt, and this worker has no cache")
    ):
        launch(given, None, job(), {}, tmp_path / "run", sharing=Sharing((shared,)))
    with pytest.raises(
        Unrunnable, match=re.escape("No matching distribution found for not-here==1.0")
    ):
        launch(
            given,
            None,
            job(),
            {},
            tmp_path / "run2",
            sharing=Sharing((shared,)),
            cache_dir=tmp_path / "cache",
        )
    # The half-made environment is not taken for a made one.
    (made,) = [p for p in (tmp_path / "cache" / "venvs").iterdir() if not p.suffix]
    assert not (made / ".complete").exists()


def test_a_program_that_writes_output_failure_fails_with_it_as_sagemaker_shows_it(
    service, sagemaker, tmp_path, shared
):
    (shared / "code" / "train.py").write_text(
        "import os, sys\n"
        "with open(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w') as f:\n"
        "    f.write('ValueError: lr 0.5 is too large\\n')\n"
        "print('the last line of stderr', file=sys.stderr)\n"
        "sys.exit(2)\n"
    )
    request = tuning_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}
    )
    request["TrainingJobDefinition"]["StaticHyperParameters"].update(
        sagemaker_program='"train.py"', sagemaker_submit_directory=f'"{shared / "code"}"'
    )
    sagemaker.create_hyper_parameter_tuning_job(**request)

    run_worker(service.url, "--job", "toy", "--data-root", str(shared))
    (job,) = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="toy"
    )["TrainingJobSummaries"]
    assert (job["TrainingJobStatus"], job["FailureReason"]) == (
        "Failed",
        "AlgorithmError: ValueError: lr 0.5 is too large",
    )
