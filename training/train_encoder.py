"""Fine-tune the paragraph encoder (all-MiniLM-L6-v2) on questions and the paragraphs that answer them.

    python training/train_encoder.py pairs --index-set INDEX=QUESTIONS [...] --public DATA/obliqa [...] \
        --out WORK/encoder/pairs.jsonl
    python training/train_encoder.py train --pairs WORK/encoder/pairs.jsonl \
        --valid INDEX=QUESTIONS --work WORK/encoder --out models/retriever-encoder [--steps 1200]

`pairs` writes (question, gold paragraph, hard negative) triples:
- for every INDEX=QUESTIONS evaluation file (`training/eval_questions.py`, `bench/public_sets.py`
  write them), each answerable question's gold paragraph as the index holds it, and as negative
  the best-ranked other paragraph among the product's own top 10 (ranks 3-10 first, since the
  first two are most often a second right answer);
- for every public set folder (docs.jsonl, questions.jsonl), each answerable question's gold
  paragraph, and as negative the best BM25 paragraph of the same document that is not gold.

`train` continues the packaged model with sentence-transformers' multiple-negatives ranking loss
(in-batch negatives plus the hard one). The word embeddings stay as packaged and only the six
transformer layers learn, so the shipped model is those layers in float16
(`rag.encoder_delta`). A checkpoint is written every `--every` steps into WORK and a killed run
resumes from the last. At each checkpoint the validation questions are measured by
recall@5 of their gold paragraph among the paragraphs of its own document (question against
each paragraph's first window); the checkpoint with the best figure is the one written to --out.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("train_encoder")


def index_pairs(spec: str, rng: random.Random) -> list[dict]:
    from rag.assistant import Assistant
    from rag.terms import terms

    index, questions = spec.split("=", 1)
    assistant = Assistant.load(index)
    data = assistant.data
    key = {(p.doc_id, p.number): i for i, p in enumerate(data.paragraphs) if p.kind == "para"}
    out = []
    for line in Path(questions).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        gold = {key.get((r.get("gold_doc"), g)) for g in r.get("gold_paras") or []} - {None}
        if not gold:
            continue
        q = r["question"]
        evidence = assistant.retriever.search(assistant.embedder.encode_query(q), terms(q), k=10, question=q)
        others = [row for row in evidence.hit_rows if row not in gold]
        later = [row for row in evidence.hit_rows[2:] if row not in gold]
        if not others:
            continue
        negative = (later or others)[0]
        out.append(
            {
                "source": Path(index).parent.name,
                "question": q,
                "positive": data.paragraphs[min(gold)].text,
                "negative": data.paragraphs[negative].text,
            }
        )
    return out


def public_pairs(folder: Path, rng: random.Random, limit: int) -> list[dict]:
    import bm25s

    from rag.selector_data import hashed_split

    docs = {}
    for line in (folder / "docs.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        docs[d["doc_id"]] = d["paragraphs"]
    rows = [json.loads(line) for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    # Only the documents of the train split (rag.selector_data), as the reader's trainers use them.
    rows = [r for r in rows if r.get("gold_para") is not None and hashed_split(r["doc_id"]) == "train"]
    rng.shuffle(rows)
    rows = rows[:limit]
    retrievers: dict[str, bm25s.BM25] = {}
    out = []
    for r in rows:
        paras = docs[r["doc_id"]]
        if len(paras) < 3:
            continue
        if r["doc_id"] not in retrievers:
            bm = bm25s.BM25()
            bm.index(bm25s.tokenize(paras, stopwords="en", show_progress=False), show_progress=False)
            retrievers[r["doc_id"]] = bm
        gold = {r["gold_para"], *(r.get("alt_gold_paras") or [])}
        found, _ = retrievers[r["doc_id"]].retrieve(
            bm25s.tokenize([r["question"]], stopwords="en", show_progress=False),
            k=min(10, len(paras)),
            show_progress=False,
        )
        negative = next((int(i) for i in found[0] if int(i) not in gold), None)
        if negative is None:
            continue
        out.append(
            {
                "source": folder.name,
                "question": r["question"],
                "positive": paras[r["gold_para"]],
                "negative": paras[negative],
            }
        )
    return out


def make_pairs(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    pairs: list[dict] = []
    for spec in args.index_set:
        got = index_pairs(spec, rng)
        log.info("%s: %d pairs", spec, len(got))
        pairs += got
    for folder in args.public:
        got = public_pairs(folder, rng, args.public_limit)
        log.info("%s: %d pairs", folder, len(got))
        pairs += got
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    log.info("wrote %d pairs to %s", len(pairs), args.out)


def validation(spec: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Questions, the paragraphs of each one's document, and the gold position among them."""
    from rag.index import load_index

    index, questions = spec.split("=", 1)
    data = load_index(index)
    by_doc: dict[str, list[int]] = {}
    for i, p in enumerate(data.paragraphs):
        by_doc.setdefault(p.doc_id, []).append(i)
    qs, paras, gold = [], [], []
    for line in Path(questions).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows = by_doc.get(r.get("gold_doc"), [])
        numbers = [data.paragraphs[i].number if data.paragraphs[i].kind == "para" else None for i in rows]
        at = [numbers.index(g) for g in r.get("gold_paras") or [] if g in numbers]
        if not at:
            continue
        qs.append(r["question"])
        paras.append([data.paragraphs[i].text for i in rows])
        gold.append(at[0])
    return qs, paras, gold


def within_doc_recall(model, valid: tuple[list[str], list[list[str]], list[int]], k: int = 5) -> float:
    qs, paras, gold = valid
    unique = sorted({t for doc in paras for t in doc})
    at = {t: i for i, t in enumerate(unique)}
    pv = model.encode(unique, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    qv = model.encode(qs, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    hits = 0
    for q, doc, g in zip(qv, paras, gold, strict=True):
        sims = pv[[at[t] for t in doc]] @ q
        hits += int((sims > sims[g]).sum() < k)
    return hits / len(qs)


def train(args: argparse.Namespace) -> None:
    import torch
    from sentence_transformers import SentenceTransformer, losses

    from rag.embedding import resolve_model
    from rag.encoder_delta import save_delta, trainable_state

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    base = resolve_model("all-MiniLM-L6-v2")
    model = SentenceTransformer(base, device="cpu")
    model.max_seq_length = args.max_length
    for name, p in model.named_parameters():
        p.requires_grad = ".encoder.layer." in name
    params = [p for p in model.parameters() if p.requires_grad]
    loss_fn = losses.MultipleNegativesRankingLoss(model, scale=args.scale)
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)

    pairs = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines()]
    by_source: dict[str, list[dict]] = {}
    for p in pairs:
        by_source.setdefault(p["source"], []).append(p)
    weights = {s: float(w) for s, w in (x.split("=") for x in args.weight)}
    sources = sorted(by_source)
    probs = np.asarray([weights.get(s, 1.0) for s in sources])
    probs = probs / probs.sum()
    log.info(
        "pairs per source: %s; sampling weights %s",
        {s: len(by_source[s]) for s in sources},
        dict(zip(sources, probs.round(3).tolist(), strict=True)),
    )
    valid = [validation(v) for v in args.valid]

    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.work / "checkpoint.pt"
    step, history = 0, []
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, history = state["step"], state["history"]
        rng.setstate(state["rng"])
        log.info("resumed at step %d", step)
    else:
        model.eval()
        score = float(np.mean([within_doc_recall(model, v) for v in valid]))
        history.append({"step": 0, "recall5": score})
        log.info("step 0: within-document recall@5 %.4f", score)

    def lr_at(s: int) -> float:
        warm = max(1, args.steps // 10)
        return args.lr * min(1.0, (s + 1) / warm) * max(0.0, (args.steps - s) / max(1, args.steps - warm))

    started = time.time()
    nprng = np.random.default_rng(args.seed + step)
    while step < args.steps:
        model.train()
        batch = []
        for s in nprng.choice(len(sources), size=args.batch, p=probs):
            batch.append(rng.choice(by_source[sources[s]]))
        features = [model.tokenize([b[key] for b in batch]) for key in ("question", "positive", "negative")]
        for group in optimiser.param_groups:
            group["lr"] = lr_at(step)
        loss = loss_fn(features, None)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        step += 1
        if step % 20 == 0:
            log.info("step %d loss %.4f (%.1f s a step)", step, float(loss), (time.time() - started) / 20)
            started = time.time()
        if step % args.every == 0 or step == args.steps:
            model.eval()
            score = float(np.mean([within_doc_recall(model, v) for v in valid]))
            history.append({"step": step, "recall5": score})
            log.info("step %d: within-document recall@5 %.4f", step, score)
            best = max(h["recall5"] for h in history)
            if score >= best:
                torch.save(trainable_state(model), args.work / "best.pt")
            tmp = checkpoint.with_suffix(".part")
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "step": step,
                    "history": history,
                    "rng": rng.getstate(),
                },
                tmp,
            )
            tmp.replace(checkpoint)
            started = time.time()
    best_step = max(history, key=lambda h: h["recall5"])
    about = {
        "name": "retriever-encoder",
        "version": args.version,
        "base": "all-MiniLM-L6-v2",
        "steps": args.steps,
        "step_kept": best_step["step"],
        "batch": args.batch,
        "lr": args.lr,
        "scale": args.scale,
        "max_length": args.max_length,
        "seed": args.seed,
        "pairs": {s: len(by_source[s]) for s in sources},
        "weights": dict(zip(sources, probs.round(4).tolist(), strict=True)),
        "validation": args.valid,
        "history": history,
    }
    if best_step["step"] == 0:
        log.warning("no step beat the packaged model on the validation questions; nothing written")
        return
    state = torch.load(args.work / "best.pt", weights_only=False)
    save_delta(state, about, args.out)
    log.info("kept step %d (%.4f); wrote %s", best_step["step"], best_step["recall5"], args.out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("--index-set", action="append", default=[], help="INDEX=QUESTIONS")
    p.add_argument("--public", action="append", type=Path, default=[], help="a public set folder")
    p.add_argument("--public-limit", type=int, default=3000)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train")
    t.add_argument("--pairs", type=Path, required=True)
    t.add_argument("--valid", action="append", required=True, help="INDEX=QUESTIONS")
    t.add_argument("--work", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--steps", type=int, default=1200)
    t.add_argument("--every", type=int, default=200)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--lr", type=float, default=3e-5)
    t.add_argument("--scale", type=float, default=20.0)
    t.add_argument("--max-length", type=int, default=256)
    t.add_argument("--weight", action="append", default=[], help="SOURCE=WEIGHT for sampling (default 1)")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--version", default="1.0")
    t.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for name in ("sentence_transformers", "httpx", "rag"):
        logging.getLogger(name).setLevel(logging.WARNING)
    make_pairs(args) if args.command == "pairs" else train(args)


if __name__ == "__main__":
    main()
