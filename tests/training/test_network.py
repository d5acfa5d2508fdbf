from __future__ import annotations

import pytest
import torch

from training.network import CosineHead, LinearHead, build_head

MEANS = torch.tensor([[3.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 5.0]])


@pytest.mark.parametrize("kind", ["cosine", "linear"])
def test_heads_start_as_nearest_class_mean(kind: str) -> None:
    head = build_head(kind, hidden_size=3, num_labels=3, scale=10.0)
    head.init_from_means(MEANS)
    points = torch.tensor([[2.0, 0.5, 0.1], [0.2, 5.0, 0.3], [0.1, 0.1, 4.0]])
    assert head(points).argmax(dim=1).tolist() == [0, 1, 2]


def test_cosine_head_logits_are_bounded_by_its_scale() -> None:
    head = CosineHead(3, 3, scale=10.0)
    head.init_from_means(MEANS)
    logits = head(torch.tensor([[7.0, 0.0, 0.0]]))
    assert logits[0].tolist() == pytest.approx([10.0, 0.0, 0.0], abs=1e-5)
    assert isinstance(build_head("linear", 3, 3), LinearHead)
    with pytest.raises(ValueError):
        build_head("mlp", 3, 3)
