"""Train the answer selector (rag.answer.selector) from public data, reproducibly, on a CPU.

    python -m rag.answer.train_selector --data ../shared/data --out models/answer-selector \
        [--layers 3] [--max-tokens 96] [--steps 1500] [--seed 0] [--init FOLDER]

Starts from the packaged all-MiniLM-L6-v2 (its first `--layers` layers), or from an earlier
selector folder (`--init`, to continue on more data). Reads the train split of SQuAD 2.0 dev,
PolicyQA, COVID-QA and the project's paraphrased questions over UN documents
(`training/un-paraphrase.jsonl`), trains with a fixed seed, checkpoints every `--checkpoint-every`
steps (a killed run resumes from the last one with `--resume`), measures the top-sentence accuracy
on the calibration split, and writes fp16 safetensors, config, tokenizer, selector.json and a
model card with the data files' hashes, the splits and the figures.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.selector import WEIGHTS, build_model, pair_text, unpack_state
from rag.answer.selector_card import PUBLIC_SETS, model_card, save
from rag.answer.selector_data import INDOMAIN_FILE, Pair, candidate_pairs, indomain_pairs, public_pairs
from rag.errors import BadData, MissingData

log = logging.getLogger("rag.answer.train_selector")

NAME = "answer-selector"


def gather(
    data: Path, split: str, limits: dict[str, int | None], indomain: Path | None, indomain_repeat: int, seed: int
) -> list[Pair]:
    if not data.is_dir():
        raise MissingData(f"data folder {data} not found: give the public QA sets' folder with --data")
    pairs: list[Pair] = []
    for name in PUBLIC_SETS:
        got = public_pairs(data / name, split, max_questions=limits.get(name), seed=seed)
        log.info("%s %s: %d pairs, %d positive", name, split, len(got), sum(p.label for p in got))
        pairs += got
    if indomain is not None:
        got = indomain_pairs(indomain, data, split, seed=seed)
        log.info("un-paraphrase %s: %d pairs, %d positive", split, len(got), sum(p.label for p in got))
        pairs += got * (indomain_repeat if split == "train" else 1)
    return pairs


def groups_of(pairs: list[Pair]) -> list[list[Pair]]:
    by: dict[tuple[str, str], list[Pair]] = {}
    for p in pairs:
        by.setdefault((p.source, p.group), []).append(p)
    return list(by.values())


def batches(groups: list[list[Pair]], size: int, rng: random.Random) -> list[list[list[Pair]]]:
    """Whole questions packed into batches of about `size` pairs (one question is never split)."""
    order = groups[:]
    rng.shuffle(order)
    out: list[list[list[Pair]]] = []
    current: list[list[Pair]] = []
    n = 0
    for g in order:
        g = g[:size]
        if n + len(g) > size and current:
            out.append(current)
            current, n = [], 0
        current.append(g)
        n += len(g)
    if current:
        out.append(current)
    return out


def encode(tokenizer: Any, pairs: list[Pair], max_tokens: int) -> dict:
    return tokenizer(
        [p.question for p in pairs],
        [pair_text(p.item) for p in pairs],
        padding=True,
        truncation="only_second",
        max_length=max_tokens,
        return_tensors="pt",
    )


def loss_of(torch: Any, logits: Any, groups: list[list[Pair]], pos_weight: float) -> Any:
    """Pointwise: is this sentence an answer (BCE, positives weighted). Listwise, for questions
    with an answer: the answer should outscore the question's other candidates (softmax CE)."""
    labels = torch.tensor([p.label for g in groups for p in g], dtype=torch.float32)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, pos_weight=torch.tensor(pos_weight))
    listwise, n, at = [], 0, 0
    for g in groups:
        part = logits[at : at + len(g)]
        lab = labels[at : at + len(g)]
        at += len(g)
        if lab.sum() > 0 and lab.sum() < len(g):
            listwise.append(-(torch.logsumexp(part[lab > 0], 0) - torch.logsumexp(part, 0)))
            n += 1
    return bce + (torch.stack(listwise).mean() if listwise else 0.0)


def top1_figures(scores: np.ndarray, pairs: list[Pair]) -> dict[str, float | None]:
    """Per question: is its best-scored candidate a positive (answerable ones), and how well the
    best score separates answerable from unanswerable questions (ROC AUC)."""
    by: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(pairs):
        by.setdefault((p.source, p.group), []).append(i)
    right, best, answerable = [], [], []
    for rows in by.values():
        s = scores[rows]
        labels = np.asarray([pairs[i].label for i in rows])
        best.append(float(s.max()))
        answerable.append(bool(labels.any()))
        if labels.any():
            right.append(bool(labels[int(np.argmax(s))]))
    from rag.evaluate.results import roc_auc

    return {
        "questions": len(by),
        "top1_accuracy": round(float(np.mean(right)), 4) if right else None,
        "answerability_auc": roc_auc(
            [b for b, a in zip(best, answerable) if a], [b for b, a in zip(best, answerable) if not a]
        ),
    }


def score_pairs(model: Any, tokenizer: Any, pairs: list[Pair], max_tokens: int, batch: int = 64) -> np.ndarray:
    import torch

    out = np.zeros(len(pairs), dtype=np.float32)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].question) + len(pair_text(pairs[i].item)))
    model.eval()
    with torch.inference_mode():
        for first in range(0, len(order), batch):
            rows = order[first : first + batch]
            enc = encode(tokenizer, [pairs[i] for i in rows], max_tokens)
            out[rows] = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]).numpy()
    return out


def initial_model(init: Path | None, layers: int) -> tuple[Any, Any, Any]:
    """(model, tokenizer, config): the packaged MiniLM's first layers, an earlier selector folder,
    or a training checkpoint (`state.pt` of an earlier run, same layer count)."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertConfig, BertModel

    from rag.encode.models import resolve_model

    if init is not None and init.is_dir():
        config = BertConfig.from_pretrained(str(init))
        model = build_model(config)
        model.load_state_dict(unpack_state(load_file(str(init / WEIGHTS))))
        return model, AutoTokenizer.from_pretrained(str(init)), config
    base = resolve_model("all-MiniLM-L6-v2")
    config = BertConfig.from_pretrained(base)
    config.num_hidden_layers = layers
    model = build_model(config)
    if init is not None:
        model.load_state_dict(torch.load(init, weights_only=False)["model"])
        log.info("continued from checkpoint %s", init)
        return model, AutoTokenizer.from_pretrained(base), config
    pretrained = BertModel.from_pretrained(base, add_pooling_layer=False)
    missing = model.encoder.load_state_dict(pretrained.state_dict(), strict=False)
    log.info("initialised from %s (%d layers); unused weights: %d", base, layers, len(missing.unexpected_keys))
    torch.nn.init.normal_(model.head.weight, std=0.02)
    torch.nn.init.zeros_(model.head.bias)
    return model, AutoTokenizer.from_pretrained(base), config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.answer.train_selector", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the public QA sets' folder (shared/data)")
    parser.add_argument("--out", type=Path, default=Path("models") / NAME)
    parser.add_argument("--init", type=Path, default=None, help="continue from this selector folder")
    parser.add_argument("--indomain", type=Path, default=INDOMAIN_FILE)
    parser.add_argument("--no-indomain", action="store_true")
    parser.add_argument(
        "--pairs",
        type=Path,
        action="append",
        default=[],
        help="a file of candidates mined from the retriever (training/mine_candidates.py) for the train split; repeatable",
    )
    parser.add_argument("--pairs-repeat", type=int, default=1, help="times each mined pair is seen")
    parser.add_argument(
        "--calibration-pairs", type=Path, action="append", default=[], help="mined candidates of the calibration split"
    )
    parser.add_argument("--indomain-repeat", type=int, default=3, help="times each in-domain pair is seen")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--steps", type=int, default=1500, help="steps of the learning-rate schedule")
    parser.add_argument(
        "--stop-after", type=int, default=None, help="end after this many steps (keeping the schedule of --steps)"
    )
    parser.add_argument("--note", default="", help="a line for the model card (e.g. how --init was made)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--pos-weight", type=float, default=3.0)
    parser.add_argument("--squad", type=int, default=None, help="at most this many SQuAD train questions")
    parser.add_argument("--policyqa", type=int, default=1500)
    parser.add_argument("--covidqa", type=int, default=600)
    parser.add_argument("--calibration-questions", type=int, default=600, help="per public set, for the figures")
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out.ckpt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--version", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    indomain = None if args.no_indomain else args.indomain
    limits = {"squad2_dev": args.squad, "policyqa": args.policyqa, "covidqa": args.covidqa}
    try:
        train = gather(args.data, "train", limits, indomain, args.indomain_repeat, args.seed)
        cal_limits = {k: args.calibration_questions for k in PUBLIC_SETS}
        # Mined calibration candidates, when given, are what the figures are read on (what the
        # assistant really ranks); else pairs made from the public sets' calibration split.
        calibration = (
            [p for path in args.calibration_pairs for p in candidate_pairs(path)]
            if args.calibration_pairs
            else gather(args.data, "calibration", cal_limits, indomain, 1, args.seed)
        )
        for path in args.pairs:
            got = candidate_pairs(path)
            log.info("mined %s: %d pairs, %d positive", path.name, len(got), sum(p.label for p in got))
            train += got * args.pairs_repeat
    except (MissingData, BadData, KeyError) as exc:
        what = f"a row lacks the field {exc}" if isinstance(exc, KeyError) else str(exc)
        parser.exit(2, f"error: {what}\n")
    groups = groups_of(train)
    model, tokenizer, config = initial_model(args.init, args.layers)
    encoder_params = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    optimiser = torch.optim.AdamW(
        [{"params": encoder_params, "lr": args.lr}, {"params": model.head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / 100) * max(0.0, 1 - step / args.steps)
    )
    ckpt = args.out.with_name(args.out.name + ".ckpt")
    step = 0
    if args.resume and (ckpt / "state.pt").is_file():
        state = torch.load(ckpt / "state.pt", weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        rng.setstate(state["rng"])
        log.info("resumed at step %d", step)
    started = time.time()
    plan: list[list[list[Pair]]] = []
    model.train()
    running = []
    last = min(args.steps, args.stop_after or args.steps)
    while step < last:
        if not plan:
            plan = batches(groups, args.batch, rng)
        chunk = plan.pop()
        flat = [p for g in chunk for p in g]
        enc = encode(tokenizer, flat, args.max_tokens)
        logits = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        loss = loss_of(torch, logits, chunk, args.pos_weight)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        running.append(loss.item())
        if step % 50 == 0:
            log.info("step %d/%d loss %.4f (%.0f s)", step, args.steps, np.mean(running[-50:]), time.time() - started)
        if step % args.checkpoint_every == 0 or step == last:
            ckpt.mkdir(parents=True, exist_ok=True)
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "schedule": schedule.state_dict(),
                    "step": step,
                    "rng": rng.getstate(),
                },
                ckpt / "state.tmp",
            )
            (ckpt / "state.tmp").replace(ckpt / "state.pt")
    seconds = round(time.time() - started)
    scores = score_pairs(model, tokenizer, calibration, args.max_tokens)
    figures = top1_figures(scores, calibration)
    log.info("calibration split: %s", figures)
    version = args.version or time.strftime("%Y.%m.%d")
    about = {
        "name": NAME,
        "version": version,
        "layers": config.num_hidden_layers,
        "max_tokens": args.max_tokens,
        "quantize": "dynamic-int8",
        "steps": args.steps,
        "batch": args.batch,
        "lr": args.lr,
        "head_lr": args.head_lr,
        "pos_weight": args.pos_weight,
        "seed": args.seed,
        "seconds": seconds,
        "steps_run": last,
        "note": args.note,
        "train_pairs": len(train),
        "train_positive": sum(p.label for p in train),
        "train_questions": len(groups),
        "figures": figures,
        "init": "all-MiniLM-L6-v2" if args.init is None else f"continued from {args.init.name}",
        "command": "python -m rag.answer.train_selector " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    save(model, tokenizer, config, args.out, about, model_card(about, args.data, indomain))
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
