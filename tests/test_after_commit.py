"""Emails and change events of services called inside one outer transaction (a FHIR transaction Bundle) go
out once it has committed, never for data it rolled back, and never on its connection while it is open."""

import asyncio

import pytest
from tortoise.transactions import in_transaction

from models.appointment import Appointment
from models.outbox import OutboxMessage
from models.patient import Patient
from services import after_commit, events, outbox
from services.fhir_r4 import bundle
from services.fhir_r4.common import FhirProblem
from tests.mail import SmtpServer
from tests.portal_user import wait_until
from tests.test_fhir_appointments import ACTOR, in_days, setup, visit


def entry(resource: dict) -> dict:
    return {'resource': resource, 'request': {'method': 'POST', 'url': resource['resourceType']}}


def visits_bundle(*resources: dict) -> dict:
    return {'resourceType': 'Bundle', 'type': 'transaction', 'entry': [entry(r) for r in resources]}


def visit_subjects(smtp_server: SmtpServer, address: str) -> list[str]:
    return [m['Subject'] for m in smtp_server.to(address) if 'appointment' in m['Subject'].lower()]


async def test_a_bundle_sends_its_visit_emails_and_tells_pages_once_it_has_committed(db, smtp_server):
    patient_id, provider_id, location_id = await setup()
    email = (await Patient.get(id=patient_id)).email
    seen: list[tuple[str, int]] = []

    async def page(event: events.Event) -> None:  # an open tab re-reads what it shows
        seen.append((event.topic, await Appointment.filter(patient_id=patient_id).count()))

    events.subscribe(patient_id, page)
    first = visit(patient_id, provider_id, location_id, in_days(10))
    second = visit(patient_id, provider_id, location_id, in_days(20), identifier=[{'system': 'urn:x', 'value': 'B'}])
    answer = await bundle.transaction(visits_bundle(first, second), ACTOR, lambda kind: True)

    assert [e['response']['status'] for e in answer['entry']] == ['201 Created', '201 Created']
    await outbox.wait_for_pending()  # the deliveries, started after the commit
    assert await OutboxMessage.filter(patient_id=patient_id, purpose='appointment', status='sent').count() == 2
    assert len(visit_subjects(smtp_server, email)) == 2
    await wait_until(lambda: _heard(seen, (events.APPOINTMENTS, 2)), timeout=10)
    # Every page read happened after the commit (both visits there); the visits were announced once for
    # the two bookings (each email sent is announced as it goes, as always).
    assert seen and all(count == 2 for _, count in seen)
    assert [topic for topic, _ in seen].count(events.APPOINTMENTS) == 1


async def test_a_rolled_back_bundle_sends_no_email_and_tells_no_page(db, smtp_server):
    patient_id, provider_id, location_id = await setup()
    email = (await Patient.get(id=patient_id)).email
    heard: list[str] = []

    async def page(event: events.Event) -> None:
        heard.append(event.topic)

    events.subscribe(patient_id, page)
    good = visit(patient_id, provider_id, location_id, in_days(10))
    bad = visit(patient_id, provider_id, location_id, in_days(20), minutesDuration=2)
    with pytest.raises(FhirProblem) as caught:
        await bundle.transaction(visits_bundle(good, bad), ACTOR, lambda kind: True)
    assert caught.value.diagnostics.startswith('Bundle.entry[1]')
    await outbox.wait_for_pending()
    await asyncio.sleep(0.2)  # anything started by mistake would have delivered by now
    assert not await Appointment.exists() and not await OutboxMessage.exists(purpose='appointment')
    assert visit_subjects(smtp_server, email) == [] and heard == []


async def test_a_step_asked_for_inside_a_transaction_nothing_holds_is_a_mistake_said_at_once(db):
    with pytest.raises(after_commit.StepInsideTransaction):
        async with in_transaction():
            await events.publish(1, events.APPOINTMENTS)
    await events.publish(1, events.APPOINTMENTS)  # after the commit: fine


async def test_nested_outer_transactions_run_their_steps_once_after_the_outermost_commits(db):
    ran: list[str] = []
    async with after_commit.outer_transaction():
        async with after_commit.outer_transaction():
            assert after_commit.hold('a', lambda: ran.append('a'))
            assert after_commit.hold('a', lambda: ran.append('again'))  # same key: once
        assert ran == []
        assert after_commit.hold('b', lambda: ran.append('b'))
    assert ran == ['a', 'b']

    with pytest.raises(RuntimeError):
        async with after_commit.outer_transaction():
            after_commit.hold('c', lambda: ran.append('c'))
            raise RuntimeError('rolled back')
    assert ran == ['a', 'b'] and not after_commit.hold('d', lambda: None)


async def _heard(seen: list[tuple[str, int]], wanted: tuple[str, int]) -> bool:
    return wanted in seen
