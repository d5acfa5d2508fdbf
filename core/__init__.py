"""What retrieval and training both stand on: the transformer text encoder and line-numbered file errors."""
