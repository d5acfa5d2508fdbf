from __future__ import annotations

from training.card import render_model_card

CONFIG = {"architecture": "bert encoder + mean pooling + cosine head", "num_labels": 3, "max_length": 64,
          "threshold": 0.42, "oos_label": "oos",
          "data": {"train_examples": 90, "val_examples": 10, "labels": 3, "oos_examples": 5}}


def test_card_summarises_data_threshold_and_metrics() -> None:
    card = render_model_card(CONFIG, {"epochs": 5, "seed": 1}, {"val_accuracy": 0.9, "history": [{}]})
    assert "3 intents" in card and "0.4200" in card and "`oos`" in card
    assert "90 training and 10 validation examples" in card
    assert "epochs=5, seed=1" in card
    assert "| val_accuracy | 0.9 |" in card and "history" not in card


def test_card_without_metrics() -> None:
    assert "None recorded." in render_model_card({**CONFIG, "oos_label": None, "data": {}}, {}, {})
