"""A training job's own /opt/ml without Docker: real processes, run through
`isolated_command`, each see their tree at /opt/ml and nothing of another's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.clients.opt_ml import (
    MOUNT_POINT,
    Channel,
    OptMl,
    OptMlError,
    environment,
    failure_reason,
    isolated_command,
    isolation_problem,
    make_tree,
)

REPOSITORY = Path(__file__).resolve().parents[2]
NOBODY = 65534


@pytest.fixture(autouse=True)
def private_namespace() -> None:
    problem = isolation_problem()
    if problem is not None:
        pytest.skip(problem)


def tree_in(
    workdir: Path,
    channels: Sequence[Channel] = (),
    *,
    hyperparameters: dict[str, str] | None = None,
    job_name: str = "job-1",
    instance_type: str = "ml.m5.large",
) -> OptMl:
    return make_tree(
        workdir,
        job_name=job_name,
        instance_type=instance_type,
        hyperparameters={"lr": "0.1"} if hyperparameters is None else hyperparameters,
        channels=channels,
    )


def run(
    tree: OptMl, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        isolated_command(argv, tree), capture_output=True, text=True, timeout=60, env=env
    )


def test_a_command_sees_its_hyperparameters_and_writes_its_model_into_its_own_tree(tmp_path):
    tree = tree_in(tmp_path, hyperparameters={"lr": "0.1", "run_tag": '"x"'})

    done = run(
        tree,
        "sh",
        "-c",
        "cat /opt/ml/input/config/hyperparameters.json; echo ok > /opt/ml/model/m.txt",
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == '{"lr": "0.1", "run_tag": "\\"x\\""}'
    assert (tmp_path / "opt_ml" / "model" / "m.txt").read_text() == "ok\n"
    assert os.listdir(MOUNT_POINT) == []


def test_the_config_files_are_in_the_shape_sagemaker_writes(tmp_path):
    channels = [
        Channel("train", content_type="text/csv"),
        Channel("sm_drivers", compression_type="None"),
        Channel("code"),
    ]
    tree = tree_in(tmp_path, channels, instance_type="ml.g5.xlarge")

    done = run(
        tree,
        "sh",
        "-c",
        "cd /opt/ml/input/config && cat resourceconfig.json && echo && cat inputdataconfig.json"
        " && echo && ls /opt/ml /opt/ml/input/data /opt/ml/output",
    )

    resources, inputs, listing = done.stdout.split("\n", 2)
    assert json.loads(resources) == {
        "current_host": "algo-1",
        "current_instance_type": "ml.g5.xlarge",
        "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1"],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": "ml.g5.xlarge",
                "hosts": ["algo-1"],
            }
        ],
        "network_interface_name": "eth0",
    }
    plain = {
        "TrainingInputMode": "File",
        "S3DistributionType": "FullyReplicated",
        "RecordWrapperType": "None",
    }
    assert json.loads(inputs) == {
        "code": plain,
        "sm_drivers": {**plain, "CompressionType": "None"},
        "train": {**plain, "ContentType": "text/csv"},
    }
    assert listing == (
        "/opt/ml:\ncheckpoints\ncode\ninput\nmodel\noutput\n\n"
        "/opt/ml/input/data:\ncode\nsm_drivers\ntrain\n\n"
        "/opt/ml/output:\ndata\n"
    )


def test_two_jobs_at_once_each_see_only_their_own_opt_ml(tmp_path):
    # Each writes its name, says so, and waits for a line on stdin before reading the
    # file back: both have written before either reads, whatever the timing.
    script = (
        'echo "$0" > /opt/ml/model/who; echo written; read go;'
        " cat /opt/ml/model/who; ls /opt/ml/input/data"
    )
    jobs = {}
    for name in ("alpha", "beta"):
        tree = tree_in(tmp_path / name, [Channel(f"{name}_data")], job_name=name)
        jobs[name] = subprocess.Popen(
            isolated_command(["sh", "-c", script, name], tree),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    try:
        for job in jobs.values():
            assert job.stdout is not None
            assert job.stdout.readline() == "written\n"
        assert os.listdir(MOUNT_POINT) == []  # nothing mounted where the worker looks
        said = {name: job.communicate("go\n", timeout=60)[0] for name, job in jobs.items()}
    finally:
        for job in jobs.values():
            job.kill()
            job.wait()

    assert said == {"alpha": "alpha\nalpha_data\n", "beta": "beta\nbeta_data\n"}
    assert (tmp_path / "alpha" / "opt_ml" / "model" / "who").read_text() == "alpha\n"
    assert (tmp_path / "beta" / "opt_ml" / "model" / "who").read_text() == "beta\n"
    assert os.listdir(MOUNT_POINT) == []


def test_an_outside_channel_is_read_at_its_folder_and_cannot_be_written(tmp_path):
    outside = tmp_path / "shared data"
    outside.mkdir()
    (outside / "train.csv").write_text("1,2\n3,4\n")
    tree = tree_in(tmp_path / "job", [Channel("train", outside=outside)])

    done = run(
        tree,
        "sh",
        "-c",
        "cat /opt/ml/input/data/train/train.csv;"
        " touch /opt/ml/input/data/train/new 2>/dev/null || echo read-only;"
        " rm /opt/ml/input/data/train/train.csv 2>/dev/null || echo kept",
    )

    assert done.stdout == "1,2\n3,4\nread-only\nkept\n"
    assert sorted(os.listdir(outside)) == ["train.csv"]
    assert os.listdir(tree.data("train")) == []  # the mount point, on the worker's side


def test_what_the_job_writes_to_output_failure_is_the_failure_reason(tmp_path):
    tree = tree_in(tmp_path)
    assert failure_reason(tree) is None

    done = run(
        tree,
        "sh",
        "-c",
        'printf "\\nAlgorithmError: lr=-1 is negative\\n" > /opt/ml/output/failure; exit 3',
    )

    assert done.returncode == 3
    assert failure_reason(tree) == "AlgorithmError: lr=-1 is negative"


def test_the_failure_reason_is_bounded_and_undecodable_bytes_replaced(tmp_path):
    tree = tree_in(tmp_path)
    tree.failure.write_bytes(b"bad \xff byte " + "é".encode() * 5000)

    reason = failure_reason(tree)

    assert reason == "bad \ufffd byte " + "é" * 1013
    assert len(reason) == 1024


def test_a_failure_file_that_is_a_symlink_or_a_fifo_is_not_read(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("the worker's secret\n")
    tree = tree_in(tmp_path / "linked")
    run(tree, "ln", "-s", str(secret), "/opt/ml/output/failure")
    assert tree.failure.is_symlink()
    assert failure_reason(tree) is None

    other = tree_in(tmp_path / "output linked")
    shutil.rmtree(other.output)
    (secret.parent / "failure").write_text("planted\n")
    other.output.symlink_to(secret.parent)
    assert failure_reason(other) is None

    piped = tree_in(tmp_path / "fifo")
    os.mkfifo(piped.failure)
    assert failure_reason(piped) is None  # and does not block


@pytest.mark.parametrize("name", ["../x", "..", ".", "a/b", "", "a;b", "x" * 65])
def test_a_channel_name_that_is_no_sagemaker_channel_name_is_refused(tmp_path, name):
    with pytest.raises(OptMlError) as refused:
        tree_in(tmp_path, [Channel(name)])

    assert str(refused.value) == f"input channel name {name!r} is not a SageMaker ChannelName"
    assert not (tmp_path / "opt_ml").exists()
    assert not (tmp_path / "x").exists()


def test_a_channel_given_twice_or_in_pipe_mode_is_refused(tmp_path):
    with pytest.raises(OptMlError, match=r"^input channel 'train' is given twice$"):
        tree_in(tmp_path, [Channel("train"), Channel("train")])
    with pytest.raises(OptMlError) as refused:
        tree_in(tmp_path, [Channel("train", input_mode="Pipe")])
    assert str(refused.value) == (
        "input channel 'train': input mode 'Pipe' cannot be run without SageMaker "
        "(File and FastFile can)"
    )


def test_arguments_with_shell_metacharacters_reach_the_command_verbatim(tmp_path):
    outside = tmp_path / "$(id); touch pwned"
    outside.mkdir()
    (outside / "f").write_text("data\n")
    tree = tree_in(tmp_path / "job", [Channel("we.ird-name_1", outside=outside)])
    words = ["; rm -rf /tmp/x", "$(id)", "`id`", "a b", "'\"", "*", "\\n", ""]

    done = run(tree, "printf", "[%s]\\n", *words)
    read = run(tree, "cat", "/opt/ml/input/data/we.ird-name_1/f")

    assert done.stdout == "".join(f"[{word}]\n" for word in words)
    assert read.stdout == "data\n"
    assert sorted(os.listdir(tmp_path)) == ["$(id); touch pwned", "job"]
    assert not Path("pwned").exists()


def test_the_exit_status_is_the_commands_and_a_failed_mount_is_125(tmp_path):
    tree = tree_in(tmp_path / "job")
    assert run(tree, "sh", "-c", "exit 7").returncode == 7

    outside = tmp_path / "gone"
    outside.mkdir()
    gone = tree_in(tmp_path / "other", [Channel("train", outside=outside)])
    outside.rmdir()
    done = run(gone, "echo", "never")
    assert (done.returncode, done.stdout) == (125, "")
    assert "mount" in done.stderr


def test_an_empty_command_or_one_read_as_an_option_is_refused(tmp_path):
    tree = tree_in(tmp_path)
    with pytest.raises(OptMlError, match=r"^the training job has no command to run$"):
        isolated_command([], tree)
    with pytest.raises(OptMlError, match=r"^the training job's program '-c' begins with '-'$"):
        isolated_command(["-c", "id"], tree)


def test_the_environment_names_the_folders_the_job_sees(tmp_path):
    tree = tree_in(tmp_path, [Channel("train"), Channel("sm-drivers")], job_name="tj-7")
    (tree.data("train") / "f").write_text("rows\n")
    variables = environment(tree)

    done = run(
        tree,
        "sh",
        "-c",
        'cat "$SM_CHANNEL_TRAIN/f"; echo m > "$SM_MODEL_DIR/m"; echo o > "$SM_OUTPUT_DATA_DIR/o"',
        env={**os.environ, **variables},
    )

    assert done.stdout == "rows\n"
    assert (tree.model / "m").read_text() == "m\n"
    assert (tree.output_data / "o").read_text() == "o\n"
    assert variables == {
        "TRAINING_JOB_NAME": "tj-7",
        "SM_MODEL_DIR": "/opt/ml/model",
        "SM_INPUT_DIR": "/opt/ml/input",
        "SM_INPUT_DATA_DIR": "/opt/ml/input/data",
        "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
        "SM_OUTPUT_DIR": "/opt/ml/output",
        "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
        "SM_OUTPUT_FAILURE": "/opt/ml/output/failure",
        "SM_CHANNELS": '["sm-drivers", "train"]',
        "SM_CHANNEL_SM-DRIVERS": "/opt/ml/input/data/sm-drivers",
        "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
        "SM_CURRENT_HOST": "algo-1",
        "SM_CURRENT_INSTANCE_TYPE": "ml.m5.large",
        "SM_CURRENT_INSTANCE_GROUP": "homogeneousCluster",
        "SM_HOSTS": '["algo-1"]',
        "SM_HOST_COUNT": "1",
        "SM_CURRENT_HOST_RANK": "0",
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_RESOURCE_CONFIG": (tree.config / "resourceconfig.json").read_text(),
        "SM_INPUT_DATA_CONFIG": (tree.config / "inputdataconfig.json").read_text(),
    }


def test_the_sdk_v3_model_trainer_command_runs_its_drivers_from_the_tree(tmp_path):
    # ModelTrainer.train()'s ContainerEntrypoint and ContainerArguments, verbatim, with an
    # sm_drivers channel downloaded into the tree: its sm_train.sh does what the SDK's
    # does with the tree (chmod itself, read the config, write input/sm_training.env, cd
    # to the code channel, write the failure file when the script fails).
    tree = tree_in(tmp_path, [Channel("code"), Channel("sm_drivers")], job_name="mt-1")
    (tree.data("code") / "train.sh").write_text('echo "epochs=$1"; echo model > /opt/ml/model/w\n')
    failed = 'echo "Training Execution failed. TrainingJob - $TRAINING_JOB_NAME"'
    hyperparameters = "$(tr -dc 0-9 < /opt/ml/input/config/hyperparameters.json)"
    driver = [
        "#!/bin/bash",
        f"trap '{failed} >> /opt/ml/output/failure; exit 1' ERR",
        "cat /opt/ml/input/config/resourceconfig.json > /dev/null",
        f'echo "export SM_EPOCHS={hyperparameters}" > /opt/ml/input/sm_training.env',
        "source /opt/ml/input/sm_training.env",
        "cd /opt/ml/input/data/code",
        'bash train.sh "$SM_EPOCHS"',
        "test -s /opt/ml/model/missing",
    ]
    (tree.data("sm_drivers") / "sm_train.sh").write_text("\n".join(driver) + "\n")
    tree.config.joinpath("hyperparameters.json").write_text('{"epochs": "3"}')
    entrypoint = ["/bin/bash"]
    arguments = [
        "-c",
        "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh "
        "&& /opt/ml/input/data/sm_drivers/sm_train.sh",
    ]

    done = run(tree, *entrypoint, *arguments, env={**os.environ, **environment(tree)})

    assert (done.returncode, done.stdout) == (1, "epochs=3\n")
    assert (tree.model / "w").read_text() == "model\n"
    assert (tree.root / "input" / "sm_training.env").read_text() == "export SM_EPOCHS=3\n"
    assert failure_reason(tree) == "Training Execution failed. TrainingJob - mt-1"


@pytest.fixture
def shared_scratch() -> Iterator[Path]:
    """A folder an unprivileged user may write in (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="opt-ml-nobody-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def test_an_unprivileged_worker_gets_a_private_opt_ml_from_a_user_namespace(shared_scratch):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to become an unprivileged user")
    outside = shared_scratch / "data"
    outside.mkdir()
    (outside / "f").write_text("shared\n")
    worker = textwrap.dedent(
        """\
        import subprocess, sys
        from pathlib import Path
        from app.clients.opt_ml import Channel, isolated_command, make_tree
        job, outside = sys.argv[1:]
        tree = make_tree(
            Path(job),
            job_name="j",
            instance_type="ml.m5.large",
            hyperparameters={"a": "1"},
            channels=[Channel("train", outside=Path(outside))],
        )
        script = "id -u; cat /opt/ml/input/data/train/f; echo m > /opt/ml/model/m"
        command = isolated_command(["sh", "-c", script], tree)
        print(command[1:4], flush=True)
        sys.exit(subprocess.run(command).returncode)
        """
    )
    nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

    done = subprocess.run(
        [*nobody, sys.executable, "-c", worker, str(shared_scratch / "job"), str(outside)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
    )

    if "--user" not in done.stdout and "user namespaces" in done.stderr:
        pytest.skip(f"this kernel refuses user namespaces: {done.stderr[-300:]}")
    assert (done.returncode, done.stderr) == (0, "")
    # Root inside its namespace, as in a container; the worker's own user outside it.
    assert done.stdout == "['--user', '--map-root-user', '--mount']\n0\nshared\n"
    model = shared_scratch / "job" / "opt_ml" / "model" / "m"
    assert (model.read_text(), model.stat().st_uid) == ("m\n", NOBODY)
    assert os.listdir(MOUNT_POINT) == []
