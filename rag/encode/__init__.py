"""Encode: texts into vectors (sentence-transformers, ONNX Runtime, Ray), and questions into the vectors the retriever compares."""
