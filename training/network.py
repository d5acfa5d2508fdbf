"""The classifier network: encoder, mean pooling, dropout and a cosine or linear head."""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import PreTrainedModel

from core.encoder import mean_pool


class CosineHead(nn.Module):
    """Logits = learned scale x cosine(embedding, class prototype); prototypes start at class means."""

    def __init__(self, hidden_size: int, num_labels: int, scale: float = 20.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_labels, hidden_size))
        self.log_scale = nn.Parameter(torch.tensor(math.log(scale)))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        cosine = nn.functional.normalize(pooled, dim=-1) @ nn.functional.normalize(self.weight, dim=-1).T
        return self.log_scale.exp() * cosine

    @torch.no_grad()
    def init_from_means(self, class_means: torch.Tensor) -> None:
        """Point every prototype at its class's mean embedding."""
        self.weight.copy_(nn.functional.normalize(class_means, dim=-1))


class LinearHead(nn.Module):
    """A dense layer over the pooled embedding; starts at normalised class means, like the cosine head."""

    def __init__(self, hidden_size: int, num_labels: int, scale: float = 20.0) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, num_labels)
        self.init_scale = scale
        nn.init.normal_(self.linear.weight, std=0.02)
        nn.init.zeros_(self.linear.bias)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.linear(pooled)

    @torch.no_grad()
    def init_from_means(self, class_means: torch.Tensor) -> None:
        """Start near a scaled nearest-class-mean classifier (pooled embeddings are not unit length)."""
        typical_norm = class_means.norm(dim=-1).mean().clamp(min=1e-6)
        self.linear.weight.copy_(self.init_scale * nn.functional.normalize(class_means, dim=-1) / typical_norm)
        self.linear.bias.zero_()


HEAD_TYPES: dict[str, type[CosineHead] | type[LinearHead]] = {"cosine": CosineHead, "linear": LinearHead}


class IntentNetwork(nn.Module):
    """Encoder + mean pooling + dropout + head, mapping token ids to intent logits."""

    def __init__(self, encoder: PreTrainedModel, head: CosineHead | LinearHead, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = head

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mean-pooled sentence embeddings."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(input_ids, attention_mask)).float())


def build_head(kind: str, hidden_size: int, num_labels: int, scale: float = 20.0) -> CosineHead | LinearHead:
    """A head of the named kind ("cosine" or "linear")."""
    if kind not in HEAD_TYPES:
        raise ValueError(f"unknown head {kind!r}; expected one of {sorted(HEAD_TYPES)}")
    return HEAD_TYPES[kind](hidden_size, num_labels, scale)
