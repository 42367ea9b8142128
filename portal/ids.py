"""Record ids in addresses: one rule for both trees, so an absurd id is a 404, never a 500.

Ids are database integers (Tortoise `IntField` primary keys: 1 to 2**31 - 1, PostgreSQL's `integer`).
A larger number, a negative one or a non-ASCII digit ('²'.isdigit() is True) would reach the database or
`int()` and fail there. Path parameters use the `{name:id}` convertor registered here, which matches only
ids in range (anything else matches no route: 404); query parameters go through `parse_id`.
"""

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**31 - 1


def _up_to(limit: str) -> str:
    """A regex for decimal numbers from 1 to `limit` with no leading zero."""
    shorter = f'[1-9][0-9]{{0,{len(limit) - 2}}}' if len(limit) > 1 else ''
    same_length = []
    for i, digit in enumerate(limit):
        rest = len(limit) - i - 1
        low = '1' if i == 0 else '0'
        if int(digit) > int(low):
            same_length.append(f'{limit[:i]}[{low}-{int(digit) - 1}][0-9]{{{rest}}}')
    same_length.append(limit)
    return '|'.join(filter(None, [shorter, *same_length]))


ID_REGEX = f'(?:{_up_to(str(MAX_ID))})'


def parse_id(text: str | None) -> int | None:
    """The id written in `text`, or None unless it is a plain ASCII number in the id range."""
    if not text or len(text) > len(str(MAX_ID)) or not text.isascii() or not text.isdigit():
        return None  # longer than any id: int() would refuse 5,000 digits with an error
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class IdConvertor(Convertor[int]):
    regex = ID_REGEX

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 1 <= value <= MAX_ID:
            raise ValueError(f'{value} is not a record id')
        return str(value)


register_url_convertor('id', IdConvertor())
