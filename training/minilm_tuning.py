"""What the scripts that fine-tune MiniLM's upper layers share (train_query_encoder.py,
train_paragraph_encoder.py): their common options, quiet logging, the model with only its upper
layers learning, and mean-pooled unit vectors with or without gradients."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.encode.models import resolve_model
from rag.settings import Settings

BASE = "all-MiniLM-L6-v2"
CHECKPOINT = "checkpoint.pt"


def add_common_options(parser: argparse.ArgumentParser, *, epochs: int, batch: int, lr: float) -> None:
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True, help="checkpoints")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--from-layer", type=int, default=3, help="the first transformer layer that learns")
    parser.add_argument("--lexical-weight", type=float, default=Settings().lexical_weight)
    parser.add_argument("--version", default="1.0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from a shipped encoder's layers (a models/ folder), not the packaged ones",
    )


def kept_epoch(history: list[dict], before: float, what: str) -> dict | None:
    """The epoch with the best mean recall@5 on the validation sets, or None (with a warning) when
    none beat `before`, the recall of `what` as packaged."""
    best = max(history, key=lambda h: h["recall5"]) if history else None
    if best is None or best["recall5"] <= before:
        logging.getLogger(__name__).warning(
            "no epoch beat %s (%.4f) on the validation sets; nothing written", what, before
        )
        return None
    return best


def quiet_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for name in ("rag", "httpx", "faiss", "faiss.loader"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass
class Tuned:
    """The packaged MiniLM with its layers from `from_layer` up learning, and their optimiser."""

    tokenizer: Any
    model: Any
    learn: list[str]  # name prefixes of the weights that learn (what is shipped)
    optimiser: Any
    max_length: int

    def encode(self, texts: list[str] | tuple[str, ...], grad: bool = False) -> Any:
        """Unit vectors (a torch tensor), mean-pooled as sentence-transformers pools MiniLM."""
        import torch

        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with torch.set_grad_enabled(grad):
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    def resume(self, work: Path) -> tuple[int, list[dict]]:
        """The epochs done and their history, from the checkpoint in `work` if there is one."""
        import torch

        work.mkdir(parents=True, exist_ok=True)
        if not (work / CHECKPOINT).exists():
            return 0, []
        state = torch.load(work / CHECKPOINT, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimiser.load_state_dict(state["optimiser"])
        logging.getLogger(__name__).info("resumed after epoch %d", state["epoch"])
        return state["epoch"], state["history"]

    def end_epoch(self, work: Path, epoch: int, history: list[dict]) -> None:
        """Keep the learning layers as best.pt when this epoch's recall@5 is the best so far, and
        write the checkpoint (aside, then swapped in)."""
        import torch

        if history[-1]["recall5"] >= max(h["recall5"] for h in history):
            torch.save(self.layers(), work / "best.pt")
        tmp = (work / CHECKPOINT).with_suffix(".part")
        state = {"model": self.model.state_dict(), "optimiser": self.optimiser.state_dict(), "epoch": epoch}
        torch.save({**state, "history": history}, tmp)
        tmp.replace(work / CHECKPOINT)

    def layers(self) -> dict[str, Any]:
        """A copy of the weights that learn."""
        return {
            k: v.detach().clone()
            for k, v in self.model.state_dict().items()
            if any(k.startswith(x) for x in self.learn)
        }


def tuned_minilm(args: argparse.Namespace, *, max_length: int) -> Tuned:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    base = resolve_model(BASE)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(base)
    if args.init is not None:  # continue a shipped encoder: its float16 layers over the packaged model
        from safetensors.torch import load_file

        from rag.encode.delta import LAYERS, read_record
        from rag.errors import RagError

        try:
            read_record(args.init)  # its record and the sha256 of its layers, as loading checks them
        except RagError as exc:
            raise SystemExit(f"--init: {exc}") from exc
        layers = {k: v.float() for k, v in load_file(str(args.init / LAYERS)).items()}
        unknown = set(layers) - set(model.state_dict())
        if unknown:
            raise SystemExit(f"{args.init} holds weights this model lacks: {sorted(unknown)[:3]}")
        model.load_state_dict(layers, strict=False)
    learn = [f"encoder.layer.{i}." for i in range(args.from_layer, model.config.num_hidden_layers)]
    for name, p in model.named_parameters():
        p.requires_grad = any(name.startswith(x) for x in learn)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    return Tuned(tokenizer, model, learn, optimiser, max_length)
