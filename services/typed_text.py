"""What a person typed, as the services keep it: one line with its spaces tidied, or refused with a sentence.

Every service used to tidy spaces its own way, and a NUL byte or another control character went through
to the database: SQLite stored it, PostgreSQL refused the whole write with an error page. Text goes
through here, so the service decides, the same on both databases.
"""

import re

# Control characters (C0, DEL, C1) and lone surrogates, which no database encoding can hold. Tabs and line
# breaks never get this far in one-line text: `one_line` turns every kind of whitespace into one space.
_UNSTORABLE = re.compile('[\x00-\x1f\x7f-\x9f\ud800-\udfff]')

UNSTORABLE_SENTENCE = 'The {label} contains a character that cannot be saved (a control character). Please retype it.'


def one_line(text: str | None) -> str:
    """Spaces tidied: no leading or trailing space, one space between words, line breaks as spaces."""
    return ' '.join((text or '').split())


def unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None
