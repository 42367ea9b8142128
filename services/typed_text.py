"""What a person typed, as the services keep it: one line with its spaces tidied, or refused with a sentence.

Every service used to tidy spaces its own way, and a NUL byte or another control character went through
to the database: SQLite stored it, PostgreSQL refused the whole write with an error page. Text goes
through here, so the service decides, the same on both databases.
"""

import re

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
