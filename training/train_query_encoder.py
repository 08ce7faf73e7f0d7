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
from pathlib import Path

import numpy as np
from train_adapter import QuestionSet, load_set, print_recall, recall_of, training_record  # noqa: I001 (a script beside this one)

from rag.encode.embedding import Embedder
from rag.encode.models import resolve_model
from rag.settings import Settings

log = logging.getLogger("train_query_encoder")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument("--valid", action="append", required=True, help="INDEX=QUESTIONS")
    parser.add_argument("--report", action="append", default=[], help="INDEX=QUESTIONS, measured only")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="checkpoints")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--from-layer", type=int, default=3, help="the first transformer layer that learns")
    parser.add_argument("--lexical-weight", type=float, default=Settings().lexical_weight)
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for name in ("rag", "httpx", "faiss", "faiss.loader"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import torch
    from transformers import AutoModel, AutoTokenizer

    from rag.encode.delta import save_delta

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    embedder = Embedder("all-MiniLM-L6-v2", threads=2)
    train = [load_set(s, embedder) for s in args.train]
    valid = [load_set(s, embedder) for s in args.valid]
    report = [load_set(s, embedder) for s in args.report]
    lw = args.lexical_weight

    base = resolve_model("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base)
    learn = [f"encoder.layer.{i}." for i in range(args.from_layer, model.config.num_hidden_layers)]
    for name, p in model.named_parameters():
        p.requires_grad = any(name.startswith(x) for x in learn)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)

    def encode(texts: list[str] | tuple[str, ...], grad: bool = False) -> torch.Tensor:
        batch = tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
        with torch.set_grad_enabled(grad):
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

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
    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.work / "checkpoint.pt"
    epoch, history = 0, []
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        epoch, history = state["epoch"], state["history"]
        log.info("resumed after epoch %d", epoch)
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
        layers = {k: v.detach().clone() for k, v in model.state_dict().items() if any(k.startswith(x) for x in learn)}
        if score >= max(h["recall5"] for h in history):
            torch.save(layers, args.work / "best.pt")
        tmp = checkpoint.with_suffix(".part")
        torch.save(
            {"model": model.state_dict(), "optimiser": optimiser.state_dict(), "epoch": epoch, "history": history}, tmp
        )
        tmp.replace(checkpoint)
    best = max(history, key=lambda h: h["recall5"])
    base_score = float(np.mean([before[s.name][5] for s in valid]))
    if best["recall5"] <= base_score:
        log.warning("no epoch beat the packaged model (%.4f) on the validation sets; nothing written", base_score)
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
