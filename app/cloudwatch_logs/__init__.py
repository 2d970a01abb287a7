"""CloudWatch Logs' API (AWS JSON 1.1 at POST /, `Logs_20140328.<Operation>`): every run's
stored log, read as log groups, streams and events, for the AWS CLI and the SageMaker SDK."""
