"""Text cleaning shared by the readers: one rule for text the source escaped twice."""
from __future__ import annotations

import html
import re

_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_INLINE_MARKUP = re.compile(r"</?(?:i|b|em|strong|sup|sub|p|br|span|scp|u|inf)\b[^<>]*>", re.I)


def unescape_text(s: str | None) -> str | None:
    """Decode text that the source escaped once more than its format needs (``&amp;amp;`` read as
    ``&amp;``, ``&amp;lt;5`` as ``&lt;5``), and drop inline HTML markup (``<i>``, ``</p>``) that
    only styles the text. Text without a character reference is returned unchanged."""
    if s is None or "&" not in s and "<" not in s:
        return s
    for _ in range(3):  # at most three levels; stop as soon as nothing is left to decode
        if not _ENTITY.search(s):
            break
        s = html.unescape(s)
    if "<" in s:
        s = re.sub(r"\s{2,}", " ", _INLINE_MARKUP.sub(" ", s)).strip() if _INLINE_MARKUP.search(s) else s
    return s
