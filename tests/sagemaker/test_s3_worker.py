"""A worker runs SageMaker training jobs whose code, data, checkpoints and model live in
S3 (moto's server): boto3's SageMaker client at a live service, real `logmetrics worker`
processes, each test a bucket of its own."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from app.clients.worker import default_cache_dir
from tests.sagemaker.conftest import tuning_request
from tests.sagemaker.test_api import run_worker
from tests.tuning.conftest import search_job_body

# Reads its channel, reports a value the data implies, writes a model and what it saw.
TRAIN = textwrap.dedent(
    """
    import argparse, json, os, sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--run_tag")
    parser.add_argument("--_tuning_objective_metric")
    args = parser.parse_args()
    channel = os.environ["SM_CHANNEL_TRAIN"]
    rows = [float(x) for x in open(os.path.join(channel, "part", "numbers.txt")).read().split()]
    for epoch in range(1, args.epochs + 1):
        print(f"epoch {epoch}: acc={sum(rows) * epoch / args.epochs:.4f};", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
        f.write(f"{args.run_tag}: {len(rows)} rows")
    seen = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
    seen["TRAINING_JOB_NAME"] = os.environ["TRAINING_JOB_NAME"]
    seen["argv"] = sys.argv[1:]
    seen["config_files"] = sorted(os.listdir(os.environ["SM_INPUT_CONFIG_DIR"]))
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "seen.json"), "w") as f:
        json.dump(seen, f)
    """
)

NUMBERS = b"0.25 0.5\n0.125\n"  # acc = their sum, 0.875, at the last epoch

# Every key of the toolkit's SM_TRAINING_ENV (sagemaker_training.environment.Environment).
TRAINING_ENV_KEYS = {
    "additional_framework_parameters",
    "channel_input_dirs",
    "current_host",
    "current_instance_group",
    "current_instance_group_hosts",
    "current_instance_type",
    "distribution_hosts",
    "distribution_instance_groups",
    "framework_module",
    "hosts",
    "hyperparameters",
    "input_config_dir",
    "input_data_config",
    "input_dir",
    "instance_groups",
    "instance_groups_dict",
    "is_hetero",
    "is_master",
    "is_modelparallel_enabled",
    "job_name",
    "log_level",
    "master_hostname",
    "model_dir",
    "module_dir",
    "module_name",
    "network_interface_name",
    "num_cpus",
    "num_gpus",
    "output_data_dir",
    "output_dir",
    "output_intermediate_dir",
    "resource_config",
    "user_entry_point",
}


def sourcedir(files):
    """A sourcedir.tar.gz, as the SageMaker SDK packs `source_dir`, of {name: bytes}."""
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for name, body in files.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(body)
            tar.addfile(entry, io.BytesIO(body))
    return packed.getvalue()


def unpacked(client, bucket, key):
    """{name: bytes} of a .tar.gz object."""
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def s3_job(bucket, code_uri="s3://{bucket}/toy/source/sourcedir.tar.gz", **config):
    """A tuning job of one training job: code, channel `train` and output in `bucket`."""
    request = tuning_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}, **config
    )
    definition = request["TrainingJobDefinition"]
    definition["StaticHyperParameters"].update(
        sagemaker_program='"train.py"',
        sagemaker_submit_directory=json.dumps(code_uri.format(bucket=bucket)),
        run_tag='"baseline"',
    )
    definition["InputDataConfig"] = [channel("train", f"s3://{bucket}/data/train")]
    definition["OutputDataConfig"] = {"S3OutputPath": f"s3://{bucket}/models"}
    return request


def channel(name, uri, data_type="S3Prefix"):
    source = {"S3DataType": data_type, "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
    return {"ChannelName": name, "DataSource": {"S3DataSource": source}}


def summary(sagemaker, tuning_job="toy"):
    """The tuning job's one training job, as ListTrainingJobsForHyperParameterTuningJob
    sums it up (its status and FailureReason)."""
    (found,) = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job
    )["TrainingJobSummaries"]
    return found


def training_job(sagemaker, tuning_job="toy"):
    name = summary(sagemaker, tuning_job)["TrainingJobName"]
    return sagemaker.describe_training_job(TrainingJobName=name)


def work(service, tmp_path, job="toy"):
    return run_worker(service.url, "--job", job, "--cache-dir", str(tmp_path / "cache"))


@pytest.fixture
def bucket(s3):
    """A bucket holding the code and the `train` data of `s3_job`."""
    name = s3.new_bucket()
    client = s3.client()
    client.put_object(
        Bucket=name, Key="toy/source/sourcedir.tar.gz", Body=sourcedir({"train.py": TRAIN.encode()})
    )
    client.put_object(Bucket=name, Key="data/train/part/numbers.txt", Body=NUMBERS)
    return name


def test_code_and_data_in_s3_train_and_the_model_and_output_land_in_s3(
    service, sagemaker, s3, bucket, tmp_path
):
    sagemaker.create_hyper_parameter_tuning_job(**s3_job(bucket))

    work(service, tmp_path)

    job = training_job(sagemaker)
    name = job["TrainingJobName"]
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["FinalMetricDataList"][0]["MetricName"] == "acc"
    assert job["FinalMetricDataList"][0]["Value"] == 0.875
    model_key = f"models/{name}/output/model.tar.gz"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{bucket}/{model_key}"
    client = s3.client()
    assert unpacked(client, bucket, model_key) == {"model.txt": b"baseline: 3 rows"}
    output = unpacked(client, bucket, f"models/{name}/output/output.tar.gz")
    assert list(output) == ["seen.json"]

    # What the program saw, as the SageMaker training toolkit would have set it.
    seen = json.loads(output["seen.json"])
    lr = job["HyperParameters"]["lr"]
    arguments = ["--_tuning_objective_metric", "acc", "--epochs", "2"]
    arguments += ["--lr", str(float(lr)), "--run_tag", "baseline"]
    assert seen["argv"] == arguments
    assert json.loads(seen["SM_USER_ARGS"]) == arguments
    hyperparameters = {"_tuning_objective_metric": "acc", "epochs": 2, "lr": float(lr)}
    hyperparameters["run_tag"] = "baseline"
    assert json.loads(seen["SM_HPS"]) == hyperparameters
    assert (seen["SM_HP_EPOCHS"], seen["SM_HP_RUN_TAG"]) == ("2", "baseline")
    assert seen["SM_HOSTS"] == '["algo-1"]'
    assert seen["SM_CURRENT_HOST"] == "algo-1"
    assert seen["SM_CURRENT_INSTANCE_TYPE"] == "ml.m5.large"
    assert seen["SM_NUM_CPUS"] == str(os.cpu_count())
    assert seen["SM_NETWORK_INTERFACE_NAME"] == "eth0"
    assert seen["SM_LOG_LEVEL"] == "20"
    assert seen["SM_MODULE_NAME"] == "train"
    assert seen["SM_USER_ENTRY_POINT"] == "train.py"
    assert seen["SM_FRAMEWORK_MODULE"] == ""
    assert seen["SM_CHANNELS"] == '["train"]'
    assert seen["TRAINING_JOB_NAME"] == name
    assert json.loads(seen["SM_INPUT_DATA_CONFIG"]) == {
        "train": {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
    }
    assert json.loads(seen["SM_RESOURCE_CONFIG"]) == {
        "current_host": "algo-1",
        "current_instance_type": "ml.m5.large",
        "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1"],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": "ml.m5.large",
                "hosts": ["algo-1"],
            }
        ],
        "network_interface_name": "eth0",
    }
    assert seen["config_files"] == [
        "hyperparameters.json",
        "inputdataconfig.json",
        "resourceconfig.json",
    ]
    # Folders of the run, laid out as /opt/ml is.
    run_folder = os.path.dirname(seen["SM_MODEL_DIR"])
    assert os.path.basename(seen["SM_MODEL_DIR"]) == "model"
    for variable, below in [
        ("SM_CHANNEL_TRAIN", "input/data/train"),
        ("SM_INPUT_DIR", "input"),
        ("SM_OUTPUT_DIR", "output"),
        ("SM_OUTPUT_DATA_DIR", "output/data"),
        ("SM_OUTPUT_INTERMEDIATE_DIR", "output/intermediate"),
        ("SM_MODULE_DIR", "code"),
    ]:
        assert seen[variable] == f"{run_folder}/{below}", variable
    training_env = json.loads(seen["SM_TRAINING_ENV"])
    assert set(training_env) == TRAINING_ENV_KEYS
    assert training_env["hyperparameters"] == hyperparameters
    assert training_env["channel_input_dirs"] == {"train": seen["SM_CHANNEL_TRAIN"]}
    assert training_env["job_name"] == name
    assert not os.path.exists(run_folder)  # the worker leaves nothing behind


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"code_uri": "s3://{bucket}/toy/source/missing.tar.gz"},
            "sagemaker_submit_directory: s3://{bucket}/toy/source/missing.tar.gz could not be "
            "read: ",
        ),
        (
            {"InputDataConfig": [channel("train", "s3://{bucket}/data/absent")]},
            "input channel 'train': No S3 objects found under S3 URL "
            '"s3://{bucket}/data/absent" given in input data source.',
        ),
    ],
)
def test_a_missing_s3_object_fails_the_training_job_naming_it(
    service, sagemaker, s3, bucket, tmp_path, change, reason
):
    request = s3_job(bucket, change.get("code_uri", "s3://{bucket}/toy/source/sourcedir.tar.gz"))
    if "InputDataConfig" in change:
        given = change["InputDataConfig"][0]["DataSource"]["S3DataSource"]
        given["S3Uri"] = given["S3Uri"].format(bucket=bucket)
        request["TrainingJobDefinition"]["InputDataConfig"] = change["InputDataConfig"]
    sagemaker.create_hyper_parameter_tuning_job(**request)

    work(service, tmp_path)

    job = summary(sagemaker)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(reason.format(bucket=bucket))
    # Refused before anything ran: no model was made, so none was uploaded.
    listed = s3.client().list_objects_v2(Bucket=bucket, Prefix="models/")
    assert listed["KeyCount"] == 0


def test_a_model_that_cannot_be_uploaded_fails_the_training_job(
    service, sagemaker, s3, bucket, tmp_path
):
    request = s3_job(bucket)
    absent = f"{bucket}-absent"
    request["TrainingJobDefinition"]["OutputDataConfig"] = {"S3OutputPath": f"s3://{absent}/m"}
    sagemaker.create_hyper_parameter_tuning_job(**request)

    work(service, tmp_path)

    job = summary(sagemaker)
    assert job["TrainingJobStatus"] == "Failed"
    uri = f"s3://{absent}/m/{job['TrainingJobName']}/output/model.tar.gz"
    assert job["FailureReason"].startswith(f"cannot upload the model: {uri} could not be written")


def test_network_isolation_reads_the_code_from_its_code_channel_and_checkpoints_round_trip(
    service, sagemaker, s3, bucket, tmp_path
):
    client = s3.client()
    program = textwrap.dedent(
        """
        import os
        folder = os.environ["SM_CHECKPOINT_DIR"]
        epoch = int(open(os.path.join(folder, "state.txt")).read().split("=")[1])
        print(f"resumed at {epoch}: acc=0.{epoch};")
        open(os.path.join(folder, "state.txt"), "w").write(f"epoch={epoch + 1}")
        os.makedirs(os.path.join(folder, "sub"))
        open(os.path.join(folder, "sub", "more.txt"), "w").write("more")
        """
    ).encode()
    # As SDK v2 sends code with EnableNetworkIsolation: a `code` channel, its path inside.
    client.put_object(
        Bucket=bucket, Key="isolated/sourcedir.tar.gz", Body=sourcedir({"train.py": program})
    )
    client.put_object(Bucket=bucket, Key="ckpt/state.txt", Body=b"epoch=3")
    request = s3_job(bucket, "/opt/ml/input/data/code/sourcedir.tar.gz")
    definition = request["TrainingJobDefinition"]
    definition["InputDataConfig"].append(channel("code", f"s3://{bucket}/isolated"))
    definition["EnableNetworkIsolation"] = True
    definition["CheckpointConfig"] = {"S3Uri": f"s3://{bucket}/ckpt"}
    sagemaker.create_hyper_parameter_tuning_job(**request)

    work(service, tmp_path)

    job = training_job(sagemaker)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["FinalMetricDataList"][0]["Value"] == 0.3
    read = client.get_object
    assert read(Bucket=bucket, Key="ckpt/state.txt")["Body"].read() == b"epoch=4"
    assert read(Bucket=bucket, Key="ckpt/sub/more.txt")["Body"].read() == b"more"
    # It wrote no model and no output: an empty folder is not uploaded.
    assert client.list_objects_v2(Bucket=bucket, Prefix="models/")["KeyCount"] == 0


def wheel(name, version, module_text):
    """A pure-Python wheel of one module, built by hand, so pip needs no network."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": module_text.encode(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: by-hand\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for path, body in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(body)}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for path, body in files.items():
            archive.writestr(path, body)
    return packed.getvalue()


def test_requirements_are_installed_once_for_the_runs_of_a_job_and_importable(
    service, sagemaker, s3, bucket, tmp_path
):
    client = s3.client()
    requirements = b"--no-index\n./wheels/tinypkg-1.0-py3-none-any.whl\n"
    # Each run says which environment ran it, and which install made it (.complete's
    # inode and time, the marker an install writes last).
    program = textwrap.dedent(
        """
        import os, sys, tinypkg
        print(f"acc={tinypkg.VALUE};")
        made = os.stat(os.path.join(sys.prefix, ".complete"))
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "python.txt"), "w") as f:
            f.write(f"{sys.prefix} {made.st_ino} {made.st_mtime_ns}")
        """
    ).encode()
    code = {
        "train.py": program,
        "requirements.txt": requirements,
        "wheels/tinypkg-1.0-py3-none-any.whl": wheel("tinypkg", "1.0", "VALUE = 0.625\n"),
    }
    client.put_object(Bucket=bucket, Key="first/sourcedir.tar.gz", Body=sourcedir(code))
    digest = hashlib.sha256(requirements).hexdigest()
    venvs = tmp_path / "cache" / "jobs" / "toy" / "venvs"
    request = s3_job(bucket, "s3://{bucket}/first/sourcedir.tar.gz")
    limits = {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1}
    request["HyperParameterTuningJobConfig"]["ResourceLimits"] = limits
    sagemaker.create_hyper_parameter_tuning_job(**request)

    work(service, tmp_path)

    made = (venvs / digest / ".complete").stat()
    runs = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="toy"
    )["TrainingJobSummaries"]
    assert len(runs) == 2
    for run in runs:
        job = sagemaker.describe_training_job(TrainingJobName=run["TrainingJobName"])
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        assert job["FinalMetricDataList"][0]["Value"] == 0.625
        model = unpacked(client, bucket, f"models/{job['TrainingJobName']}/output/model.tar.gz")
        assert model == {
            "python.txt": f"{venvs / digest} {made.st_ino} {made.st_mtime_ns}".encode()
        }
    assert sorted(p.name for p in venvs.iterdir()) == [digest, f"{digest}.lock"]


def test_a_requirement_pip_cannot_install_fails_the_training_job_with_pips_words(
    service, sagemaker, s3, bucket, tmp_path
):
    files = {"train.py": b"print('acc=1;')\n", "requirements.txt": b"--no-index\nnot-here==1.0\n"}
    s3.client().put_object(Bucket=bucket, Key="bad/sourcedir.tar.gz", Body=sourcedir(files))
    sagemaker.create_hyper_parameter_tuning_job(
        **s3_job(bucket, "s3://{bucket}/bad/sourcedir.tar.gz")
    )

    work(service, tmp_path)

    job = summary(sagemaker)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("pip install -r requirements.txt failed (exit code 1): ")
    assert "No matching distribution found for not-here==1.0" in job["FailureReason"]


def test_a_lease_carries_the_training_jobs_channels_output_checkpoints_and_resources(
    service, sagemaker
):
    request = tuning_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}
    )
    definition = request["TrainingJobDefinition"]
    manifest = channel("test", "s3://b/test.manifest", data_type="ManifestFile")
    manifest.update(ContentType="text/csv", CompressionType="Gzip", InputMode="FastFile")
    definition["InputDataConfig"] = [
        channel("train", "s3://b/train/"),
        manifest,
        channel("local", "file:///data/local"),
    ]
    definition["CheckpointConfig"] = {"S3Uri": "s3://b/ckpt", "LocalPath": "/opt/ml/ck"}
    definition["EnableNetworkIsolation"] = True
    definition["ResourceConfig"]["InstanceCount"] = 2
    sagemaker.create_hyper_parameter_tuning_job(**request)

    lease = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]

    assert lease["input_channels"] == [
        {
            "name": "train",
            "uri": "s3://b/train/",
            "data_type": "S3Prefix",
            "content_type": None,
            "compression_type": None,
            "input_mode": "File",  # the job's TrainingInputMode
        },
        {
            "name": "test",
            "uri": "s3://b/test.manifest",
            "data_type": "ManifestFile",
            "content_type": "text/csv",
            "compression_type": "Gzip",
            "input_mode": "FastFile",
        },
        {
            "name": "local",
            "uri": "file:///data/local",
            "data_type": "S3Prefix",
            "content_type": None,
            "compression_type": None,
            "input_mode": "File",
        },
    ]
    assert lease["channels"] == {"local": "file:///data/local"}  # as older workers read it
    assert lease["output_path"] == "s3://bucket/output"
    assert lease["checkpoint"] == {"uri": "s3://b/ckpt", "local_path": "/opt/ml/ck"}
    assert (lease["instance_type"], lease["instance_count"]) == ("ml.m5.large", 2)
    assert lease["network_isolation"] is True
    # A tuning job's algorithm has no entrypoint of its own; CreateTrainingJob's may.
    assert (lease["container_entrypoint"], lease["container_arguments"]) == (None, None)


def test_a_lease_of_a_job_made_through_v1_has_none_of_them(service):
    body = search_job_body(training_image="trainer:1", command=None)
    assert service.client.post("/v1/jobs", json=body).status_code == 201

    lease = service.client.post("/v1/leases", json={"worker": "w"}).json()["lease"]

    assert (lease["input_channels"], lease["channels"]) == ([], {})
    assert (lease["output_path"], lease["checkpoint"]) == (None, None)
    assert (lease["instance_type"], lease["instance_count"]) == (None, None)
    assert (lease["container_entrypoint"], lease["container_arguments"]) == (None, None)
    assert lease["network_isolation"] is False


def test_a_stopped_training_jobs_model_is_uploaded_too(service, sagemaker, s3, bucket, tmp_path):
    started = tmp_path / "started"
    program = textwrap.dedent(
        f"""
        import os, time
        open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("partial")
        open({str(started)!r}, "w").close()
        while True:  # its lines' answers carry the request to stop
            print("working", flush=True)
            time.sleep(0.2)
        """
    ).encode()
    s3.client().put_object(
        Bucket=bucket, Key="slow/sourcedir.tar.gz", Body=sourcedir({"train.py": program})
    )
    sagemaker.create_hyper_parameter_tuning_job(
        **s3_job(bucket, "s3://{bucket}/slow/sourcedir.tar.gz")
    )
    command = [sys.executable, "-m", "app", "worker", "--url", service.url, "--poll", "0.2"]
    command += ["--job", "toy", "--cache-dir", str(tmp_path / "cache"), "--stop-grace", "5"]
    worker = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        while not started.exists() and worker.poll() is None:
            time.sleep(0.1)
        name = summary(sagemaker)["TrainingJobName"]
        sagemaker.stop_training_job(TrainingJobName=name)
        _, stderr = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, stderr

    assert summary(sagemaker)["TrainingJobStatus"] == "Stopped"
    key = f"models/{name}/output/model.tar.gz"
    assert unpacked(s3.client(), bucket, key) == {"model.txt": b"partial"}


def test_a_workers_cache_is_under_xdg_cache_home_or_the_home_folders_cache(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    assert default_cache_dir() == Path("/var/cache/me/logmetrics")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/me")
    assert default_cache_dir() == Path("/home/me/.cache/logmetrics")


@pytest.mark.parametrize(
    ("root", "refused"),
    [
        # The job's code, data and models are all under the bucket's root: it runs.
        ("s3://{bucket}", None),
        # Its channel is under data/, its code under toy/: the code is refused first.
        (
            "s3://{bucket}/data",
            "sagemaker_submit_directory 's3://{bucket}/toy/source/sourcedir.tar.gz' is "
            "outside the S3 locations this worker serves (its --s3-root locations: "
            "s3://{bucket}/data/)",
        ),
        # A root is a folder: s3://b/dat does not take s3://b/data/train.
        (
            "s3://{bucket}/dat",
            "input channel 'train' at 's3://{bucket}/data/train' is outside the S3 "
            "locations this worker serves (its --s3-root locations: s3://{bucket}/dat/)",
        ),
    ],
)
def test_a_worker_given_s3_roots_serves_no_location_outside_them(
    service, sagemaker, s3, bucket, tmp_path, root, refused
):
    sagemaker.create_hyper_parameter_tuning_job(**s3_job(bucket))

    run_worker(
        service.url,
        *("--job", "toy", "--cache-dir", str(tmp_path / "cache")),
        *("--s3-root", root.format(bucket=bucket)),
    )

    found = summary(sagemaker)
    if refused is None:
        assert found["TrainingJobStatus"] == "Completed", found.get("FailureReason")
    else:
        assert (found["TrainingJobStatus"], found["FailureReason"]) == (
            "Failed",
            refused.format(bucket=bucket),
        )
        assert not (tmp_path / "cache" / "s3").exists()  # nothing was downloaded


def test_an_s3_root_that_is_no_s3_location_is_refused_by_the_worker(service):
    done = subprocess.run(
        [sys.executable, "-m", "app", "worker", "--url", service.url, "--s3-root", "bucket/x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        "argument --s3-root: 'bucket/x' is not an S3 location (s3://bucket or "
        "s3://bucket/folder)" in done.stderr
    )


def test_a_manifest_naming_objects_outside_the_s3_roots_fails_having_read_none_of_them(
    service, sagemaker, s3, bucket, tmp_path
):
    client = s3.client()
    code = sourcedir({"train.py": TRAIN.encode()})
    client.put_object(Bucket=bucket, Key="team-a/toy/sourcedir.tar.gz", Body=code)
    client.put_object(Bucket=bucket, Key="team-b/part/numbers.txt", Body=b"9 9 9\n")
    # team-a's own manifest, whose prefix is team-b's folder.
    manifest = json.dumps([{"prefix": f"s3://{bucket}/team-b/"}, "part/numbers.txt"])
    client.put_object(Bucket=bucket, Key="team-a/train.manifest", Body=manifest.encode())
    request = s3_job(bucket, "s3://{bucket}/team-a/toy/sourcedir.tar.gz")
    definition = request["TrainingJobDefinition"]
    definition["InputDataConfig"] = [
        channel("train", f"s3://{bucket}/team-a/train.manifest", data_type="ManifestFile")
    ]
    definition["OutputDataConfig"] = {"S3OutputPath": f"s3://{bucket}/team-a/models"}
    sagemaker.create_hyper_parameter_tuning_job(**request)

    run_worker(
        service.url,
        *("--job", "toy", "--cache-dir", str(tmp_path / "cache")),
        *("--s3-root", f"s3://{bucket}/team-a"),
    )

    found = summary(sagemaker)
    assert (found["TrainingJobStatus"], found["FailureReason"]) == (
        "Failed",
        f"input channel 'train': object 's3://{bucket}/team-b/part/numbers.txt' is outside "
        f"the S3 locations this worker serves (its --s3-root locations: s3://{bucket}/team-a/)",
    )
    assert not (tmp_path / "cache" / "s3").exists()  # nothing was downloaded, nor the code
    assert client.list_objects_v2(Bucket=bucket, Prefix="team-a/models/")["KeyCount"] == 0


def test_an_output_path_and_checkpoints_naming_a_root_without_its_slash_are_that_folder(
    service, sagemaker, s3, bucket, tmp_path
):
    request = s3_job(bucket)
    definition = request["TrainingJobDefinition"]
    definition["OutputDataConfig"] = {"S3OutputPath": f"s3://{bucket}/models"}
    definition["CheckpointConfig"] = {"S3Uri": f"s3://{bucket}/ckpt"}
    sagemaker.create_hyper_parameter_tuning_job(**request)

    run_worker(
        service.url,
        *("--job", "toy", "--cache-dir", str(tmp_path / "cache")),
        *("--s3-root", f"s3://{bucket}/toy", "--s3-root", f"s3://{bucket}/data"),
        *("--s3-root", f"s3://{bucket}/models", "--s3-root", f"s3://{bucket}/ckpt"),
    )

    job = training_job(sagemaker)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    key = f"models/{job['TrainingJobName']}/output/model.tar.gz"
    assert unpacked(s3.client(), bucket, key) == {"model.txt": b"baseline: 3 rows"}
