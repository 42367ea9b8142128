"""The words every kind of import shares: a mappable field, what a row will do, and a row's plan."""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from models.patient import Patient

# Every kind names its patient by chart number, under the headings practice systems export it with.
CHART_NUMBER_ALIASES = ('chart', 'chart no', 'chart #', 'mrn', 'patient id', 'account')


@dataclass(frozen=True)
class Field:
    """A field of a kind of record that a CSV column can hold; `aliases` are headings practices use for it."""

    name: str
    label: str
    required: bool = False
    aliases: tuple[str, ...] = ()


class Action(StrEnum):
    CREATE = 'create'
    UPDATE = 'update'
    UNCHANGED = 'unchanged'
    REFUSED = 'refused'
    HELD = 'held'


@dataclass
class RowPlan:
    """What one row does to the records on file: the job counts it and keeps its reason when it has one."""

    row_number: int
    action: Action
    values: dict[str, str]
    reason: str = ''  # refused or held: why; update/unchanged: a note (something left alone)
    patient: Patient | None = None  # the patient the row is (or is about): a noted row is linked to it
    changed: list[str] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)  # held rows: the patient ids it could be

    @property
    def name(self) -> str:
        """Who the row is about, as the preview lists it."""
        written = f'{self.values.get("last_name", "")}, {self.values.get("first_name", "")}'.strip(', ')
        if written:
            return written
        if self.patient is not None:
            return f'{self.patient.last_name}, {self.patient.first_name}'
        chart = self.values.get('chart_number', '')
        return f'Chart {chart}' if chart else ''


def row_values(cells: list[str], headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """field name -> the row's trimmed text in the mapped column (blank when the row is short)."""
    index = {heading: i for i, heading in enumerate(headers)}
    return {
        name: (cells[index[heading]].strip() if index[heading] < len(cells) else '')
        for name, heading in mapping.items()
    }


def earlier_rows(
    rows: list[tuple[int, dict[str, str]]], identity: Callable[[dict[str, str]], tuple[str, ...]]
) -> dict[int, int]:
    """row number -> the earlier row with the same identity, over the whole file (the first one wins)."""
    first: dict[tuple[str, ...], int] = {}
    found: dict[int, int] = {}
    for number, values in rows:
        key = identity(values)
        if key in first:
            found[number] = first[key]
        else:
            first[key] = number
    return found
