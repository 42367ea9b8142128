"""Reading a CSV as practices export it: UTF-8 (with or without BOM) or Windows-1252, comma or semicolon,
Windows or Unix line ends, quoted fields, a header row."""

import csv
import io
from dataclasses import dataclass

from services.errors import DomainError

DELIMITERS = (',', ';', '\t')
MAX_BYTES = 50 * 1024 * 1024


class UnreadableFile(DomainError):
    pass


@dataclass(frozen=True)
class CsvTable:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as a spreadsheet shows it, cells); the header is row 1


def decode(data: bytes) -> str:
    """UTF-8 when the bytes are UTF-8 (a BOM is dropped), else Windows-1252 (what Excel on Windows writes)."""
    if len(data) > MAX_BYTES:
        raise UnreadableFile('This file is larger than 50 MB. Split it into smaller files and import them one by one.')
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError:
        return data.decode('cp1252', errors='replace')


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ','


def parse(text: str) -> CsvTable:
    """Headers and rows; blank lines are skipped (their numbers still count, as in a spreadsheet)."""
    text = text.lstrip('\ufeff')
    if '\x00' in text:  # not text: and the job keeps the file in a column PostgreSQL cannot put a NUL in
        line = text.count('\n', 0, text.index('\x00')) + 1
        raise UnreadableFile(
            f'Line {line} of this file holds a NUL byte, which is not text: the file is damaged or is not a CSV '
            'export. Export it again from the practice system, or remove that character, and import it again.'
        )
    first_line = text.split('\n', 1)[0]
    if not first_line.strip():
        raise UnreadableFile('This file is empty, or its first line is blank. The first line must name the columns.')
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=_delimiter(first_line))
    try:
        headers = [h.strip() for h in next(reader)]
        rows = [(number, cells) for number, cells in enumerate(reader, start=2) if any(c.strip() for c in cells)]
    except csv.Error as error:
        raise UnreadableFile(f'This file is not a readable CSV file ({error}).') from None
    if not any(headers):
        raise UnreadableFile('The first line must name the columns.')
    return CsvTable(headers=headers, rows=rows)


def read(data: bytes) -> CsvTable:
    return parse(decode(data))
