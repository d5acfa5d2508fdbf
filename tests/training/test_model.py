from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from training.model import IntentClassifier, ModelNotFound, Prediction
from training.trainer import TrainResult

FILES = {"config.json", "labels.json", "head.safetensors", "training_args.json", "metrics.json", "README.md"}
ENCODER_FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}


@pytest.fixture(scope="module")
def classifier(tiny_model: TrainResult) -> IntentClassifier:
    return IntentClassifier.load(tiny_model.path, device="cpu")


def test_model_folder_holds_every_file(tiny_model: TrainResult) -> None:
    assert {p.name for p in tiny_model.path.iterdir()} >= FILES
    assert {p.name for p in (tiny_model.path / "encoder").iterdir()} >= ENCODER_FILES
    assert not [p for p in tiny_model.path.parent.iterdir() if p.name.startswith(".")]  # no staging left
    config = json.loads((tiny_model.path / "config.json").read_text())
    assert config["pooling"] == "mean" and config["max_length"] == 32 and config["oos_label"] == "oos"
    assert config["threshold"] == pytest.approx(tiny_model.metrics["threshold"], abs=1e-4)
    assert "Metrics" in (tiny_model.path / "README.md").read_text()


def test_load_exposes_the_registry_entry(classifier: IntentClassifier, tiny_model: TrainResult) -> None:
    assert classifier.labels == sorted(["card_arrival", "top_up", "lost_card", "exchange_rate",
                                        "cancel_transfer", "oos"])
    assert classifier.version == tiny_model.path.name and classifier.path == tiny_model.path
    assert classifier.device.type == "cpu"
    assert classifier.metrics["best_epoch"] >= 1


def test_predicts_training_like_sentences(classifier: IntentClassifier) -> None:
    texts = ["where is my new card?", "I want to add money to my account", "my card got stolen",
             "what exchange rate do you use", "please cancel my transfer"]
    predictions = classifier.predict(texts)
    assert [p.intent for p in predictions] == ["card_arrival", "top_up", "lost_card", "exchange_rate",
                                               "cancel_transfer"]


def test_prediction_shape(classifier: IntentClassifier) -> None:
    (prediction,) = classifier.predict(["where is my card"])
    assert isinstance(prediction, Prediction)
    assert len(prediction.ranking) == 3
    assert prediction.ranking[0] == (prediction.intent, prediction.confidence)
    assert prediction.ranking[0][1] >= prediction.ranking[1][1] >= prediction.ranking[2][1]
    assert classifier.predict([]) == []
    with pytest.raises(TypeError):
        classifier.predict("one string")


def test_out_of_scope_class_is_not_in_scope(classifier: IntentClassifier) -> None:
    (prediction,) = classifier.predict(["tell me a joke"])
    assert prediction.intent == "oos" and not prediction.in_scope


def test_below_threshold_is_not_in_scope(tiny_model: TrainResult) -> None:
    strict = IntentClassifier.load(tiny_model.path, device="cpu")
    (before,) = strict.predict(["where is my card"])
    assert before.in_scope
    strict.threshold = min(1.0, before.confidence + 1e-6)
    (after,) = strict.predict(["where is my card"])
    assert after.intent == before.intent and not after.in_scope


def test_batches_and_threads_agree(classifier: IntentClassifier) -> None:
    texts = ["where is my card", "top up please", "what is the weather", "cancel my transfer"] * 3
    one_batch = classifier.predict(texts)
    assert [p.intent for p in classifier.predict(texts, batch_size=5)] == [p.intent for p in one_batch]
    results: list[list[Prediction]] = []
    threads = [threading.Thread(target=lambda: results.append(classifier.predict(texts))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all([p.intent for p in r] == [p.intent for p in one_batch] for r in results)


def test_save_round_trips(classifier: IntentClassifier, tmp_path: Path) -> None:
    classifier_copy = IntentClassifier.load(classifier.path, device="cpu")
    classifier_copy.save(tmp_path / "copy")
    reloaded = IntentClassifier.load(tmp_path / "copy", device="cpu")
    assert reloaded.version == "copy" and reloaded.threshold == classifier.threshold
    texts = ["where is my card", "tell me a joke"]
    assert reloaded.probabilities(texts).allclose(classifier.probabilities(texts))


def test_missing_model_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="helpline train") as caught:
        IntentClassifier.load(tmp_path / "absent")
    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.path == tmp_path / "absent" and "absent" in str(caught.value)
    assert str(ModelNotFound("no model served yet")) == "no model served yet"
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text('{"format": "something else"}')
    with pytest.raises(ModelNotFound, match="not a helpline-intent-classifier config"):
        IntentClassifier.load(tmp_path / "half")
    (tmp_path / "half" / "config.json").write_text('{"format": "helpline-intent-classifier"}')
    with pytest.raises(ModelNotFound, match=r"missing encoder/config\.json, head\.safetensors, labels\.json"):
        IntentClassifier.load(tmp_path / "half")
