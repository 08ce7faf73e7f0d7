"""The one table of an index's documents: by id, and by every name a citation or a user gives them.

Citations name a document by its symbol when no other document shares it, else by its short
title when no other shares that, else by its id. A question file (or a user) may name it by its
id, its file name with or without the extension, its symbol or its short title, compared without
case and spaces; a name two documents share names neither.

The names depend on every document (a symbol two documents share names neither), so the table is
immutable and works them out once, on first use: a library of twenty thousand documents would
otherwise spend milliseconds per citation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path

from rag.types import DocumentInfo

SHORT_TITLE_WORDS = 6


def short_title_of(title: str | None) -> str | None:
    """The first words of a title, for citations: up to its first comma or colon, at most six
    words ("Report on the meeting of the …"), on one line. A front matter `short_title:` goes
    through here too, so that no document can put a paragraph into every citation of it."""
    if not title or not title.strip():
        return None
    head = re.split(r"[,:;]\s", title.strip(), maxsplit=1)[0]
    words = head.split()
    short = " ".join(words[:SHORT_TITLE_WORDS])
    return short + " …" if len(words) > SHORT_TITLE_WORDS else short


def _name_key(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


class Documents(Mapping[str, DocumentInfo]):
    """An index's documents by id (an immutable mapping), with how each is named."""

    def __init__(self, documents: Mapping[str, DocumentInfo] | None = None) -> None:
        self._documents: dict[str, DocumentInfo] = dict(documents or {})

    def __getitem__(self, doc_id: str) -> DocumentInfo:
        return self._documents[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Documents({self._documents!r})"

    @staticmethod
    def _short_title(info: DocumentInfo) -> str | None:
        return info.short_title or short_title_of(info.title)

    @cached_property
    def citation_names(self) -> dict[str, str]:
        """How citations name each document (see the module's docstring)."""
        symbols = Counter(info.symbol for info in self.values() if info.symbol)
        shorts = Counter(self._short_title(info) for info in self.values())
        names = {}
        for doc_id, info in self.items():
            short = self._short_title(info)
            if info.symbol and symbols[info.symbol] == 1:
                names[doc_id] = info.symbol
            elif short and shorts[short] == 1:
                names[doc_id] = short
            else:
                names[doc_id] = doc_id
        return names

    def name(self, doc_id: str) -> str:
        """How a citation names a document among the others; an unknown id names itself."""
        return self.citation_names.get(doc_id, doc_id)

    def title(self, doc_id: str) -> str:
        """ "<title> (<symbol>)", or what of it the document has, or its id."""
        info = self._documents.get(doc_id)
        title = info.title if info is not None and info.title else doc_id
        if info is not None and info.symbol and info.symbol not in title:
            title = f"{title} ({info.symbol})"
        return title

    @cached_property
    def _ids_by_name(self) -> dict[str, str]:
        names: dict[str, set[str]] = {}
        for doc_id, info in self.items():
            file = Path(info.file)
            # A joint symbol ("E/2025/28-E/CN.7/2025/11") also goes by each of its halves.
            halves = info.symbol.split("-") if info.symbol and "-" in info.symbol else []
            for name in {
                doc_id,
                file.name,
                file.stem,
                file.with_suffix("").as_posix(),
                info.symbol or "",
                info.short_title or "",
                *(half for half in halves if "/" in half),
            }:
                if name:
                    names.setdefault(_name_key(name), set()).add(doc_id)
        return {key: next(iter(ids)) for key, ids in names.items() if len(ids) == 1}

    def find(self, name: str) -> str | None:
        """The id of the document a user's name means (id, file name, symbol, short title), or
        None when no document, or more than one, goes by it."""
        return self._ids_by_name.get(_name_key(name))


def as_documents(documents: Mapping[str, DocumentInfo]) -> Documents:
    """The table itself, or one made of a plain mapping."""
    return documents if isinstance(documents, Documents) else Documents(documents)
