"""What each `rag` command does, given its parsed options: calls the library and prints."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rag.errors import BadSetting
from rag.settings import BuildSettings, ServeSettings, WindowSettings
from rag.ways_in.loading import load_assistant


def cmd_index(args: argparse.Namespace) -> int:
    from rag.index import build_index, verify_index

    if args.verify:
        checked = verify_index(args.index)
        print(f"{args.index}: all {len(checked.files)} files match the sizes and hashes of the manifest.")
        return 0
    build = BuildSettings(
        args.model, WindowSettings(args.window_tokens, args.window_overlap), args.max_file_mb, args.ann_threshold
    )
    embedder = None
    if args.engine == "ray":
        from rag.encode.ray_engine import RayEmbedder

        embedder = RayEmbedder(build.model, window=build.window, address=args.address, workers=args.ray_workers)
    try:
        manifest = build_index(args.corpus or "corpus", args.index, build, embedder=embedder, progress=not args.quiet)
    finally:
        if embedder is not None:
            embedder.shutdown()
    print(
        f"Indexed {len(manifest.documents)} document(s), {manifest.paragraphs} paragraphs, "
        f"{manifest.sentences} sentences into {args.index} in {manifest.build_seconds:.1f} s "
        f"(model {manifest.build.model})."
    )
    for why in manifest.skipped.values():
        print(f"Not indexed: {why['reason']}", file=sys.stderr)
    from rag.cite.serialize import left_out_note

    notes = [f"{info.file}: {note}" for info in manifest.documents.values() if (note := left_out_note(info))]
    for note in notes[:5]:
        print(note)
    if len(notes) > 5:
        print(f"... and {len(notes) - 5} more documents with lines left out on purpose (see the manifest's left_out).")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.cite.serialize import answer_json, answer_text

    assistant = load_assistant(args)
    answer = assistant.ask(args.question, doc_id=args.doc)
    print(answer_json(answer) if args.json else answer_text(answer))
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from rag.ways_in.batch import check_out, run_batch

    check_out(args.questions, args.out)  # before the model is loaded, let alone a question answered
    assistant = load_assistant(args)
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
    from rag.evaluate.evaluation import evaluate_file

    assistant = load_assistant(args)
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
    from rag.errors import StaleIndex
    from rag.index import build_index, current_folder, read_manifest

    try:
        return load_assistant(args)
    except StaleIndex as exc:
        manifest = read_manifest(args.index)
        corpus = Path(args.corpus) if args.corpus else current_folder(Path(args.index)) / manifest.corpus
        if not corpus.is_dir():
            raise
        print(f"The index is not current ({exc}); indexing {corpus} first.", file=sys.stderr)
        rebuilt = build_index(corpus, args.index, manifest.build, progress=False)
        for why in rebuilt.skipped.values():
            print(f"Not indexed: {why['reason']}", file=sys.stderr)
        return load_assistant(args)


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

    from rag.ways_in.api import CONFIG_ENV, TOKEN_ENV, api_token, create_app
    from rag.ways_in.library import Library

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
        # their next question (rag.ways_in.library.Library reloads an index rebuilt on disk).
        if token:
            os.environ[TOKEN_ENV] = token
        os.environ[CONFIG_ENV] = json.dumps(
            {k: getattr(args, k, None) for k in ("index", "corpus", "k", "threshold", "doc", "scorer", "max_upload_kb")}
        )
        uvicorn.run(
            "rag.ways_in.api:app_from_environment",
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
    from rag.ways_in.library import Library
    from rag.ways_in.mcp_server import create_server

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
