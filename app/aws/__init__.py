"""What every AWS face of logmetrics shares: the `POST /` route that tells the services
apart by `X-Amz-Target`, SigV4, and checking input against botocore's models."""
