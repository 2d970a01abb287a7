"""CloudWatch (metrics) as a face of `POST /`: every stored point as a CloudWatch metric."""
