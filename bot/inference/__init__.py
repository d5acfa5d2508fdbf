"""What a turn runs its models on: the served classifier and FAQ retriever, how they are loaded and checked."""
