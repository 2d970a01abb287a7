# Warm start with the SageMaker SDK v2: a parent tuning job, then one child of each type.
# Job names are given: the SDK's own names are minute-stamped, and three jobs of a minute
# would take the same one.
import sagemaker
from sagemaker.pytorch import PyTorch
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner

session = sagemaker.Session()
train = session.upload_data("data", key_prefix="train")
metrics = [{"Name": "accuracy", "Regex": "validation:accuracy=([0-9.]+);"}]
estimator = PyTorch(
    entry_point="train.py",
    source_dir="code",
    framework_version="2.8",
    py_version="py312",
    instance_type="ml.m5.large",
    instance_count=1,
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    hyperparameters={"epochs": 2},
    metric_definitions=metrics,
)
parent = HyperparameterTuner(
    estimator,
    objective_metric_name="accuracy",
    hyperparameter_ranges={"lr": ContinuousParameter(0.001, 0.1)},
    metric_definitions=metrics,
    strategy="Random",
    max_jobs=2,
    max_parallel_jobs=2,
)
parent.fit({"train": train}, job_name="warm-parent")
parent.wait()

# The SDK's warm start tuners drop the parent's metric definitions (AMT's built-in
# algorithms have theirs built in); an image of one's own needs them given again.
identical = parent.identical_dataset_and_algorithm_tuner()
identical.metric_definitions = metrics
identical.fit({"train": train}, job_name="warm-identical")
identical.wait()

transfer = parent.transfer_learning_tuner()
transfer.metric_definitions = metrics
transfer.fit({"train": train}, job_name="warm-transfer")
transfer.wait()

for tuner in (parent, identical, transfer):
    print(tuner.latest_tuning_job.name, tuner.best_training_job())
