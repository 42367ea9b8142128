"""What a started server holds for good (modules, ORM and FHIR models, templates, the routes) is moved out of
the garbage collector's reach once start-up is done (`gc.freeze`).

The portal imports far more than a bare NiceGUI page (Tortoise, pydantic and the FHIR models, fpdf2, the
services), and every full collection walked all of it again, while pages come and go: on a busy server
that is a few full collections a second (issue 11, `bench.page_cost`). Objects made later are collected
as before. Only the server does this (`python main.py`), not each test's app.
"""

import gc


def freeze() -> None:
    gc.collect()  # what start-up left behind goes first; only what is still held is frozen
    gc.freeze()
