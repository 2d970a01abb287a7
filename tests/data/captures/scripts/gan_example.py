"""Print training lines in the format of the GAN example in SageMaker AMT's documentation.

No library prints this; the documentation shows one line (wrapped here),

    GAN_loss=0.138318; Scaled_reg=2.654134; disc:[-0.017371,0.102429] real 93.3% gen 0.0%
    disc-combined=0.000000; disc_train_loss=1.374587; Loss = 16.020744; Iteration 0 took
    0.704s; Elapsed=0s

and this script prints such lines with made-up, seeded values. Iteration 6 reports its
`Loss` as `nan`, as a diverging run's `%f` formatting would, so that a capture holds a
value that must yield no point.
"""

import math
import random

ITERATIONS = 12
NAN_ITERATION = 6


def main() -> None:
    rng = random.Random(0)
    elapsed = 0.0
    for iteration in range(ITERATIONS):
        decay = math.exp(-iteration / 6)
        gan_loss = 0.14 * decay + rng.uniform(0, 0.05)
        scaled_reg = 2.65 * decay + rng.uniform(0, 0.2)
        disc_low, disc_high = -rng.uniform(0, 0.05), rng.uniform(0.05, 0.15)
        real, gen = rng.uniform(85, 99), rng.uniform(0, 10) * (1 - decay)
        disc_combined = 0.0 if iteration == 0 else rng.uniform(0, 0.4)
        disc_train_loss = 1.37 * decay + rng.uniform(0, 0.1)
        loss = math.nan if iteration == NAN_ITERATION else 16.0 * decay + rng.uniform(0, 0.5)
        took = rng.uniform(0.6, 0.8)
        print(
            f"GAN_loss={gan_loss:f}; Scaled_reg={scaled_reg:f}; "
            f"disc:[{disc_low:f},{disc_high:f}] real {real:.1f}% gen {gen:.1f}% "
            f"disc-combined={disc_combined:f}; disc_train_loss={disc_train_loss:f}; "
            f"Loss = {loss:f}; Iteration {iteration} took {took:.3f}s; Elapsed={elapsed:.0f}s",
            flush=True,
        )
        elapsed += took


if __name__ == "__main__":
    main()
