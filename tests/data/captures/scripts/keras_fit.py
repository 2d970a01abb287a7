"""Fit a tiny Keras 3 classifier with validation data, on the torch backend.

    python keras_fit.py                # verbose left at "auto", which is 1: a progress bar
    python keras_fit.py --verbose 2    # one line per epoch

The data are random points labelled by which side of a plane they fall on, made in memory.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np


def make_data(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    features = rng.normal(size=(size, 8)).astype("float32")
    labels = (features @ np.arange(1, 9, dtype="float32") > 0).astype("float32")
    return features, labels


def main() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(256, rng)
    x_val, y_val = make_data(64, rng)
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    verbose = int(sys.argv[2]) if sys.argv[1:2] == ["--verbose"] else "auto"
    model.fit(
        x_train, y_train, batch_size=32, epochs=3, validation_data=(x_val, y_val), verbose=verbose
    )


if __name__ == "__main__":
    main()
