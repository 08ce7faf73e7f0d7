"""Evaluate: question files, the harness that scores answers against gold citations, and its report."""
