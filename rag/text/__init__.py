"""Text: a document's lines into numbered paragraphs with provenance, paragraphs into sentences, words into terms."""
