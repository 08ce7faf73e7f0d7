"""Would an int8 encoder do? Speed, agreement with fp32, and answers with int8 query vectors.

    python bench/int8.py [--index index] [--questions eval/paraphrase.jsonl]

Quantises the cached fp32 ONNX export of the packaged MiniLM with ONNX Runtime's dynamic int8
quantisation (weights int8, activations quantised on the fly), then prints for the questions of
`--questions` (one at a time, as they are asked) and the paragraphs of the index (batches of
32): seconds fp32, seconds int8, the speed-up, and the cosine between each text's int8 and fp32
vectors; then `rag eval`'s recall@5 and correct-with-a-gold-citation when the queries are encoded int8
over the same fp32 index. The issue's bar: within 0.01 of fp32.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", default="eval/paraphrase.jsonl")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.assistant import Assistant
    from rag.encode.models import resolve_model
    from rag.encode.onnx import exported_model
    from rag.evaluate.evaluation import evaluate

    assistant = Assistant.load(args.index)
    if assistant.embedder.backend != "onnx":
        raise SystemExit("the index's encoder does not run on ONNX Runtime here")
    encoder = assistant.embedder.model
    fp32 = encoder.session
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model-int8.onnx"
        quantize_dynamic(
            str(exported_model(Path(resolve_model(assistant.data.manifest.build.model)))),
            str(target),
            weight_type=QuantType.QInt8,
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        int8 = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
    questions = [json.loads(line)["question"] for line in open(args.questions, encoding="utf-8") if line.strip()]
    texts = [p.text for p in assistant.data.paragraphs]

    def encode(session: object, items: list[str], batch: int) -> tuple[np.ndarray, float]:
        encoder.session = session
        t = time.perf_counter()
        vectors = encoder.encode(items, batch_size=batch)
        return vectors, time.perf_counter() - t

    for name, items, batch in (("questions", questions, 1), ("paragraphs", texts, 32)):
        a, ta = encode(fp32, items, batch)
        b, tb = encode(int8, items, batch)
        cos = (a * b).sum(1)
        print(
            f"{name} ({len(items)}): fp32 {ta:.2f} s, int8 {tb:.2f} s, speed-up {ta / tb:.2f}; "
            f"cosine(int8, fp32) min {cos.min():.4f}, median {np.median(cos):.4f}"
        )
    for name, session in (("fp32", fp32), ("int8 queries", int8)):
        encoder.session = session
        f = evaluate(assistant, args.questions).figures
        print(
            f"{name}: recall@5 {f.retrieval.recall[5] or 0:.3f}, correct with a gold citation "
            f"{f.answers.correct_cited or 0:.3f} (threshold {assistant.threshold})"
        )


if __name__ == "__main__":
    main()
