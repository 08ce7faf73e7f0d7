"""Cite: how paragraphs are named and labelled, answers written out as records, and quotes checked against the source."""
