"""Literal samples shared by several test folders."""

GAN_LINE = (
    "GAN_loss=0.138318; Scaled_reg=2.654134; disc:[-0.017371,0.102429] real 93.3% gen 0.0% "
    "disc-combined=0.000000; disc_train_loss=1.374587; Loss = 16.020744; "
    "Iteration 0 took 0.704s; Elapsed=0s"
)
GAN_DEFINITIONS = [
    {"Name": "GAN_loss", "Regex": "GAN_loss=(.*?);"},
    {"Name": "disc_train_loss", "Regex": "disc_train_loss=(.*?);"},
    {"Name": "disc-combined", "Regex": "disc-combined=(.*?);"},
    {"Name": "loss", "Regex": "Loss = (.*?);"},
]
