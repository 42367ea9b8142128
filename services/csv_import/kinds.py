"""The registry of what can be imported: one module per kind of record, looked up by `rules(kind)`.

How a kind plugs in:

1. Add its value to `models.csv_import.ImportKind` (the column holds 13 characters; run
   tests/test_migrations.py, which says whether the enum change needs a migration).
2. Write `services/csv_import/<kind>.py` satisfying `ImportRules` below (see `patients.py`):
   - `LABEL` (the page's choice), `FIELDS` (tuple of `rows.Field`: the columns it maps, required ones
     marked), `TEMPLATE` (example rows in `FIELDS` order for the downloadable template),
     `ACTION_LABELS` (every `rows.Action` -> how the preview names it, e.g. "New prescription");
   - `duplicates(rows)`: row number -> the earlier row of the same record in the whole file;
   - `prepare(rows, duplicate_of)`: the checks that need no database (runs in a thread, CPU only);
   - `plan(prepared)`: async, one chunk's `RowPlan`s against the records on file, a few queries per chunk,
     never one per row; a refused row carries the sentence a receptionist understands;
   - `apply(plans, practice, actor, stamp)`: async, writes the creates and updates of the chunk with
     their audit rows. It runs inside the chunk's transaction (with the job's progress): raise to roll the
     chunk back; the job then retries the chunk row by row so one bad row never aborts the others;
   - `after_commit(plans)`: async, after the chunk committed: publish change events (never earlier);
   - optionally `still_current(plans)`: async, inside the chunk's transaction, for plans made just before
     it: False when something they relied on changed since (the job then plans again inside). A kind
     with it is planned outside the transaction, so the writes alone hold SQLite's one connection.
   Rows are matched so that applying a chunk twice changes nothing the second time (a crash between the
   commit and the next chunk replays nothing, but a re-imported file must be a no-op too).
3. Add one line to `REGISTRY`. The mapping, the templates, the preview, the job and the page pick it up.
"""

from datetime import datetime
from typing import Any, Protocol

from models.csv_import import ImportKind
from models.practice import Practice
from services import audit
from services.csv_import import appointments, invoices, patients, prescriptions
from services.csv_import.rows import Action, Field
from services.errors import DomainError


class ImportRules(Protocol):
    """What a kind's module provides (a module satisfies this protocol with module-level names)."""

    LABEL: str
    FIELDS: tuple[Field, ...]
    TEMPLATE: list[list[str]]
    ACTION_LABELS: dict[Action, str]

    def duplicates(self, rows: list[tuple[int, dict[str, str]]]) -> dict[int, int]: ...

    def prepare(self, rows: list[tuple[int, dict[str, str]]], duplicate_of: dict[int, int]) -> list[Any]: ...

    async def plan(self, prepared: list[Any]) -> list[Any]: ...  # list of RowPlan (or a subclass)

    async def apply(self, plans: list[Any], practice: Practice, actor: audit.Actor, stamp: datetime) -> None: ...

    async def after_commit(self, plans: list[Any]) -> None: ...


REGISTRY: dict[ImportKind, ImportRules] = {
    ImportKind.PATIENTS: patients,  # type: ignore[dict-item]
    ImportKind.PRESCRIPTIONS: prescriptions,  # type: ignore[dict-item]
    ImportKind.APPOINTMENTS: appointments,  # type: ignore[dict-item]
    ImportKind.INVOICES: invoices,  # type: ignore[dict-item]
}


class KindNotAvailable(DomainError):
    def __init__(self, kind: str) -> None:
        super().__init__(f'Importing {kind} is not available yet.')


def rules(kind: ImportKind | str) -> ImportRules:
    """The module of this kind, or KindNotAvailable (a kind named in the enum but not plugged in)."""
    try:
        return REGISTRY[ImportKind(kind)]
    except (ValueError, KeyError):
        raise KindNotAvailable(str(getattr(kind, 'value', kind))) from None


def labels() -> dict[ImportKind, str]:
    """Kind -> its label, in registry order: the page's choice of what the file holds."""
    return {kind: module.LABEL for kind, module in REGISTRY.items()}
