"""The `rag` command: index, ask, batch, eval, serve, api, mcp. Parses the options and runs the command
(`rag.ways_in.commands`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.settings import BuildSettings, ServeSettings
from rag.ways_in.commands import cmd_api, cmd_ask, cmd_batch, cmd_eval, cmd_index, cmd_mcp, cmd_serve

if TYPE_CHECKING:
    pass

log = logging.getLogger("rag")


class _TqdmHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines written through tqdm, so they do not tear progress bars."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    handler = _TqdmHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    quiet = ("bm25s", "sentence_transformers", "transformers", "httpx", "urllib3", "matplotlib", "PIL")
    # Some libraries set their own logger levels when imported; filter at the handler instead.
    handler.addFilter(lambda r: r.levelno >= logging.WARNING or not r.name.startswith(quiet))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The one-time preparation of a model (its ONNX export, a fine-tuned encoder written out)
    # takes seconds that a first question would otherwise spend in silence.
    for name in ("rag.encode.onnx", "rag.encode.delta"):
        logging.getLogger(name).setLevel(min(level, logging.INFO))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # transformers is imported only where a model is built or exported with torch (importing it
    # here would cost seconds on every answer); there its progress bars are turned off.
    os.environ.setdefault("RAG_QUIET_TRANSFORMERS", "1")


BUILD, SERVE = BuildSettings(), ServeSettings()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited, extractive answers from official documents.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, answer: bool = True) -> None:
        p.add_argument("--index", default="index", help="index folder (default: index)")
        p.add_argument("--corpus", default=None, help="corpus folder (default: the one the index was built from)")
        if answer:
            p.add_argument("--k", type=int, default=None, help="paragraphs to retrieve")
            p.add_argument("--threshold", type=float, default=None, help="abstention threshold (0-1)")
            p.add_argument("--doc", default=None, help="only search this document id")
            p.add_argument(
                "--scorer",
                default=None,
                help="how sentences are scored: 'hand' (default: the hand weights), 'reader' (the "
                "shipped cross-encoder read with the features by one fitted model), 'selector' "
                "(the shipped answer selector and its calibrated confidence), a selector "
                "folder (rag.answer.train_selector), or a linear scorer file (bench/train_scorer.py)",
            )

    p = sub.add_parser("index", help="index the corpus folder (only changed documents are re-embedded)")
    common(p, answer=False)
    p.add_argument("--model", default=BUILD.model, help="sentence-transformers model name or path")
    p.add_argument("--window-tokens", type=int, default=BUILD.window.tokens, help="tokens per window of long text")
    p.add_argument(
        "--window-overlap", type=int, default=BUILD.window.overlap, help="tokens shared by neighbouring windows"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--max-file-mb",
        type=float,
        default=BUILD.max_file_mb,
        help=f"corpus files larger than this are skipped (default: {BUILD.max_file_mb:g})",
    )
    p.add_argument(
        "--ann-threshold",
        type=int,
        default=BUILD.ann_threshold,
        help="above this many paragraph windows, also build an approximate search index; above this many "
        "sentences, score only those of the paragraphs found (default: %(default)s)",
    )
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where texts are embedded: this process, or a Ray cluster (needs the 'ray' extra)",
    )
    p.add_argument(
        "--address", default=None, help="with --engine ray: the cluster to join (default: start a local one)"
    )
    p.add_argument("--ray-workers", type=int, default=2, help="with --engine ray: encoder actors (default: 2)")
    p.add_argument(
        "--verify",
        action="store_true",
        help="check every file of the index against its manifest's sizes and hashes; build nothing",
    )
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    common(p)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("batch", help="answer a file of questions (JSONL, CSV or one per line)")
    p.add_argument("questions")
    p.add_argument("--out", required=True, help="JSONL file to write (each answer as it is made)")
    p.add_argument(
        "--resume", action="store_true", help="skip the questions whose ids --out already holds; append the others"
    )
    common(p)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("eval", help="answer a question file and report retrieval, citations and grounding")
    p.add_argument("questions")
    p.add_argument("--out", default="eval/reports/latest", help="report folder")
    p.add_argument("--min-recall5", type=float, default=None, help="fail below this recall@5")
    p.add_argument("--min-accuracy", type=float, default=None, help="fail below this answered-and-cited rate")
    p.add_argument(
        "--min-abstention",
        type=float,
        default=None,
        help="fail below this share of unanswerable questions abstained on",
    )
    p.add_argument(
        "--max-wrong-abstention",
        type=float,
        default=None,
        help="fail above this share of answerable questions abstained on",
    )
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="open the chat page")
    common(p)
    p.add_argument("--host", default=SERVE.host)
    p.add_argument("--port", type=int, default=SERVE.port)
    p.add_argument("--max-upload-kb", type=int, default=SERVE.max_upload_kb, help="largest document a user may upload")
    p.add_argument(
        "--auth",
        default=None,
        metavar="USER:PASSWORD",
        help="ask for this user name and password before the page opens (for a shared deployment)",
    )
    p.add_argument("--workers", type=int, default=SERVE.workers, help="questions answered at the same time")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("api", help="serve the HTTP JSON API (ask, search, paragraphs, documents)")
    common(p)
    p.add_argument("--host", default=SERVE.host, help="address to listen on (default: %(default)s, this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--token",
        default=None,
        help="bearer token every request but /health must send, and that adding or removing documents "
        "needs (default: $RAG_API_TOKEN; required on any address but the loopback)",
    )
    p.add_argument("--max-upload-kb", type=int, default=SERVE.max_upload_kb, help="largest document that may be added")
    p.add_argument("--workers", type=int, default=1, help="server processes (each loads the model; default: 1)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("mcp", help="serve the assistant's tools to AI agents (Model Context Protocol)")
    common(p)
    p.add_argument("--http", action="store_true", help="streamable HTTP on --host:--port/mcp instead of stdio")
    p.add_argument("--host", default=SERVE.host, help="with --http: address (this machine only)")
    p.add_argument("--port", type=int, default=8001, help="with --http: port (default: %(default)s)")
    p.set_defaults(func=cmd_mcp)
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments; an option the command does not know is refused with that command's usage
    and the nearest option it does know ("--jsn": did you mean --json?)."""
    import difflib

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        command = commands.choices[args.command]
        known = [o for a in command._actions for o in a.option_strings if o.startswith("--")]
        hint = ""
        first = next((x for x in extra if x.startswith("-")), None)
        if first:
            close = difflib.get_close_matches(first.split("=", 1)[0], known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
        command.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    _setup_logging(args.verbose + (1 if args.command == "index" and not getattr(args, "quiet", False) else 0))
    if getattr(args, "quiet", False):  # not even the one-time model preparation
        for name in ("rag.encode.onnx", "rag.encode.delta"):
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`rag ask ... | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
