"""Train a tiny random-weight BERT classifier with the Hugging Face `Trainer`.

Nothing is downloaded: the model is built from a config and the data set is made in
memory, so the only point of the run is what `Trainer` prints.
"""

import tempfile

import numpy as np
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

SEQ_LEN = 16
VOCAB = 64


class SyntheticPairs(torch.utils.data.Dataset):
    """Token sequences whose label is whether token 1 occurs more often than token 2."""

    def __init__(self, size: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.input_ids = torch.randint(3, VOCAB, (size, SEQ_LEN), generator=generator)
        self.input_ids[:, :4] = torch.randint(1, 3, (size, 4), generator=generator)
        ones = (self.input_ids == 1).sum(dim=1)
        twos = (self.input_ids == 2).sum(dim=1)
        self.labels = (ones > twos).long()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {
            "input_ids": self.input_ids[index],
            "attention_mask": torch.ones(SEQ_LEN, dtype=torch.long),
            "labels": self.labels[index],
        }


def compute_metrics(eval_pred: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    logits, labels = eval_pred
    return {"accuracy": float((np.argmax(logits, axis=-1) == labels).mean())}


def main() -> None:
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=SEQ_LEN,
        num_labels=2,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(
            output_dir=output_dir,
            num_train_epochs=3,
            per_device_train_batch_size=16,
            per_device_eval_batch_size=32,
            learning_rate=5e-4,
            logging_steps=2,
            eval_strategy="epoch",
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            seed=0,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=SyntheticPairs(64, seed=1),
            eval_dataset=SyntheticPairs(32, seed=2),
            compute_metrics=compute_metrics,
        )
        trainer.train()


if __name__ == "__main__":
    main()
