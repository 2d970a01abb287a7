"""Train a small XGBoost binary classifier with a train and a validation evaluation set.

`verbose_eval=True` prints one line per boosting round:
`[round]\\ttrain-auc:...\\ttrain-rmse:...\\t...\\tvalidation-error:...`.
"""

import numpy as np
import xgboost as xgb


def make_data(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    features = rng.normal(size=(size, 6))
    noise = rng.normal(scale=1.5, size=size)
    labels = (features[:, 0] + 0.5 * features[:, 1] - features[:, 2] + noise > 0).astype(int)
    return features, labels


def main() -> None:
    rng = np.random.default_rng(0)
    dtrain = xgb.DMatrix(*make_data(400, rng))
    dval = xgb.DMatrix(*make_data(200, rng))
    params = {
        "objective": "binary:logistic",
        "eval_metric": ["auc", "rmse", "logloss", "error"],
        "max_depth": 3,
        "eta": 0.3,
        "seed": 0,
        "nthread": 1,
    }
    xgb.train(
        params,
        dtrain,
        num_boost_round=12,
        evals=[(dtrain, "train"), (dval, "validation")],
        verbose_eval=True,
    )


if __name__ == "__main__":
    main()
