"""The learning loop: logs as training data, FAQ gaps, the model catalog, and hot reload of what it promotes."""
