"""Accuracy and speed against baselines measured in the same run; each module is one ``python -m`` command."""

import os

# An entry point: nothing may download at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
