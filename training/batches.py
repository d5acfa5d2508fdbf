"""Texts tokenised once and served as padded tensor batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from transformers import PreTrainedTokenizerBase


class Batches:
    """Texts tokenised once, served as padded tensor batches."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int) -> None:
        self.ids: list[list[int]] = (
            tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"] if texts else []
        )
        self.pad_id = tokenizer.pad_token_id or 0

    def __len__(self) -> int:
        return len(self.ids)

    def collate(self, rows: Sequence[int], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Input ids and attention mask for the given rows, padded to the longest."""
        width = max(len(self.ids[row]) for row in rows)
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            input_ids[i, : len(self.ids[row])] = torch.tensor(self.ids[row])
            mask[i, : len(self.ids[row])] = 1
        return input_ids.to(device), mask.to(device)

    def iterate(self, batch_size: int, order: Sequence[int] | None = None) -> Iterator[list[int]]:
        """Row indices in batches, in ``order`` (default: as given)."""
        rows = list(order) if order is not None else list(range(len(self)))
        for start in range(0, len(rows), batch_size):
            yield rows[start : start + batch_size]
