"""Short labels for mind-map nodes, cut at a word boundary."""

from __future__ import annotations

MIND_MAP_LABEL_CHARS = 60
ELLIPSIS = "…"
_TRAILING = " \t,;:.-\u2013\u2014"  # and en/em dashes


def short_label(text: str, limit: int = MIND_MAP_LABEL_CHARS) -> str:
    """`text` on one line, at most `limit` characters. A longer text is cut after its last whole
    word that fits and ends with "…" (the ellipsis counts); a single over-long word is cut
    mid-word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    room = flat[: limit - len(ELLIPSIS) + 1]  # one more: is the character after the cut a space?
    cut = room.rfind(" ")
    head = room[:cut] if cut > 0 else room[: limit - len(ELLIPSIS)]
    return head.rstrip(_TRAILING) + ELLIPSIS
