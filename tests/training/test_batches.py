from __future__ import annotations

import torch
from transformers import AutoTokenizer

from core.encoder import resolve_encoder_path
from training.batches import Batches


def test_batches_pad_to_the_longest_row_only() -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(resolve_encoder_path()), local_files_only=True)
    batches = Batches(tokenizer, ["hi", "where is my new card", "a " * 100], max_length=8)
    assert [len(ids) for ids in batches.ids] == [3, 7, 8]  # [CLS] ... [SEP], truncated at 8
    input_ids, mask = batches.collate([0, 1], torch.device("cpu"))
    assert input_ids.shape == mask.shape == (2, 7)
    assert mask.sum(dim=1).tolist() == [3, 7]
    assert input_ids[0, 3:].eq(tokenizer.pad_token_id).all()
    assert list(batches.iterate(2, order=[2, 0, 1])) == [[2, 0], [1]]
    assert len(Batches(tokenizer, [], max_length=8)) == 0
