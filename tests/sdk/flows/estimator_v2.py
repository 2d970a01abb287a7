# One training job with the SageMaker SDK v2, then attached by name: the README's folder
# (code/train.py, data/rows.csv), no endpoint in the code.
import json

import sagemaker
from sagemaker.pytorch import PyTorch

session = sagemaker.Session()
train = session.upload_data("data", key_prefix="train")
estimator = PyTorch(
    entry_point="train.py",
    source_dir="code",
    framework_version="2.8",
    py_version="py312",
    instance_type="ml.m5.large",
    instance_count=1,
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    hyperparameters={"lr": 0.02, "epochs": 2},
    metric_definitions=[{"Name": "accuracy", "Regex": "validation:accuracy=([0-9.]+);"}],
    base_job_name="toy-fit",
)
# With logs (the SDK's default) fit prints the training output, read through CloudWatch
# Logs at AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.
estimator.fit({"train": train})
name = estimator.latest_training_job.name
print("trained", name)
print("model", estimator.model_data)

attached = PyTorch.attach(name)
print("attached", attached.latest_training_job.name, attached.model_data)
print("hyperparameters", json.dumps(attached.hyperparameters(), sort_keys=True))
