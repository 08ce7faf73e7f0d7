"""An assistant loaded as the command line's options ask (index, corpus, k, threshold, scorer):
one place, so that `rag ask`, `rag batch`, `rag serve`, `rag api` and its workers load alike."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.answer.scorer import Scorer
    from rag.assistant import Assistant
    from rag.settings import Settings


def settings_from(args: argparse.Namespace) -> Settings:
    from rag.settings import Settings

    kwargs = {}
    if getattr(args, "k", None) is not None:
        kwargs["k"] = args.k
    if getattr(args, "threshold", None) is not None:
        kwargs["threshold"] = args.threshold
    return Settings(**kwargs)


def load_assistant(args: argparse.Namespace) -> Assistant:
    from rag.assistant import Assistant

    scorer: Scorer | None = None
    choice = getattr(args, "scorer", None)
    if choice == "hand":
        from rag.answer.scorer import HandScorer

        scorer = HandScorer()
    elif choice == "reader":
        from rag.answer.reader import ReaderScorer

        scorer = ReaderScorer.load()
    elif choice == "selector" or (choice and Path(choice).is_dir()):
        from rag.answer.confidence import SelectorScorer

        scorer = SelectorScorer.load(None if choice == "selector" else choice)
    elif choice:
        from rag.answer.scorer import LinearScorer

        scorer = LinearScorer.load(choice)
    return Assistant.load(args.index, corpus=args.corpus, settings=settings_from(args), scorer=scorer)
