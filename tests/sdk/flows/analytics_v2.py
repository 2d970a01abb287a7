# The SageMaker SDK v2's TrainingJobAnalytics on a training job that ran (TRAINING_JOB):
# DescribeTrainingJob for its times, then GetMetricStatistics from CloudWatch, at
# AWS_ENDPOINT_URL_CLOUDWATCH, for each metric; no endpoint in the code.
import os

from sagemaker.analytics import TrainingJobAnalytics

name = os.environ["TRAINING_JOB"]
# The metrics named, and (without names) those of the job's MetricDefinitions.
for names in (["accuracy"], None):
    frame = TrainingJobAnalytics(name, metric_names=names).dataframe()
    for row in frame.itertuples():
        print("metric", row.timestamp, row.metric_name, row.value)
