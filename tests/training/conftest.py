"""A tiny classifier really fine-tuned once per session (6 intents, one of them out-of-scope)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.args import TrainingArguments
from training.data import Example
from training.trainer import TrainResult, train

UTTERANCES = {
    "card_arrival": [
        "where is my card", "my card has not arrived", "when will my new card come",
        "the card still has not been delivered", "how long does the card take to arrive",
        "I am still waiting for my card", "what is the status of my card delivery",
        "has my card been sent yet", "can I track my card", "my card is not here yet",
    ],
    "top_up": [
        "how do I top up", "add money to my account", "top up with a bank transfer",
        "can I top up by card", "put funds in my account", "my top up failed",
        "the top up did not go through", "increase my balance", "load money onto the app",
        "what is the top up limit",
    ],
    "lost_card": [
        "I lost my card", "my card was stolen", "I can't find my card anywhere",
        "someone stole my wallet with the card", "block my lost card", "freeze my card it is missing",
        "I think I left my card at the shop", "report a stolen card", "my card is gone",
        "what do I do if I lose my card",
    ],
    "exchange_rate": [
        "what is the exchange rate", "how much is a dollar in euros", "which rate do you use for currency",
        "exchange rate for pounds", "is the currency rate fair", "why was the exchange rate bad",
        "convert euros to yen rate", "what rate will I get abroad", "currency conversion rate today",
        "how are exchange rates calculated",
    ],
    "cancel_transfer": [
        "cancel my transfer", "stop the payment I just sent", "I sent money to the wrong person",
        "can I reverse a transfer", "undo my last transfer", "please cancel the bank transfer",
        "I want my transfer cancelled", "how to stop a pending transfer", "revoke the payment",
        "cancel the money I sent",
    ],
    "oos": [
        "what is the weather tomorrow", "tell me a joke", "who won the football match",
        "give me a pancake recipe", "play some music", "what time is it in tokyo",
        "book me a flight to rome", "how tall is mount everest", "sing me a song",
        "translate hello into french",
    ],
}
EXAMPLES = [Example(text, label) for label, texts in UTTERANCES.items() for text in texts]
# Tiny but real: a few optimiser steps on 32-token inputs keep a run to seconds on two cores.
TINY_ARGS = dict(epochs=2, batch_size=16, max_length=32, val_fraction=0.2, head_learning_rate=1e-2, seed=7,
                 device="cpu")


def tiny_train(out_dir: Path, examples: list[Example] = EXAMPLES, **overrides: object) -> TrainResult:
    """Fine-tune the real encoder on the tiny data set."""
    args = TrainingArguments(**{**TINY_ARGS, **overrides})  # type: ignore[arg-type]
    return train(examples, args, None, out_dir, progress=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The tiny model's folder and metrics (trained once per session)."""
    return tiny_train(tmp_path_factory.mktemp("tiny") / "model")
