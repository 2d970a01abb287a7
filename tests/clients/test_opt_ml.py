"""A training job's own /opt/ml without Docker: real processes, run through
`isolated_command`, each see their run's folder at /opt/ml and nothing of another's."""

from __future__ import annotations

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
    OptMlError,
    failure_reason,
    isolated_command,
    isolation_problem,
)
from app.clients.toolkit import RunFolders, toolkit_environment, write_config
from app.clients.training_job import InputChannel, TrainingJob

REPOSITORY = Path(__file__).resolve().parents[2]
NOBODY = 65534


@pytest.fixture(autouse=True)
def private_namespace() -> None:
    problem = isolation_problem()
    if problem is not None:
        pytest.skip(problem)


def tree_in(
    workdir: Path,
    channels: Sequence[str] = (),
    *,
    hyperparameters: dict[str, str] | None = None,
    job_name: str = "job-1",
) -> RunFolders:
    """A run's folder as `launch` makes it for a container entry point: its folders, a
    folder per channel, and SageMaker's config files."""
    folders = RunFolders(workdir)
    folders.make()
    for name in channels:
        folders.channel(name).mkdir(parents=True)
    job = TrainingJob(job_name, tuple(InputChannel(name, f"s3://b/{name}") for name in channels))
    hyperparameters = {"lr": "0.1"} if hyperparameters is None else hyperparameters
    write_config(folders.config, hyperparameters, job)
    return folders


def run(
    folders: RunFolders,
    *argv: str,
    outside: dict[str, Path] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        isolated_command(argv, folders.root, outside),
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_command_sees_its_hyperparameters_and_writes_its_model_into_its_own_folder(tmp_path):
    folders = tree_in(tmp_path, hyperparameters={"lr": "0.1", "run_tag": '"x"'})

    done = run(
        folders,
        "sh",
        "-c",
        "cat /opt/ml/input/config/hyperparameters.json; echo ok > /opt/ml/model/m.txt",
    )

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == '{"lr": "0.1", "run_tag": "\\"x\\""}'
    assert (tmp_path / "model" / "m.txt").read_text() == "ok\n"
    assert os.listdir(MOUNT_POINT) == []


def test_the_job_starts_in_opt_ml_laid_out_as_a_containers(tmp_path):
    folders = tree_in(tmp_path, ["train", "sm_drivers", "code"])

    done = run(
        folders,
        "sh",
        "-c",
        "pwd && ls /opt/ml /opt/ml/input /opt/ml/input/config /opt/ml/input/data /opt/ml/output"
        " && cat input/config/inputdataconfig.json",
    )

    listing, inputs = done.stdout.rsplit("\n", 1)
    assert listing == (
        "/opt/ml\n"
        "/opt/ml:\ninput\nmodel\noutput\n\n"
        "/opt/ml/input:\nconfig\ndata\n\n"
        "/opt/ml/input/config:\nhyperparameters.json\ninputdataconfig.json\nresourceconfig.json\n\n"
        "/opt/ml/input/data:\ncode\nsm_drivers\ntrain\n\n"
        "/opt/ml/output:\ndata\nintermediate"
    )
    assert inputs == (folders.config / "inputdataconfig.json").read_text()


def test_two_jobs_at_once_each_see_only_their_own_opt_ml(tmp_path):
    # Each writes its name, says so, and waits for a line on stdin before reading the
    # file back: both have written before either reads, whatever the timing.
    script = (
        'echo "$0" > /opt/ml/model/who; echo written; read go;'
        " cat /opt/ml/model/who; ls /opt/ml/input/data"
    )
    jobs = {}
    for name in ("alpha", "beta"):
        folders = tree_in(tmp_path / name, [f"{name}_data"], job_name=name)
        jobs[name] = subprocess.Popen(
            isolated_command(["sh", "-c", script, name], folders.root),
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
    assert (tmp_path / "alpha" / "model" / "who").read_text() == "alpha\n"
    assert (tmp_path / "beta" / "model" / "who").read_text() == "beta\n"
    assert os.listdir(MOUNT_POINT) == []


def test_an_outside_channel_is_read_at_its_folder_and_cannot_be_written(tmp_path):
    outside = tmp_path / "shared data"
    outside.mkdir()
    (outside / "train.csv").write_text("1,2\n3,4\n")
    folders = tree_in(tmp_path / "job", ["train"])

    done = run(
        folders,
        "sh",
        "-c",
        "cat /opt/ml/input/data/train/train.csv;"
        " touch /opt/ml/input/data/train/new 2>/dev/null || echo read-only;"
        " rm /opt/ml/input/data/train/train.csv 2>/dev/null || echo kept",
        outside={"train": outside},
    )

    assert done.stdout == "1,2\n3,4\nread-only\nkept\n"
    assert sorted(os.listdir(outside)) == ["train.csv"]
    assert os.listdir(folders.channel("train")) == []  # the mount point, on the worker's side


def test_what_the_job_writes_to_output_failure_is_the_failure_reason(tmp_path):
    folders = tree_in(tmp_path)
    assert failure_reason(folders) is None

    done = run(
        folders,
        "sh",
        "-c",
        'printf "\\nlr=-1 is negative\\n" > /opt/ml/output/failure; exit 3',
    )

    assert done.returncode == 3
    assert failure_reason(folders) == "lr=-1 is negative"


def test_the_failure_reason_is_bounded_and_undecodable_bytes_replaced(tmp_path):
    folders = tree_in(tmp_path)
    (folders.output / "failure").write_bytes(b"bad \xff byte " + "é".encode() * 5000)

    reason = failure_reason(folders)

    assert reason == "bad \ufffd byte " + "é" * 1013
    assert len(reason) == 1024


def test_a_failure_file_that_is_a_symlink_or_a_fifo_is_not_read(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("the worker's secret\n")
    linked = tree_in(tmp_path / "linked")
    run(linked, "ln", "-s", str(secret), "/opt/ml/output/failure")
    assert (linked.output / "failure").is_symlink()
    assert failure_reason(linked) is None

    other = tree_in(tmp_path / "output linked")
    shutil.rmtree(other.output)
    (secret.parent / "failure").write_text("planted\n")
    other.output.symlink_to(secret.parent)
    assert failure_reason(other) is None

    piped = tree_in(tmp_path / "fifo")
    os.mkfifo(piped.output / "failure")
    assert failure_reason(piped) is None  # and does not block


@pytest.mark.parametrize("name", ["../x", "..", ".", "a/b", "", "a;b", "x" * 65])
def test_a_channel_name_that_is_no_sagemaker_channel_name_is_refused(tmp_path, name):
    folders = tree_in(tmp_path)

    with pytest.raises(OptMlError) as refused:
        isolated_command(["true"], folders.root, {name: tmp_path})

    assert str(refused.value) == f"input channel name {name!r} is not a SageMaker ChannelName"


def test_arguments_with_shell_metacharacters_reach_the_command_verbatim(tmp_path):
    outside = tmp_path / "$(id); touch pwned"
    outside.mkdir()
    (outside / "f").write_text("data\n")
    folders = tree_in(tmp_path / "job", ["we.ird-name_1"])
    channels = {"we.ird-name_1": outside}
    words = ["; rm -rf /tmp/x", "$(id)", "`id`", "a b", "'\"", "*", "\\n", ""]

    done = run(folders, "printf", "[%s]\\n", *words, outside=channels)
    read = run(folders, "cat", "/opt/ml/input/data/we.ird-name_1/f", outside=channels)

    assert done.stdout == "".join(f"[{word}]\n" for word in words)
    assert read.stdout == "data\n"
    assert sorted(os.listdir(tmp_path)) == ["$(id); touch pwned", "job"]
    assert not Path("pwned").exists()


def test_the_exit_status_is_the_commands_and_a_failed_mount_is_125(tmp_path):
    folders = tree_in(tmp_path / "job")
    assert run(folders, "sh", "-c", "exit 7").returncode == 7

    outside = tmp_path / "gone"
    outside.mkdir()
    gone = tree_in(tmp_path / "other", ["train"])
    outside.rmdir()
    done = run(gone, "echo", "never", outside={"train": outside})
    assert (done.returncode, done.stdout) == (125, "")
    assert "mount" in done.stderr


def test_an_empty_command_or_one_read_as_an_option_is_refused(tmp_path):
    folders = tree_in(tmp_path)
    with pytest.raises(OptMlError, match=r"^the training job has no command to run$"):
        isolated_command([], folders.root)
    with pytest.raises(OptMlError, match=r"^the training job's program '-c' begins with '-'$"):
        isolated_command(["-c", "id"], folders.root)
    with pytest.raises(OptMlError, match=r"^the run's folder 'relative' is not absolute$"):
        isolated_command(["true"], Path("relative"))


def test_the_toolkits_variables_for_opt_ml_name_the_folders_the_job_sees(tmp_path):
    folders = tree_in(tmp_path, ["train", "sm-drivers"], job_name="tj-7")
    (folders.channel("train") / "f").write_text("rows\n")
    job = TrainingJob(
        "tj-7", (InputChannel("train", "s3://b/t"), InputChannel("sm-drivers", "s3://b/d"))
    )
    seen = RunFolders(MOUNT_POINT)
    variables = toolkit_environment(
        {"lr": "0.1"},
        job,
        {name: seen.channel(name) for name in ("train", "sm-drivers")},
        seen,
        seen.config,
    )

    done = run(
        folders,
        "sh",
        "-c",
        'cat "$SM_CHANNEL_TRAIN/f"; echo m > "$SM_MODEL_DIR/m"; echo o > "$SM_OUTPUT_DATA_DIR/o";'
        ' cat "$SM_INPUT_CONFIG_DIR/hyperparameters.json"',
        env={**os.environ, **variables},
    )

    assert done.stdout == 'rows\n{"lr": "0.1"}'
    assert (folders.model / "m").read_text() == "m\n"
    assert (folders.output_data / "o").read_text() == "o\n"
    assert variables["TRAINING_JOB_NAME"] == "tj-7"
    assert variables["SM_CHANNEL_SM-DRIVERS"] == "/opt/ml/input/data/sm-drivers"
    assert variables["SM_CHANNELS"] == '["sm-drivers","train"]'


def test_the_sdk_v3_model_trainer_command_runs_its_drivers_from_the_folder(tmp_path):
    # ModelTrainer.train()'s ContainerEntrypoint and ContainerArguments, verbatim, with an
    # sm_drivers channel downloaded into the folder: its sm_train.sh does what the SDK's
    # does with /opt/ml (chmod itself, read the config, write input/sm_training.env, cd
    # to the code channel, write the failure file when the script fails).
    folders = tree_in(
        tmp_path, ["code", "sm_drivers"], hyperparameters={"epochs": "3"}, job_name="mt-1"
    )
    train = 'echo "epochs=$1"; echo model > /opt/ml/model/w\n'
    (folders.channel("code") / "train.sh").write_text(train)
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
    script = folders.channel("sm_drivers") / "sm_train.sh"
    script.write_text("\n".join(driver) + "\n")
    script.chmod(0o444)  # as the S3 cache's links are
    entrypoint = ["/bin/bash"]
    arguments = [
        "-c",
        "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh "
        "&& /opt/ml/input/data/sm_drivers/sm_train.sh",
    ]

    done = run(folders, *entrypoint, *arguments, env={**os.environ, "TRAINING_JOB_NAME": "mt-1"})

    assert (done.returncode, done.stdout) == (1, "epochs=3\n")
    assert (folders.model / "w").read_text() == "model\n"
    assert (folders.input / "sm_training.env").read_text() == "export SM_EPOCHS=3\n"
    assert failure_reason(folders) == "Training Execution failed. TrainingJob - mt-1"


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
        from app.clients.opt_ml import isolated_command
        from app.clients.toolkit import RunFolders
        job, outside = sys.argv[1:]
        folders = RunFolders(Path(job))
        folders.make()
        folders.channel("train").mkdir(parents=True)
        script = "id -u; cat /opt/ml/input/data/train/f; echo m > /opt/ml/model/m"
        command = isolated_command(["sh", "-c", script], folders.root, {"train": Path(outside)})
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
    model = shared_scratch / "job" / "model" / "m"
    assert (model.read_text(), model.stat().st_uid) == ("m\n", NOBODY)
    assert os.listdir(MOUNT_POINT) == []
