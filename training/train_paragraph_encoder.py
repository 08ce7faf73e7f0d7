"""Train the paragraph encoder: MiniLM's upper layers fine-tuned to embed paragraphs (their
windows) where the questions users ask about them land.

    python training/train_paragraph_encoder.py --train INDEX=QUESTIONS [...] --valid INDEX=QUESTIONS [...]
        --out models/paragraph-encoder --work CHECKPOINTS [--epochs 4] [--from-layer 3]

The other side stays fixed: questions are encoded by the shipped query encoder
(`models/query-encoder/`), and sentences keep the packaged model's vectors (they are what the answer
step scores with the question's vector). Only the vectors of paragraph windows move, so the objective
is the retriever's own fused score with the windows re-encoded: the cross-entropy of the gold
paragraph against every paragraph of its index (best cosine of a paragraph's windows and sentences,
plus BM25 scaled by its best score). Every window of an index cannot be encoded again at every step:
the windows of each question's gold paragraph and of its `--hard` best-scored wrong paragraphs are
encoded with gradients, the others are read from a cache of all windows that is encoded again after
every epoch. The epoch kept is the one with the best mean recall@5 over the `--valid` sets; a
checkpoint is written after every epoch into `--work`, and a killed run resumes.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from minilm_tuning import add_common_options, kept_epoch, quiet_logging, tuned_minilm  # noqa: I001 (scripts beside this one)
from train_adapter import answerable

from rag.encode.embedding import Embedder
from rag.encode.query_encoder import QueryEncoder
from rag.index import load_index

log = logging.getLogger("train_paragraph_encoder")


@dataclass
class Split:
    name: str
    windows: list[str]  # the text of every paragraph window, in the index's order
    window_owner: np.ndarray  # paragraph row of each window
    first_window: np.ndarray  # (paragraphs + 1,) where each paragraph's windows start
    sentence_best: np.ndarray  # (questions, paragraphs) best sentence cosine, fixed
    lexical: np.ndarray  # (questions, paragraphs) BM25 scaled by its best score
    questions: np.ndarray  # (questions, dimension) from the query encoder
    gold: np.ndarray  # gold paragraph row of each question
    paragraphs: int
    cache: np.ndarray  # (windows, dimension) current window vectors


def load_split(spec: str, embedder: Embedder, queries: QueryEncoder) -> Split:
    index, questions = spec.split("=", 1)
    data = load_index(index)
    n = len(data.paragraphs)
    windows: list[str] = []
    owners: list[int] = []
    for row, p in enumerate(data.paragraphs):
        for piece in embedder.windows(p.text):
            windows.append(piece)
            owners.append(row)
    owner = np.asarray(owners, dtype=np.int64)
    if len(owner) != len(data.window_owner) or not np.array_equal(owner, np.asarray(data.window_owner)):
        raise SystemExit(f"{index}: its windows are not the ones this embedder cuts; rebuild it")
    sentence_vectors = np.asarray(data.sentence_vectors[:], dtype=np.float32)
    sentence_owner = np.asarray(data.sentences[np.asarray(data.sentence_window_owner), 0], dtype=np.int64)
    qs, lex, gold, best = [], [], [], []
    for question, row, lexical in answerable(data, questions):
        q = queries(embedder.encode_query(question), question)
        b = np.full(n, -1.0, dtype=np.float32)
        np.maximum.at(b, sentence_owner, sentence_vectors @ q)
        qs.append(q)
        lex.append(lexical)
        gold.append(row)
        best.append(b)
    first = np.searchsorted(owner, np.arange(n + 1))
    return Split(
        f"{Path(index).parent.name}/{Path(questions).name}",
        windows,
        owner,
        first,
        np.stack(best),
        np.stack(lex),
        np.stack(qs).astype(np.float32),
        np.asarray(gold),
        n,
        np.asarray(data.window_vectors[:], dtype=np.float32),
    )


def fused_scores(s: Split, window_vectors: np.ndarray, lw: float, rows: np.ndarray | None = None) -> np.ndarray:
    q = s.questions if rows is None else s.questions[rows]
    sims = q @ window_vectors.T
    dense = np.full((len(q), s.paragraphs), -1.0, dtype=np.float32)
    for j in range(len(q)):
        np.maximum.at(dense[j], s.window_owner, sims[j])
    best = s.sentence_best if rows is None else s.sentence_best[rows]
    lexical = s.lexical if rows is None else s.lexical[rows]
    return (1 - lw) * np.clip(np.maximum(dense, best), 0, 1) + lw * lexical


def recall(s: Split, window_vectors: np.ndarray, lw: float, ks: tuple[int, ...] = (1, 5, 20)) -> dict[int, float]:
    fused = fused_scores(s, window_vectors, lw)
    gold = fused[np.arange(len(fused)), s.gold][:, None]
    ranks = (fused > gold).sum(axis=1)
    return {k: round(float((ranks < k).mean()), 4) for k in ks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument("--valid", action="append", required=True, help="INDEX=QUESTIONS")
    add_common_options(parser, epochs=4, batch=16, lr=2e-5)
    parser.add_argument("--hard", type=int, default=3, help="wrong paragraphs re-encoded per question")
    parser.add_argument("--max-steps", type=int, default=0, help="stop an epoch early (timing runs)")
    args = parser.parse_args()
    quiet_logging()
    import torch

    from rag.encode.delta import save_delta

    tuned = tuned_minilm(args, max_length=256)
    model, optimiser, encode = tuned.model, tuned.optimiser, tuned.encode
    embedder = Embedder("all-MiniLM-L6-v2", threads=2)
    queries = QueryEncoder.load(threads=2)
    train = [load_split(s, embedder, queries) for s in args.train]
    valid = [load_split(s, embedder, queries) for s in args.valid]
    lw = args.lexical_weight
    log.info(
        "loaded %s",
        ", ".join(f"{s.name}: {len(s.gold)} questions, {len(s.windows)} windows" for s in train + valid),
    )

    def encode_all(s: Split) -> np.ndarray:
        model.eval()
        order = np.argsort([len(t) for t in s.windows])  # similar lengths pad less
        out = np.zeros((len(s.windows), s.cache.shape[1]), dtype=np.float32)
        for i in range(0, len(order), 64):
            rows = order[i : i + 64]
            out[rows] = encode([s.windows[r] for r in rows]).numpy()
        return out

    before = {s.name: recall(s, s.cache, lw) for s in train + valid}
    for name, got in before.items():
        log.info("packaged windows: %s %s", name, got)
    epoch, history = tuned.resume(args.work)
    if epoch:
        for s in train:
            s.cache = encode_all(s)
    generator = torch.Generator().manual_seed(args.seed + epoch)
    while epoch < args.epochs:
        started = time.time()
        model.train()
        # One batch at a time from each training split in turn.
        batches = []
        for k, s in enumerate(train):
            perm = torch.randperm(len(s.gold), generator=generator).numpy()
            batches += [(k, perm[i : i + args.batch]) for i in range(0, len(perm), args.batch)]
        order = torch.randperm(len(batches), generator=generator).tolist()
        for step, b in enumerate(order):
            if args.max_steps and step >= args.max_steps:
                break
            k, rows = batches[b]
            s = train[k]
            cached = fused_scores(s, s.cache, lw, rows)
            gold = s.gold[rows]
            cached[np.arange(len(rows)), gold] = -np.inf
            hard = np.argsort(-cached, axis=1)[:, : args.hard]
            chosen = np.unique(np.concatenate([gold, hard.ravel()]))
            wrows = np.concatenate([np.arange(s.first_window[p], s.first_window[p + 1]) for p in chosen])
            fresh = encode([s.windows[w] for w in wrows], grad=True)
            q = torch.tensor(s.questions[rows])
            sims_cached = torch.tensor(s.questions[rows] @ s.cache.T)
            dense = torch.full((len(rows), s.paragraphs), -1.0).scatter_reduce(
                1, torch.tensor(s.window_owner).expand(len(rows), -1), sims_cached, "amax"
            )
            # The chosen paragraphs' scores come from their windows encoded now, with gradients.
            local = {int(p): i for i, p in enumerate(chosen)}
            owner_local = torch.tensor([local[int(s.window_owner[w])] for w in wrows])
            fresh_dense = torch.full((len(rows), len(chosen)), -1.0).scatter_reduce(
                1, owner_local.expand(len(rows), -1), q @ fresh.T, "amax"
            )
            dense = dense.index_copy(1, torch.tensor(chosen), fresh_dense)
            best = torch.tensor(s.sentence_best[rows])
            fused = (1 - lw) * torch.maximum(dense, best).clamp(0, 1) + lw * torch.tensor(s.lexical[rows])
            loss = torch.nn.functional.cross_entropy(fused / args.tau, torch.tensor(gold))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            s.cache[wrows] = fresh.detach().numpy()
            if step % 20 == 0:
                log.info(
                    "epoch %d step %d/%d loss %.4f (%.0f s)",
                    epoch + 1,
                    step,
                    len(order),
                    loss.item(),
                    time.time() - started,
                )
        epoch += 1
        for s in train:
            s.cache = encode_all(s)
        got = {s.name: recall(s, encode_all(s), lw) for s in valid}
        score = float(np.mean([g[5] for g in got.values()]))
        history.append({"epoch": epoch, "recall5": score, "valid": got})
        log.info("epoch %d: valid %s, mean recall@5 %.4f (%.0f s)", epoch, got, score, time.time() - started)
        tuned.end_epoch(args.work, epoch, history)
    best = kept_epoch(history, float(np.mean([before[s.name][5] for s in valid])), "the packaged windows")
    if best is None:
        return
    about = {
        "name": "paragraph-encoder",
        "version": args.version,
        "base": "all-MiniLM-L6-v2",
        "role": "paragraph",
        "from_layer": args.from_layer,
        "epochs": args.epochs,
        "epoch_kept": best["epoch"],
        "batch": args.batch,
        "hard": args.hard,
        "tau": args.tau,
        "lr": args.lr,
        "lexical_weight": lw,
        "seed": args.seed,
        "query_encoder": queries.about.get("version"),
        "train": {s.name: len(s.gold) for s in train},
        "valid": {s.name: len(s.gold) for s in valid},
        "recall_before": before,
        "history": history,
    }
    save_delta(torch.load(args.work / "best.pt"), about, args.out)
    print(f"kept epoch {best['epoch']}; wrote {args.out}")
    print(json.dumps(history))


if __name__ == "__main__":
    main()
