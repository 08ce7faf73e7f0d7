"""The answer selector: a small cross-encoder that reads a question beside one candidate sentence
(with the sentence before it and its section heading) and gives a logit that the sentence answers it.

It is the packaged MiniLM's first layers, mean-pooled over the pair as the checkpoint was
trained, with one linear unit on top; `rag.answer.train_selector` trains it from public data and writes
the folder this module loads (`models/answer-selector/`: weights, config, tokenizer, selector.json
with its name, version and the sha256 of the weights, and a model card).
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import SelectorProblem
from rag.hashing import sha256_file
from rag.paths import MODELS

log = logging.getLogger(__name__)

#: Where the selector shipped with the project lives (a source checkout or an editable install).
DEFAULT_SELECTOR = MODELS / "answer-selector"
WEIGHTS = "model.safetensors"
ABOUT = "selector.json"
FIX = "restore it with `git checkout models/` or retrain it with `python -m rag.answer.train_selector`"


@dataclass(frozen=True, slots=True)
class SelectorInput:
    """What the selector reads of a candidate: the sentence, the one before it, its heading."""

    sentence: str
    previous: str = ""
    heading: str = ""


def candidate_heading(section: tuple[str, ...], title: str | None) -> str:
    """The heading a candidate is read with: its section's title, else its document's title."""
    return (section[-1] if section else title or "")[:200]


def pair_text(item: SelectorInput) -> str:
    """The second segment of the pair: the sentence first, so that truncation cuts context, not it."""
    context = " ".join(part for part in (item.heading, item.previous) if part)
    return f"{item.sentence} [SEP] {context}" if context else item.sentence


#: The one large matrix, stored as int8 with one scale per row: the folder stays under 30 MB.
_EMBEDDINGS = "encoder.embeddings.word_embeddings.weight"


def pack_state(state: dict[str, Any]) -> dict[str, Any]:
    """A state dict as stored: fp16, the word embeddings int8 with per-row scales."""
    import torch

    out = {k: v.detach().to(torch.float16).contiguous() for k, v in state.items() if k != _EMBEDDINGS}
    table = state[_EMBEDDINGS].detach().float()
    scale = table.abs().amax(dim=1).clamp(min=1e-8) / 127.0
    out[_EMBEDDINGS + ".int8"] = torch.round(table / scale[:, None]).to(torch.int8).contiguous()
    out[_EMBEDDINGS + ".scale"] = scale.to(torch.float32).contiguous()
    return out


def unpack_state(stored: dict[str, Any]) -> dict[str, Any]:
    """The float32 state dict of a stored one."""
    state = {k: v.float() for k, v in stored.items() if not k.startswith(_EMBEDDINGS)}
    if _EMBEDDINGS + ".int8" in stored:
        state[_EMBEDDINGS] = stored[_EMBEDDINGS + ".int8"].float() * stored[_EMBEDDINGS + ".scale"][:, None]
    elif _EMBEDDINGS in stored:
        state[_EMBEDDINGS] = stored[_EMBEDDINGS].float()
    return state


def build_model(config: Any) -> Any:
    """The network: a BERT encoder, mean pooling, one linear unit. (torch imported here, lazily.)"""
    import torch
    from transformers import BertModel

    class PairScorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel(config, add_pooling_layer=False)
            self.head = torch.nn.Linear(config.hidden_size, 1)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    return PairScorer()


def shipped_label(folder: str | Path | None = None) -> str:
    """The name@version of the selector in a folder, read from selector.json alone ("" if none)."""
    try:
        about = json.loads((Path(folder or DEFAULT_SELECTOR) / ABOUT).read_text(encoding="utf-8"))
        return f"{about['name']}@{about['version']}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def export_onnx(folder: Path, target: Path) -> None:
    """Export a selector folder's network, in float32, to an ONNX file (torch needed for this step only)."""
    import tempfile

    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig

    model = build_model(BertConfig.from_pretrained(str(folder)))
    model.load_state_dict(unpack_state(load_file(str(folder / WEIGHTS))))
    model.eval()
    ids = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes, expected for this graph
        out = Path(tmp) / "selector.onnx"
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(out),
            input_names=names,
            output_names=["logit"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "logit": {0: "batch"}},
        )
        out.replace(target)


class _OnnxPairs:
    """The selector's network on ONNX Runtime, its pairs tokenized with `tokenizers` exactly as
    `transformers` does for it (the question cut to half the budget, then the candidate)."""

    def __init__(self, folder: Path, sha256: str, max_tokens: int, *, quantize: bool) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from rag.encode.onnx import cache_root

        place = cache_root() / "selector" / sha256[:16]
        target = place / "selector.onnx"
        if not target.is_file():
            log.info("exporting the answer selector to ONNX (once)")
            export_onnx(folder, target)
        if quantize:  # its matrices in 8 bits (per output channel): about twice as fast
            quantized = place / "selector.int8.onnx"
            if not quantized.is_file():
                from onnxruntime.quantization import QuantType, quantize_dynamic

                partial = place / "selector.int8.onnx.tmp"
                root = logging.getLogger()
                level = root.level
                root.setLevel(logging.ERROR)  # it advises pre-processing, which this graph does not need
                try:
                    quantize_dynamic(str(target), str(partial), weight_type=QuantType.QInt8, per_channel=True)
                finally:
                    root.setLevel(level)
                partial.replace(quantized)
            target = quantized
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        self.max_tokens = max_tokens
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens, strategy="only_second")
        self.plain = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.plain.no_padding()
        self.plain.no_truncation()

    def logits(self, question: str, texts: list[str]) -> np.ndarray:
        q_ids = self.plain.encode(question, add_special_tokens=False).ids
        if len(q_ids) > self.max_tokens // 2:
            question = self.plain.decode(q_ids[: self.max_tokens // 2])
        encoded = self.tokenizer.encode_batch([(question, t) for t in texts])
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for j, e in enumerate(encoded):
            ids[j, : len(e.ids)] = e.ids
            mask[j, : len(e.ids)] = 1
            types[j, : len(e.ids)] = e.type_ids
        out = self.session.run(["logit"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)


class AnswerSelector:
    """A loaded selector; `logits(question, items)` scores candidates (higher = more likely the answer)."""

    def __init__(self, model: Any, tokenizer: Any, about: dict[str, Any], folder: Path, onnx: Any = None) -> None:
        self.model = model
        self.onnx = onnx  # the network on ONNX Runtime (then model and tokenizer are None)
        self.tokenizer = tokenizer
        self.about = about
        self.folder = folder
        self.max_tokens = int(about.get("max_tokens", 128))

    @property
    def name(self) -> str:
        return str(self.about.get("name", "answer-selector"))

    @property
    def version(self) -> str:
        return str(self.about.get("version", "?"))

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def runtime(self) -> str:
        """How it reads: "onnx" or "torch", with "-int8" when its linear layers are quantised."""
        quantized = self.about.get("quantize", "dynamic-int8") == "dynamic-int8"
        return ("onnx" if self.onnx is not None else "torch") + ("-int8" if quantized else "")

    @classmethod
    def load(cls, folder: str | Path | None = None, *, backend: str = "onnx") -> AnswerSelector:
        """Load a selector folder written by `rag.answer.train_selector`, checking its weights' hash.

        `backend` "onnx" (the default) runs the network on ONNX Runtime, exported once into the
        cache, so answering imports neither torch nor transformers; "torch" runs it with torch
        (training uses it). Either quantises its linear layers to 8 bits when selector.json says
        "dynamic-int8", else runs in float32.

        Raises:
            SelectorProblem: a file is missing, unreadable or not the one selector.json names.
        """
        folder = Path(folder) if folder is not None else DEFAULT_SELECTOR
        about_path, weights = folder / ABOUT, folder / WEIGHTS
        if not about_path.is_file() or not weights.is_file():
            missing = ABOUT if not about_path.is_file() else WEIGHTS
            raise SelectorProblem(f"the answer selector is missing ({folder / missing} not found); {FIX}")
        try:
            about = json.loads(about_path.read_text(encoding="utf-8"))
            expected = about["sha256"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SelectorProblem(f"the answer selector's {about_path} is unreadable ({exc}); {FIX}") from exc
        if sha256_file(weights) != expected:
            raise SelectorProblem(
                f"the answer selector's weights {weights} do not match selector.json "
                f"(damaged or from another version); {FIX}"
            )
        if backend == "onnx":
            try:
                quantize = about.get("quantize", "dynamic-int8") == "dynamic-int8"
                onnx = _OnnxPairs(folder, expected, int(about.get("max_tokens", 128)), quantize=quantize)
                return cls(None, None, about, folder, onnx)
            except SelectorProblem:
                raise
            except Exception as exc:  # onnxruntime, tokenizers and the export raise many types
                raise SelectorProblem(
                    f"cannot run the answer selector from {folder} on ONNX Runtime: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; {FIX}"
                ) from exc
        try:
            import torch
            from safetensors.torch import load_file
            from transformers import AutoTokenizer, BertConfig

            config = BertConfig.from_pretrained(str(folder))
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
            model = build_model(config)
            model.load_state_dict(unpack_state(load_file(str(weights))))
            model.eval()
            if about.get("quantize", "dynamic-int8") == "dynamic-int8":
                with warnings.catch_warnings():  # torch marks this API for a later move; it works in 2.13
                    warnings.simplefilter("ignore")
                    model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        except Exception as exc:  # safetensors, transformers and torch raise many types
            raise SelectorProblem(
                f"cannot load the answer selector from {folder}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; {FIX}"
            ) from exc
        return cls(model, tokenizer, about, folder)

    def logits(self, question: str, items: list[SelectorInput]) -> np.ndarray:
        """One logit per candidate. Any question or sentence is cut to fit the model safely."""
        if not items:
            return np.zeros(0, dtype=np.float32)
        if self.onnx is not None:
            return self.onnx.logits(question, [pair_text(i) for i in items])
        import torch

        # The question gets at most half the budget; the candidate keeps the rest.
        q_ids = self.tokenizer(question, add_special_tokens=False, verbose=False)["input_ids"]
        if len(q_ids) > self.max_tokens // 2:
            question = self.tokenizer.decode(q_ids[: self.max_tokens // 2])
        batch = self.tokenizer(
            [question] * len(items),
            [pair_text(i) for i in items],
            padding=True,
            truncation="only_second",
            max_length=self.max_tokens,
            return_tensors="pt",
        )
        with torch.inference_mode():
            out = self.model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        return out.float().numpy()
