"""Train the query adapter (rag.encode.adapter) on questions and their gold paragraphs in built indexes.

    python training/train_adapter.py --train INDEX=QUESTIONS [...] --valid INDEX=QUESTIONS [...]
        [--report INDEX=QUESTIONS ...] --out models/query-adapter [--epochs 30] [--tau 0.05] [--decay 0.01]

Each QUESTIONS file is an evaluation file over the documents of its INDEX (`gold_paras`,
`gold_doc`; `training/eval_questions.py` or `bench/public_sets.py` write them); its answerable
questions are used. For every question the retriever's paragraph scores are computed as
`rag.retrieve.retriever.Retriever` does for an index searched exactly (the best cosine of a paragraph's
windows and sentences, fused with BM25 scaled by its best score), with the question's vector
moved by the adapter; the loss is the cross-entropy of the gold paragraph against every
paragraph of its index, plus `--decay` times the squared matrix. The epoch kept is the one with
the best mean recall@5 over the `--valid` sets; `--report` sets are only measured. Prints
recall@1/5/20 of every set before and after, and writes the adapter folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.encode.adapter import QueryAdapter
from rag.encode.embedding import Embedder
from rag.index import IndexData, load_index
from rag.settings import Settings
from rag.text.terms import terms

log = logging.getLogger("train_adapter")


@dataclass
class QuestionSet:
    name: str
    vectors: np.ndarray  # (windows + sentence windows, dimension)
    owners: np.ndarray  # paragraph row of each vector
    paragraphs: int
    questions: np.ndarray  # (questions, dimension)
    lexical: np.ndarray  # (questions, paragraphs), BM25 scaled by its best score
    gold: np.ndarray  # gold paragraph row of each question
    texts: tuple[str, ...] = ()  # the questions themselves


def answerable(data: IndexData, questions: str | Path) -> Iterator[tuple[str, int, np.ndarray]]:
    """Each answerable question of a file with its gold paragraph's row in the index and its BM25
    scores over the index scaled by the best (as the retriever fuses them)."""
    key = {(p.doc_id, p.number): i for i, p in enumerate(data.paragraphs) if p.kind == "para"}
    n = len(data.paragraphs)
    for line in Path(questions).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows = [key.get((r.get("gold_doc"), g)) for g in r.get("gold_paras") or []]
        rows = [x for x in rows if x is not None]
        if not rows:
            continue
        words = terms(r["question"])
        scores = np.asarray(data.bm25.get_scores(words), dtype=np.float32) if words else np.zeros(n, np.float32)
        top = float(scores.max(initial=0.0))
        yield r["question"], rows[0], scores / top if top > 0 else scores


def load_set(spec: str, embedder: Embedder) -> QuestionSet:
    index, questions = spec.split("=", 1)
    data = load_index(index)
    n = len(data.paragraphs)
    qs, lex, gold, texts = [], [], [], []
    for question, row, lexical in answerable(data, questions):
        qs.append(embedder.encode_query(question))
        lex.append(lexical)
        gold.append(row)
        texts.append(question)
    vectors = np.concatenate([np.asarray(data.window_vectors[:]), np.asarray(data.sentence_vectors[:])])
    owners = np.concatenate([data.window_owner, data.sentences[np.asarray(data.sentence_window_owner), 0]])
    name = f"{Path(index).parent.name}/{Path(questions).name}"
    return QuestionSet(
        name,
        vectors.astype(np.float32),
        owners.astype(np.int64),
        n,
        np.stack(qs),
        np.stack(lex),
        np.asarray(gold),
        tuple(texts),
    )


def recall(
    s: QuestionSet, matrix: np.ndarray, lexical_weight: float, ks: tuple[int, ...] = (1, 5, 20)
) -> dict[int, float]:
    moved = s.questions + s.questions @ matrix
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    return recall_of(s, moved, lexical_weight, ks)


def recall_of(
    s: QuestionSet, moved: np.ndarray, lexical_weight: float, ks: tuple[int, ...] = (1, 5, 20)
) -> dict[int, float]:
    """Recall@k of the gold paragraphs when the questions' vectors are `moved`."""
    sims = moved @ s.vectors.T
    dense = np.full((len(moved), s.paragraphs), -1.0, dtype=np.float32)
    for j in range(len(moved)):
        np.maximum.at(dense[j], s.owners, sims[j])
    fused = (1 - lexical_weight) * np.clip(dense, 0, 1) + lexical_weight * s.lexical
    gold = fused[np.arange(len(fused)), s.gold][:, None]
    ranks = (fused > gold).sum(axis=1)
    return {k: round(float((ranks < k).mean()), 4) for k in ks}


def training_record(
    args: argparse.Namespace,
    train: list[QuestionSet],
    valid: list[QuestionSet],
    before: dict[str, dict[int, float]],
    after: dict[str, dict[int, float]],
) -> dict:
    """What the record of a model trained on question sets keeps of its training (this script's
    and training/train_query_encoder.py's): the shared settings, the sets, recall before and after."""
    return {
        "tau": args.tau,
        "lr": args.lr,
        "lexical_weight": args.lexical_weight,
        "seed": args.seed,
        "train": {s.name: len(s.gold) for s in train},
        "valid": {s.name: len(s.gold) for s in valid},
        "recall_before": before,
        "recall_after": after,
    }


def print_recall(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> None:
    for name in before:
        print(f"{name}: before {before[name]} after {after[name]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument("--valid", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument("--report", action="append", default=[], help="INDEX=QUESTIONS, measured only")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--tau", type=float, default=0.05, help="temperature of the softmax over paragraphs")
    parser.add_argument("--decay", type=float, default=0.01, help="weight of the squared matrix in the loss")
    parser.add_argument("--lexical-weight", type=float, default=Settings().lexical_weight)
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    embedder = Embedder("all-MiniLM-L6-v2", threads=2)
    train = [load_set(s, embedder) for s in args.train]
    valid = [load_set(s, embedder) for s in args.valid]
    report = [load_set(s, embedder) for s in args.report]
    dim = train[0].questions.shape[1]
    lw = args.lexical_weight

    def figures(matrix: np.ndarray) -> dict[str, dict[int, float]]:
        return {s.name: recall(s, matrix, lw) for s in (*train, *valid, *report)}

    before = figures(np.zeros((dim, dim), np.float32))
    tensors = [
        (
            torch.tensor(s.vectors),
            torch.tensor(s.owners),
            torch.tensor(s.questions),
            torch.tensor(s.lexical),
            torch.tensor(s.gold),
            s.paragraphs,
        )
        for s in train
    ]
    matrix = torch.zeros(dim, dim, requires_grad=True)
    optimiser = torch.optim.Adam([matrix], lr=args.lr)
    best, best_score, best_epoch = np.zeros((dim, dim), np.float32), -1.0, 0
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        # Each step takes one batch of every training set, so each set weighs the same.
        perms = [torch.randperm(len(t[2])) for t in tensors]
        steps = max(len(p) for p in perms) // args.batch + 1
        for step in range(steps):
            loss = args.decay * (matrix**2).sum()
            for (vectors, owners, questions, lexical, gold, n), perm in zip(tensors, perms, strict=True):
                at = (step * args.batch) % len(perm)
                idx = perm[at : at + args.batch]
                q = questions[idx] + questions[idx] @ matrix
                q = q / q.norm(dim=1, keepdim=True)
                sims = q @ vectors.T
                dense = torch.full((len(idx), n), -1.0).scatter_reduce(1, owners.expand(len(idx), -1), sims, "amax")
                fused = (1 - lw) * dense.clamp(0, 1) + lw * lexical[idx]
                loss = loss + torch.nn.functional.cross_entropy(fused / args.tau, gold[idx]) / len(tensors)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        current = matrix.detach().numpy().copy()
        score = float(np.mean([recall(s, current, lw)[5] for s in valid]))
        print(
            f"epoch {epoch}: mean recall@5 on the validation sets {score:.4f} ({time.time() - started:.0f} s)",
            flush=True,
        )
        if score > best_score:
            best, best_score, best_epoch = current, score, epoch
    after = figures(best)
    about = {
        "name": "query-adapter",
        "version": args.version,
        "model": "all-MiniLM-L6-v2",
        "epochs_kept": best_epoch,
        "epochs": args.epochs,
        "decay": args.decay,
        **training_record(args, train, valid, before, after),
    }
    QueryAdapter(best, about).save(args.out)
    print_recall(before, after)
    print(f"kept epoch {best_epoch}; wrote {args.out}")


if __name__ == "__main__":
    main()
