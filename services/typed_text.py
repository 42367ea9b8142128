"""What a person typed, as the services keep it: one line with its spaces tidied, or refused with a sentence.

Every service used to tidy spaces its own way, and a NUL byte or another control character went through
to the database: SQLite stored it, PostgreSQL refused the whole write with an error page. Text goes
through here, so the service decides, the same on both databases.
"""

import re

from services.errors import DomainError

# Control characters (C0, DEL, C1) and lone surrogates, which no database encoding can hold. Tabs and line
# breaks never get this far in one-line text: `one_line` turns every kind of whitespace into one space;
# `paragraphs` keeps line breaks and nothing else.
_UNSTORABLE = re.compile('[\x00-\x1f\x7f-\x9f\ud800-\udfff]')
_UNSTORABLE_IN_PARAGRAPHS = re.compile('[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]')

UNSTORABLE_SENTENCE = 'The {label} contains a character that cannot be saved (a control character). Please retype it.'


def one_line(text: str | None) -> str:
    """Spaces tidied: no leading or trailing space, one space between words, line breaks as spaces."""
    return ' '.join((text or '').split())


def paragraphs(text: str | None) -> str:
    """Several lines (a reply to a patient): each line's spaces tidied, line breaks kept, no blank ends."""
    lines = (text or '').replace('\r\n', '\n').replace('\r', '\n').split('\n')
    return '\n'.join(one_line(line) for line in lines).strip('\n')


def unstorable(text: str, *, multiline: bool = False) -> bool:
    return (_UNSTORABLE_IN_PARAGRAPHS if multiline else _UNSTORABLE).search(text) is not None


class TypedTextRefused(DomainError):
    pass


def checked_line(
    text: str | None,
    label: str,
    max_length: int,
    *,
    required: str = '',
    refuse: type[DomainError] = TypedTextRefused,
) -> str:
    """One line as `one_line` tidies it, or `refuse` (the service's own error) with a sentence: empty (when
    `required` says what to enter), longer than the column holds, or holding a control character. What is
    kept is what was typed, never cut short."""
    line = one_line(text)
    if not line and required:
        raise refuse(required)
    if len(line) > max_length:
        raise refuse(f'The {label} can have at most {max_length} characters.')
    if unstorable(line):
        raise refuse(UNSTORABLE_SENTENCE.format(label=label))
    return line


def findable(text: str, max_length: int) -> bool:
    """Whether a typed value could be one the database holds: a lookup with one that cannot (too long for
    the column, or a control character) is "not found" without asking, since PostgreSQL would refuse the
    query itself with an error rather than answer."""
    return len(text) <= max_length and not unstorable(text)


def storable(text: str) -> str:
    """The text with each control character shown as �: for what is recorded rather than typed into a
    field (a forged address in the audit trail), where refusing would lose the record of what happened."""
    return _UNSTORABLE.sub('\ufffd', text)


def quoted(text: str, limit: int = 40) -> str:
    """What was typed, quoted in a refusal: cut to `limit` characters and with control characters shown as
    �, so a pasted page does not come back as a page of error, and the sentence itself is always storable
    (an import keeps it as the row's reason)."""
    text = text.strip()
    shown = text if len(text) <= limit else text[:limit] + '…'
    return '"' + storable(shown) + '"'
