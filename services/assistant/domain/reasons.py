"""Reasons a person understands, one sentence per suggestion."""

from __future__ import annotations

import datetime as dt
from enum import Enum

LABEL_CHARS = 60
_ELLIPSIS = "…"


class Source(Enum):
    """What a suggestion was found from."""

    CONTEXT = "what you are writing"
    INSIGHT = "the insight you are looking at"


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """One line, at most `limit` characters, cut after a whole word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = flat[: limit - len(_ELLIPSIS) + 1]
    cut = head.rfind(" ")
    head = head[:cut] if cut > 0 else head[: limit - len(_ELLIPSIS)]
    return head.rstrip(" ,;:.-") + _ELLIPSIS


def age_phrase(age: dt.timedelta) -> str:
    """'5 weeks ago', '3 months ago', '2 years ago'."""
    days = max(0, age.days)
    if days < 7:
        amount, unit = days, "day"
    elif days < 60:
        amount, unit = days // 7, "week"
    elif days < 730:
        amount, unit = days // 30, "month"
    else:
        amount, unit = days // 365, "year"
    return f"{amount} {unit}{'' if amount == 1 else 's'} ago"


def related(source: Source, score: float, label: str) -> str:
    return f'similar to {source.value} ({score:.2f}): "{short_label(label)}"'


def resurface(source: Source, age: dt.timedelta, score: float, label: str) -> str:
    return (
        f"you wrote this {age_phrase(age)} and it matches {source.value} "
        f'({score:.2f}): "{short_label(label)}"'
    )


def tag(voters: int) -> str:
    return f"used on {voters} similar insight{'' if voters == 1 else 's'}"


def theme(name: str, confidence: float) -> str:
    return f'what you are writing reads as "{name}" (confidence {confidence:.2f})'
