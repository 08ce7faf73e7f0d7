"""Retrieve: the paragraphs a question is most likely answered in (vectors beside BM25, fused)."""
