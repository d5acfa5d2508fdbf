"""The short README.md model card written into every model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CARD_ARGS = ("epochs", "batch_size", "learning_rate", "head_learning_rate", "label_smoothing",
             "max_length", "val_fraction", "seed")


def render_model_card(config: dict[str, Any], training_args: dict[str, Any], metrics: dict[str, Any]) -> str:
    """Markdown describing the model: architecture, data, threshold, training arguments, metrics."""
    data = config.get("data", {})
    lines = [
        "# Helpline intent classifier",
        "",
        f"- Architecture: {config['architecture']} ({config['num_labels']} intents, "
        f"max {config['max_length']} tokens).",
        f"- Out-of-scope: confidence threshold {config['threshold']:.4f}"
        + (f", explicit class `{config['oos_label']}`." if config.get("oos_label") else "."),
    ]
    if data:
        lines.append(
            f"- Data: {data.get('train_examples', '?')} training and {data.get('val_examples', '?')} "
            f"validation examples over {data.get('labels', '?')} intents "
            f"({data.get('oos_examples', 0)} out-of-scope)."
        )
    if training_args:
        shown = ", ".join(f"{name}={training_args[name]}" for name in CARD_ARGS if name in training_args)
        lines.append(f"- Training: {shown} (all arguments in `training_args.json`).")
    lines += ["", "## Metrics", ""]
    if metrics:
        lines += ["| metric | value |", "| --- | --- |"]
        lines += [f"| {name} | {value} |" for name, value in metrics.items() if not isinstance(value, dict | list)]
    else:
        lines.append("None recorded.")
    lines += ["", "Load it with `training.model.IntentClassifier.load(<this folder>)`.", ""]
    return "\n".join(lines)


def write_model_card(
    path: Path, config: dict[str, Any], training_args: dict[str, Any], metrics: dict[str, Any]
) -> None:
    """Write the model card to ``path``."""
    path.write_text(render_model_card(config, training_args, metrics))
