"""A SageMaker training job on a GPU instance type, run by a worker that counts its GPUs
(fake ones: the program sees the devices it is given, as CUDA_VISIBLE_DEVICES)."""

from __future__ import annotations

import textwrap

from tests.sagemaker.test_training_jobs import code, training_request
from tests.tuning.test_gpus import run_worker

# A script-mode program that prints the GPUs SageMaker's toolkit variables give it.
SHOW_GPUS = textwrap.dedent(
    """
    import os
    print(f"visible={os.environ['CUDA_VISIBLE_DEVICES']};", flush=True)
    print(f"sm_num_gpus={os.environ['SM_NUM_GPUS']};", flush=True)
    print("acc=0.5;", flush=True)
    """
)


def test_a_training_job_on_ml_p3_8xlarge_gets_four_gpus(api, service, sagemaker, tmp_path):
    folder = code(tmp_path)
    (folder / "train.py").write_text(SHOW_GPUS)
    request = training_request("p3", folder, "bucket")
    request["ResourceConfig"]["InstanceType"] = "ml.p3.8xlarge"
    for member in ("CheckpointConfig", "DebugHookConfig", "TensorBoardOutputConfig"):
        del request[member]
    request["OutputDataConfig"] = {"S3OutputPath": f"file://{tmp_path / 'out'}"}
    sagemaker.create_training_job(**request)

    run_worker(service.url, "--job", "p3", "--data-root", str(tmp_path), "--gpus", "0,1,2,3,4,5")

    log = api.get("/v1/jobs/p3/runs/p3/logs").text
    assert "visible=0,1,2,3;\n" in log
    assert "sm_num_gpus=4;\n" in log
    assert sagemaker.describe_training_job(TrainingJobName="p3")["TrainingJobStatus"] == (
        "Completed"
    )
