"""FAQ retrieval: sentence encoder, FAQ files, FAISS index, on-disk store and retrieval metrics."""
