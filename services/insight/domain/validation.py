"""Input rules of CONTRACT.md, checked once in the domain. Each failure names its field."""

from __future__ import annotations

import re

from services.common.errors import FieldViolation, InvalidArgument

MAX_TEXT_CHARS = 20_000
MAX_TAGS = 32
MAX_TAG_CHARS = 64
MAX_THEME_CHARS = 64
MAX_QUERY_CHARS = 500
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
MAX_EMAIL_CHARS = 254
MAX_DISPLAY_NAME_CHARS = 100

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Control characters other than tab/newline have no place in text people type.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Violations:
    """Collects every problem of a request so the caller sees them all at once."""

    def __init__(self) -> None:
        self._items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self._items.append(FieldViolation(field, description))

    def raise_if_any(self) -> None:
        if self._items:
            raise InvalidArgument(self._items)


def check_text(text: str, field: str, problems: Violations) -> str:
    if not text.strip():
        problems.add(field, "must not be empty")
    elif len(text) > MAX_TEXT_CHARS:
        problems.add(field, f"must be at most {MAX_TEXT_CHARS} characters")
    elif _CONTROL.search(text):
        problems.add(field, "must not contain control characters")
    return text.strip()


def check_tags(tags: list[str], field: str, problems: Violations) -> tuple[str, ...]:
    cleaned: list[str] = []
    for index, raw in enumerate(tags):
        tag = raw.strip()
        if not tag:
            problems.add(f"{field}[{index}]", "must not be empty")
        elif len(tag) > MAX_TAG_CHARS:
            problems.add(f"{field}[{index}]", f"must be at most {MAX_TAG_CHARS} characters")
        elif _CONTROL.search(tag):
            problems.add(f"{field}[{index}]", "must not contain control characters")
        elif tag not in cleaned:
            cleaned.append(tag)
    if len(tags) > MAX_TAGS:
        problems.add(field, f"at most {MAX_TAGS} tags")
    return tuple(cleaned)


def check_theme(theme: str, field: str, problems: Violations) -> str:
    theme = theme.strip()
    if len(theme) > MAX_THEME_CHARS:
        problems.add(field, f"must be at most {MAX_THEME_CHARS} characters")
    elif _CONTROL.search(theme):
        problems.add(field, "must not contain control characters")
    return theme


def check_page_size(page_size: int, problems: Violations) -> int:
    if page_size == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        problems.add("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    return page_size


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_registration(email: str, password: str, display_name: str) -> None:
    problems = Violations()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        problems.add("email", "must be a valid email address")
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        problems.add("password", f"must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    if len(display_name) > MAX_DISPLAY_NAME_CHARS or _CONTROL.search(display_name):
        problems.add(
            "display_name", f"must be at most {MAX_DISPLAY_NAME_CHARS} printable characters"
        )
    problems.raise_if_any()
