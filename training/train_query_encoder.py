"""Train the query encoder (rag.encode.query_encoder): MiniLM's upper layers fine-tuned for questions only.

    python training/train_query_encoder.py --train INDEX=QUESTIONS [...] --valid INDEX=QUESTIONS [...]
        [--report INDEX=QUESTIONS ...] --out models/query-encoder [--epochs 6] [--from-layer 3]

The stored paragraph vectors stay those of the packaged model, so no index is re-embedded; only the
question is encoded by the fine-tuned copy, and only to rank paragraphs (its own vector from the
packaged model still scores the sentences). The objective is the query adapter's
(`training/train_adapter.py`, whose loading and recall this reuses): the cross-entropy of the gold
paragraph against every paragraph of its index under the retriever's own fused score (best cosine
of a paragraph's windows and sentences, plus BM25 scaled by its best score). The word embeddings
and the layers below `--from-layer` stay as packaged; the layers from it up learn and are shipped
in float16 (`rag.encode.delta`). The epoch kept is the one with the best mean recall@5 over the
`--valid` sets. A checkpoint is written after every epoch into `--work`, and a killed run resumes.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np
from minilm_tuning import add_common_options, kept_epoch, quiet_logging, tuned_minilm  # noqa: I001 (scripts beside this one)
from train_adapter import QuestionSet, load_set, print_recall, recall_of, training_record

from rag.encode.embedding import Embedder

log = logging.getLogger("train_query_encoder")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument("--valid", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument("--report", action="append", default=[], help="INDEX=QUESTIONS, measured only")
    add_common_options(parser, epochs=6, batch=32, lr=3e-5)
    args = parser.parse_args()
    quiet_logging()
    import torch

    from rag.encode.delta import save_delta

    tuned = tuned_minilm(args, max_length=128)
    model, optimiser, encode = tuned.model, tuned.optimiser, tuned.encode
    embedder = Embedder("all-MiniLM-L6-v2", threads=2)
    train = [load_set(s, embedder) for s in args.train]
    valid = [load_set(s, embedder) for s in args.valid]
    report = [load_set(s, embedder) for s in args.report]
    lw = args.lexical_weight

    def vectors(s: QuestionSet) -> np.ndarray:
        model.eval()
        return np.concatenate([encode(s.texts[i : i + 128]).numpy() for i in range(0, len(s.texts), 128)])

    def figures() -> dict[str, dict[int, float]]:
        return {s.name: recall_of(s, vectors(s), lw) for s in (*train, *valid, *report)}

    before = {s.name: recall_of(s, s.questions, lw) for s in (*train, *valid, *report)}
    for name, got in before.items():
        log.info("packaged model: %s %s", name, got)
    from train_adapter import recall

    from rag.encode.adapter import QueryAdapter

    shipped = QueryAdapter.load()
    for s in (*valid, *report):
        log.info("with the shipped query adapter: %s %s", s.name, recall(s, shipped.matrix, lw))
    tensors = [
        (torch.tensor(s.vectors), torch.tensor(s.owners), torch.tensor(s.lexical), torch.tensor(s.gold), s.paragraphs)
        for s in train
    ]
    epoch, history = tuned.resume(args.work)
    generator = torch.Generator().manual_seed(args.seed + epoch)
    while epoch < args.epochs:
        started = time.time()
        model.train()
        perms = [torch.randperm(len(t[3]), generator=generator) for t in tensors]
        steps = max(len(p) for p in perms) // args.batch + 1
        for step in range(steps):
            loss = torch.zeros(())
            for s, (vecs, owners, lexical, gold, n), perm in zip(train, tensors, perms, strict=True):
                at = (step * args.batch) % len(perm)
                idx = perm[at : at + args.batch]
                q = encode([s.texts[i] for i in idx.tolist()], grad=True)
                sims = q @ vecs.T
                dense = torch.full((len(idx), n), -1.0).scatter_reduce(1, owners.expand(len(idx), -1), sims, "amax")
                fused = (1 - lw) * dense.clamp(0, 1) + lw * lexical[idx]
                loss = loss + torch.nn.functional.cross_entropy(fused / args.tau, gold[idx]) / len(tensors)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        epoch += 1
        score = float(np.mean([recall_of(s, vectors(s), lw)[5] for s in valid]))
        history.append({"epoch": epoch, "recall5": score})
        log.info("epoch %d: mean recall@5 on the validation sets %.4f (%.0f s)", epoch, score, time.time() - started)
        tuned.end_epoch(args.work, epoch, history)
    best = kept_epoch(history, float(np.mean([before[s.name][5] for s in valid])), "the packaged model")
    if best is None:
        return
    model.load_state_dict(torch.load(args.work / "best.pt"), strict=False)
    after = figures()
    about = {
        "name": "query-encoder",
        "version": args.version,
        "base": "all-MiniLM-L6-v2",
        "role": "query",
        "from_layer": args.from_layer,
        "epochs": args.epochs,
        "epoch_kept": best["epoch"],
        "batch": args.batch,
        "history": history,
        **training_record(args, train, valid, before, after),
    }
    save_delta(torch.load(args.work / "best.pt"), about, args.out)
    print_recall(before, after)
    print(f"kept epoch {best['epoch']}; wrote {args.out}")
    print(json.dumps(history))


if __name__ == "__main__":
    main()
