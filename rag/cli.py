"""The `rag` command: index, ask, batch, eval, serve. Parses, calls the API, prints."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BadSetting, RagError
from .settings import BuildSettings, ServeSettings, WindowSettings

if TYPE_CHECKING:
    from .scorer import Scorer

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
    for name in ("rag.onnx_encoder", "rag.encoder_delta"):
        logging.getLogger(name).setLevel(min(level, logging.INFO))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # transformers is imported only where a model is built or exported with torch (importing it
    # here would cost seconds on every answer); there its progress bars are turned off.
    os.environ.setdefault("RAG_QUIET_TRANSFORMERS", "1")


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .settings import Settings

    kwargs = {}
    if getattr(args, "k", None) is not None:
        kwargs["k"] = args.k
    if getattr(args, "threshold", None) is not None:
        kwargs["threshold"] = args.threshold
    return Settings(**kwargs)


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .assistant import Assistant

    scorer: Scorer | None = None
    choice = getattr(args, "scorer", None)
    if choice == "hand":
        from .scorer import HandScorer

        scorer = HandScorer()
    elif choice == "reader":
        from .reader import ReaderScorer

        scorer = ReaderScorer.load()
    elif choice == "selector" or (choice and Path(choice).is_dir()):
        from .confidence import SelectorScorer

        scorer = SelectorScorer.load(None if choice == "selector" else choice)
    elif choice:
        from .scorer import LinearScorer

        scorer = LinearScorer.load(choice)
    return Assistant.load(args.index, corpus=args.corpus, settings=_settings(args), scorer=scorer)


def cmd_index(args: argparse.Namespace) -> int:
    from .index import build_index, verify_index

    if args.verify:
        checked = verify_index(args.index)
        print(f"{args.index}: all {len(checked.files)} files match the sizes and hashes of the manifest.")
        return 0
    build = BuildSettings(
        args.model, WindowSettings(args.window_tokens, args.window_overlap), args.max_file_mb, args.ann_threshold
    )
    embedder = None
    if args.engine == "ray":
        from .ray_engine import RayEmbedder

        embedder = RayEmbedder(build.model, window=build.window, address=args.address, workers=args.ray_workers)
    try:
        manifest = build_index(
            args.corpus or "corpus",
            args.index,
            model=build.model,
            window=build.window,
            embedder=embedder,
            progress=not args.quiet,
            max_file_mb=build.max_file_mb,
            ann_threshold=build.ann_threshold,
        )
    finally:
        if embedder is not None:
            embedder.shutdown()
    print(
        f"Indexed {len(manifest.documents)} document(s), {manifest.paragraphs} paragraphs, "
        f"{manifest.sentences} sentences into {args.index} in {manifest.build_seconds:.1f} s "
        f"(model {manifest.model})."
    )
    for why in manifest.skipped.values():
        print(f"Not indexed: {why['reason']}", file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .serialize import answer_json, answer_text

    assistant = _load(args)
    answer = assistant.ask(args.question, doc_id=args.doc)
    print(answer_json(answer) if args.json else answer_text(answer))
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import check_out, run_batch

    check_out(args.questions, args.out)  # before the model is loaded, let alone a question answered
    assistant = _load(args)
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="question", desc="answering", leave=False)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

    result = run_batch(assistant, args.questions, args.out, doc_id=args.doc, resume=args.resume, on_answer=progress)
    answered = sum(1 for r in result.records if "error" not in r and not r["abstained"])
    errors = sum(1 for r in result.records if "error" in r)
    print(
        f"Wrote {len(result.records)} answers to {args.out}{' (appended)' if args.resume else ''}: "
        f"{answered} answered, {len(result.records) - answered - errors} abstained, {errors} failed."
    )
    for problem in result.failed:
        print(f"  {problem}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_file

    assistant = _load(args)
    floors = {
        "min_recall5": args.min_recall5,
        "min_accuracy": args.min_accuracy,
        "min_abstention": args.min_abstention,
        "max_wrong_abstention": args.max_wrong_abstention,
    }
    report = evaluate_file(assistant, args.questions, args.out, floors)
    print(report.summary())
    for r in report.rows:
        if "error" in r.record:
            print(f"  question {r.id}: {r.record['error']}", file=sys.stderr)
    failures = report.gate(**{k: v for k, v in floors.items() if v is not None})
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


def load_for_serving(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The assistant for the page. A corpus that changed since the index was built (an upload
    that a crash interrupted, a file added by hand) is indexed first, incrementally, instead of
    refusing to start; files that cannot be indexed are named."""
    from .errors import StaleIndex
    from .index import build_index, current_folder, read_manifest

    try:
        return _load(args)
    except StaleIndex as exc:
        manifest = read_manifest(args.index)
        corpus = Path(args.corpus) if args.corpus else current_folder(Path(args.index)) / manifest.corpus
        if not corpus.is_dir():
            raise
        print(f"The index is not current ({exc}); indexing {corpus} first.", file=sys.stderr)
        rebuilt = build_index(corpus, args.index, model=manifest.model, window=manifest.window, progress=False)
        for why in rebuilt.skipped.values():
            print(f"Not indexed: {why['reason']}", file=sys.stderr)
        return _load(args)


def exposure_warning(host: str, protected: bool) -> str | None:
    """What `rag serve` says when the page is reachable from other machines."""
    if host in ("127.0.0.1", "localhost", "::1"):
        return None
    return f"Warning: serving on {host} makes the page, and its document upload, reachable by other machines" + (
        "; they must log in (--auth)."
        if protected
        else "; anyone who reaches it can ask and upload. Add --auth USER:PASSWORD."
    )


def check_port_free(host: str, port: int) -> None:
    """A port another program holds is a one-line error, not a traceback from the web server."""
    import socket

    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise BadSetting(
                f"cannot serve on {host}:{port} ({exc.strerror or exc}); stop what uses it or choose another --port"
            ) from exc


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.app import serve

    auth = None
    if args.auth is not None:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise BadSetting("--auth takes USER:PASSWORD, both not empty")
        auth = (user, password)
    served = ServeSettings(args.host, args.port, args.max_upload_kb, args.workers)
    check_port_free(served.host, served.port)  # before the model and index are loaded
    assistant = load_for_serving(args)
    corpus = Path(args.corpus) if args.corpus else assistant.corpus_dir()
    warning = exposure_warning(args.host, auth is not None)
    if warning:
        print(warning, file=sys.stderr)
    print(f"Serving on http://{args.host}:{args.port} (Ctrl+C to stop)")
    serve(
        assistant,
        corpus=corpus or Path("corpus"),
        host=served.host,
        port=served.port,
        max_upload_bytes=served.max_upload_kb * 1024,
        auth=auth,
        workers=served.workers,
    )
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from .api import CONFIG_ENV, TOKEN_ENV, api_token, create_app
    from .service import Library

    token = api_token(args.token)
    if args.host not in ("127.0.0.1", "localhost", "::1") and token is None:
        raise BadSetting(
            f"serving the API on {args.host} lets other machines reach it; give a token with --token or {TOKEN_ENV}"
        )
    if args.max_upload_kb <= 0:
        raise BadSetting(f"max_upload_kb must be positive, got {args.max_upload_kb}")
    if args.workers <= 0:
        raise BadSetting(f"workers must be positive, got {args.workers}")
    check_port_free(args.host, args.port)
    assistant = load_for_serving(args)  # also brings a stale index up to date, once, before the workers
    writes = "adding documents needs the token" if token else f"adding documents is off (no --token or {TOKEN_ENV})"
    print(f"API on http://{args.host}:{args.port} (schema and docs at /docs; {writes}; Ctrl+C to stop)")
    if args.workers > 1:
        # Each worker process loads its own assistant; the index files are memory-mapped, so
        # they share the pages. A document added through one worker reaches the others at
        # their next question (rag.service.Library reloads an index rebuilt on disk).
        if token:
            os.environ[TOKEN_ENV] = token
        os.environ[CONFIG_ENV] = json.dumps(
            {k: getattr(args, k, None) for k in ("index", "corpus", "k", "threshold", "doc", "scorer", "max_upload_kb")}
        )
        uvicorn.run(
            "rag.api:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
        )
        return 0
    corpus = Path(args.corpus) if args.corpus else assistant.corpus_dir()
    library = Library(assistant, corpus or Path("corpus"), args.max_upload_kb * 1024)
    uvicorn.run(create_app(library, token=token), host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from .mcp_server import create_server
    from .service import Library

    if args.http and args.host not in ("127.0.0.1", "localhost", "::1"):
        raise BadSetting("the MCP server over HTTP has no login; serve it on this machine only (--host 127.0.0.1)")
    if args.http:
        check_port_free(args.host, args.port)
    assistant = load_for_serving(args)
    corpus = Path(args.corpus) if args.corpus else assistant.corpus_dir()
    server = create_server(Library(assistant, corpus or Path("corpus")))
    if args.http:
        print(f"MCP server on http://{args.host}:{args.port}/mcp (Ctrl+C to stop)", file=sys.stderr)
        server.run("streamable-http", host=args.host, port=args.port)
    else:
        server.run("stdio")  # stdout carries the protocol: nothing else may print there
    return 0


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
                "folder (rag.train_selector), or a linear scorer file (bench/train_scorer.py)",
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
        for name in ("rag.onnx_encoder", "rag.encoder_delta"):
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
