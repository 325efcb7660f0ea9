"""Range test for a Hugging Face style model: dict batches in, an output with `.loss` out.

Run:  python examples/dict_batches.py     (CPU, a few seconds)

A tiny transformer encoder classifies generated token sequences (does token 7 occur more often than token 3?).
No criterion is passed: lrfinder uses the loss the model returns, and says so in the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lrfinder import find_lr


@dataclass
class Output:  # like transformers' ModelOutput: attributes, loss only when labels are given
    logits: torch.Tensor
    loss: torch.Tensor | None = None


class TinyEncoder(nn.Module):
    def __init__(self, vocab: int = 16, dim: int = 32, classes: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        layer = nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=64, batch_first=True, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1)
        self.head = nn.Linear(dim, classes)

    def forward(self, input_ids, attention_mask, labels=None):
        h = self.encoder(self.embed(input_ids), src_key_padding_mask=attention_mask == 0)
        logits = self.head(h.mean(dim=1))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return Output(logits=logits, loss=loss)


class TokenDataset(torch.utils.data.Dataset):
    def __init__(self, n: int = 2000, length: int = 12, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 16, (n, length), generator=g)
        self.labels = ((self.ids == 7).sum(1) > (self.ids == 3).sum(1)).long()

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones_like(self.ids[i]), "labels": self.labels[i]}


def main() -> None:
    torch.manual_seed(0)
    loader = torch.utils.data.DataLoader(TokenDataset(), batch_size=32, shuffle=True)
    model = TinyEncoder()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    result = find_lr(model, loader, opt, start_lr=1e-6, end_lr=1.0, num_iter=100)
    print(result.summary())


if __name__ == "__main__":
    main()
