"""Text -> stemmed content terms, shared by the BM25 index and the answer scorer."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_TOKEN = re.compile(r"[^\W_]+(?:[/.'’-][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves s t don shall may might must upon
    whose within without via per among amongst tell say said says according paragraph paragraphs mention mentioned
    mentions kind sort thing things happen happened many much""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens; symbols like 65/230 and E/CN.15 stay whole."""
    return [m.group(0).lower().replace("’", "'") for m in _TOKEN.finditer(text)]


def terms(text: str) -> list[str]:
    """Stemmed content terms: words minus stopwords, stemmed (numbers and symbols kept)."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    return list(_stemmer().stemWords(kept)) if kept else []


@lru_cache(maxsize=65536)
def passage_terms(text: str) -> tuple[str, ...]:
    """`terms` of a passage of the index (a paragraph with its heading, a sentence), remembered:
    the same passages come back for many questions. Bounded; pure, so safe across threads."""
    return tuple(terms(text))
