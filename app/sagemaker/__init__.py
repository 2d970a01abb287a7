"""SageMaker's own API (AWS JSON 1.1 at POST /), for boto3 and the SageMaker SDK."""
