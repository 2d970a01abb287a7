"""Fit a tiny PyTorch Lightning classifier that logs train_loss, val_loss and val_acc.

    python lightning_fit.py            # the Trainer's default progress bar
    python lightning_fit.py --tqdm     # TQDMProgressBar, the default when rich is absent

Lightning 2.x picks `RichProgressBar` when the `rich` package is importable (Keras 3
depends on it, so it usually is) and `TQDMProgressBar` otherwise.
"""

import sys
import tempfile

import lightning as L
import torch
from lightning.pytorch.callbacks import TQDMProgressBar
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def make_loader(size: int, seed: int, shuffle: bool) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(size, 8, generator=generator)
    labels = (features @ torch.arange(1.0, 9.0) > 0).long()
    return DataLoader(TensorDataset(features, labels), batch_size=16, shuffle=shuffle)


class Classifier(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        features, labels = batch
        loss = nn.functional.cross_entropy(self.net(features), labels)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        features, labels = batch
        logits = self.net(features)
        self.log("val_loss", nn.functional.cross_entropy(logits, labels), prog_bar=True)
        self.log("val_acc", (logits.argmax(dim=1) == labels).float().mean(), prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=0.01)


def main() -> None:
    L.seed_everything(0)
    callbacks = [TQDMProgressBar()] if "--tqdm" in sys.argv[1:] else []
    with tempfile.TemporaryDirectory() as root:
        trainer = L.Trainer(
            max_epochs=2,
            accelerator="cpu",
            devices=1,
            default_root_dir=root,
            callbacks=callbacks,
            enable_checkpointing=False,
        )
        trainer.fit(
            Classifier(),
            train_dataloaders=make_loader(64, seed=1, shuffle=True),
            val_dataloaders=make_loader(32, seed=2, shuffle=False),
        )


if __name__ == "__main__":
    main()
