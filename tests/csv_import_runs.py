"""Running a CSV import of one kind the way the job does, for service tests: read, map, plan, apply."""

from tortoise.transactions import in_transaction

from models.practice import Practice
from services.csv_import import appointments, invoices, jobs
from services.csv_import.patients import row_values
from services.csv_import.reading import read

KINDS = {'appointments': appointments, 'invoices': invoices}


async def run_kind(kind: str, data: bytes, staff: object) -> tuple[list, None]:
    module = KINDS[kind]
    table = read(data)
    mapping = guess(module, table.headers)
    rows = [(number, row_values(cells, table.headers, mapping)) for number, cells in table.rows]
    context = module.whole_file(rows)
    prepared = module.prepare(rows, context)
    practice = await Practice.first()
    async with in_transaction():
        plans = await module.plan(prepared)
        await module.apply(plans, practice, jobs.import_actor(staff), None)
    await module.announce(plans)
    return plans, None


def guess(module: object, headers: list[str]) -> dict[str, str]:
    from services.csv_import.mapping import _key

    by_key = {_key(h): h for h in headers}
    found = {}
    for field in module.FIELDS:
        for candidate in (field.name, field.label, *field.aliases):
            if _key(candidate) in by_key:
                found[field.name] = by_key[_key(candidate)]
                break
    return found
