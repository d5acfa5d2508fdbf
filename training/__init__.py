"""Intent classifier: data loading, fine-tuning, evaluation and the model registry."""
