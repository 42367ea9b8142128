"""Bundles: a patient's records exported as a transaction Bundle, and transactions applied all or nothing.

A transaction runs every entry through the same mappings and services as single calls, inside one
database transaction: one refused entry rolls back every other (FHIR's all-or-nothing). References
between entries (`urn:uuid:...`, or the source server's own `Type/id` under an entry's fullUrl) resolve
to the records created earlier in the same Bundle; entries are applied providers and locations first,
then patients, then what refers to them.
"""

from collections.abc import Callable
from typing import Any

from models.appointment import Appointment
from models.billing import Invoice
from models.patient import Patient
from models.practice import Location, Provider
from models.prescription import Prescription, RxStatus
from services import after_commit, audit, events
from services.fhir_r4 import invoices, resources, vision
from services.fhir_r4.appointments import to_fhir as appointment_resource
from services.fhir_r4.common import FhirProblem, Warnings, identifiers_of, outcome
from services.fhir_r4.locations import to_fhir as location_resource
from services.fhir_r4.patients import to_fhir as patient_resource
from services.fhir_r4.practitioners import to_fhir as practitioner_resource

ORDER = ('Practitioner', 'Location', 'Patient', 'VisionPrescription', 'Appointment', 'Invoice')
MAX_ENTRIES = 1000


async def export_patient(patient_id: int, base_url: str) -> dict[str, Any]:
    """The patient, their prescriptions, appointments and invoices, and the providers and locations these name,
    as a transaction Bundle another portal (or this one, empty) can import."""
    patient = await Patient.get_or_none(id=patient_id)
    if patient is None:
        raise FhirProblem(404, f'Patient/{patient_id} does not exist.', '', 'not-found')
    # Replaced ones after the rest, so their replaced-by reference names an entry already applied; newest
    # first within each, ties in the order written (an import writes them in this order: same order again).
    prescriptions = sorted(
        await Prescription.filter(patient_id=patient_id).prefetch_related('eyes'),
        key=lambda rx: (rx.status == RxStatus.SUPERSEDED, -rx.issue_date.toordinal(), rx.id),
    )
    visits = await Appointment.filter(patient_id=patient_id).order_by('starts_at', 'id')
    bills = (
        await Invoice.filter(patient_id=patient_id)
        .order_by('issued_on', 'id')
        .prefetch_related('lines', 'adjustments', 'payments')
    )
    provider_ids = sorted(
        {rx.provider_id for rx in prescriptions}  # type: ignore[attr-defined]
        | {a.provider_id for a in visits if a.provider_id}  # type: ignore[attr-defined]
        | {b.provider_id for b in bills if b.provider_id}  # type: ignore[attr-defined]
    )
    location_ids = sorted({a.location_id for a in visits if a.location_id})  # type: ignore[attr-defined]
    providers = await Provider.filter(id__in=provider_ids).order_by('id')
    places = await Location.filter(id__in=location_ids).order_by('id')
    provider_ids_found = await identifiers_of('Practitioner', provider_ids)
    location_ids_found = await identifiers_of('Location', location_ids)
    patient_ids_found = await identifiers_of('Patient', [patient.id])
    rx_ids_found = await identifiers_of('VisionPrescription', [rx.id for rx in prescriptions])
    visit_ids_found = await identifiers_of('Appointment', [a.id for a in visits])
    bill_ids_found = await identifiers_of('Invoice', [b.id for b in bills])
    found = [practitioner_resource(p, provider_ids_found.get(p.id, [])) for p in providers]
    found += [location_resource(place, location_ids_found.get(place.id, [])) for place in places]
    found.append(patient_resource(patient, patient_ids_found.get(patient.id, [])))
    found += [vision.to_fhir(rx, rx_ids_found.get(rx.id, [])) for rx in prescriptions]
    found += [appointment_resource(a, visit_ids_found.get(a.id, [])) for a in visits]
    found += [invoices.to_fhir(b, bill_ids_found.get(b.id, [])) for b in bills]
    return {
        'resourceType': 'Bundle',
        'type': 'transaction',
        'entry': [
            {
                'fullUrl': f'{base_url}/{r["resourceType"]}/{r["id"]}',
                'resource': r,
                'request': {'method': 'POST', 'url': r['resourceType']},
            }
            for r in found
        ],
    }


def _entries(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or body.get('resourceType') != 'Bundle':
        raise FhirProblem(400, 'POST to the base URL takes a Bundle of type transaction.', 'resourceType')
    if body.get('type') != 'transaction':
        raise FhirProblem(
            422, 'Only transaction Bundles are processed here (Bundle.type).', 'Bundle.type', 'not-supported'
        )
    entries = body.get('entry') or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FhirProblem(400, 'Bundle.entry must be a list of entries.', 'Bundle.entry', 'structure')
    if len(entries) > MAX_ENTRIES:
        raise FhirProblem(413, f'At most {MAX_ENTRIES} entries per transaction.', 'Bundle.entry', 'too-costly')
    return entries


def _plan(entries: list[dict[str, Any]]) -> list[tuple[int, str, str, str, int | None]]:
    """(index, resource type, method, fullUrl, target id) per entry, in the order they are applied."""
    from portal.ids import parse_id

    planned = []
    for index, entry in enumerate(entries):
        at = f'Bundle.entry[{index}]'
        resource, request = entry.get('resource'), entry.get('request') or {}
        if not isinstance(resource, dict) or not isinstance(request, dict):
            raise FhirProblem(400, f'{at} needs a resource and a request.', at, 'structure')
        kind = resource.get('resourceType', '')
        if kind not in resources.MAPPERS:
            raise FhirProblem(422, f'{at}: {kind!r} is not a resource type this server takes.', f'{at}.resource')
        method = (request.get('method') or '').upper()
        url = (request.get('url') or '').strip()
        target = None
        if method == 'POST':
            if url.split('?')[0] != kind:
                raise FhirProblem(422, f'{at}.request.url must be {kind} for a POST.', f'{at}.request.url')
        elif method == 'PUT':
            url_kind, _, raw = url.partition('/')
            target = parse_id(raw)
            if url_kind != kind or target is None:
                raise FhirProblem(422, f'{at}.request.url must be {kind}/<id> for a PUT.', f'{at}.request.url')
        else:
            raise FhirProblem(
                422, f'{at}.request.method {method or "(none)"} is not supported (POST, PUT).', f'{at}.request.method'
            )
        planned.append((index, kind, method, str(entry.get('fullUrl') or ''), target))
    return sorted(planned, key=lambda p: (ORDER.index(p[1]), p[0]))


def _aliases(full_url: str, kind: str) -> list[str]:
    """What other entries may call this one: its fullUrl, and `Type/id` when the fullUrl is a server URL."""
    if not full_url:
        return []
    names = [full_url]
    if not full_url.startswith('urn:'):
        tail = full_url.rstrip('/').split('/')
        if len(tail) >= 2 and tail[-2] == kind:
            names.append(f'{kind}/{tail[-1]}')
    return names


async def transaction(body: Any, actor: audit.Actor, allowed: Callable[[str], bool]) -> dict[str, Any]:
    """Apply every entry or none; the transaction-response Bundle in the entries' original order."""
    entries = _entries(body)
    plan = _plan(entries)
    for index, kind, _, _, _ in plan:
        if not allowed(kind):
            raise FhirProblem(
                403, f'Bundle.entry[{index}]: this client has no scope for system/{kind}.write.', '', 'forbidden'
            )
    resolved: dict[str, str] = {}
    answers: dict[int, dict[str, Any]] = {}
    touched: set[int] = set()
    async with after_commit.outer_transaction():
        for index, kind, method, full_url, target in plan:
            warnings = Warnings()
            resource = dict(entries[index]['resource'])
            if method == 'POST':
                resource.pop('id', None)
            try:
                if target is not None:
                    await resources.read(kind, target)
                new_id, created = await resources.write(kind, resource, actor, target, warnings, resolved)
            except FhirProblem as problem:
                problem.diagnostics = f'Bundle.entry[{index}]: {problem.diagnostics}'
                raise
            for alias in _aliases(full_url, kind):
                resolved[alias] = f'{kind}/{new_id}'
            patient_id = await resources.patient_of(kind, new_id)
            if patient_id is not None:
                touched.add(patient_id)
            answer: dict[str, Any] = {
                'status': '201 Created' if created else '200 OK',
                'location': f'{kind}/{new_id}',
            }
            if warnings.items:
                answer['outcome'] = outcome(
                    [
                        {'severity': 'warning', 'code': 'informational', 'diagnostics': text, 'expression': [where]}
                        for where, text in warnings.items
                    ]
                )
            answers[index] = {'response': answer}
        # Held with the services' own announcements and emails, and sent once the Bundle has committed.
        for patient_id in sorted(touched):
            for topic in (events.PRESCRIPTIONS, events.APPOINTMENTS, events.BILLING):
                await events.publish(patient_id, topic)
    return {
        'resourceType': 'Bundle',
        'type': 'transaction-response',
        'entry': [answers[index] for index in range(len(entries))],
    }
