"""Patient records: saving keeps the derived search columns right; search serves the staff console."""

import re

from models.patient import Patient
from services.email_addresses import normalize_email


def _digits(value: str) -> str:
    return re.sub(r'\D', '', value or '')


async def save_patient(patient: Patient) -> Patient:
    """Save with the normalised email, phone digits and search name derived from what was typed."""
    patient.email = (patient.email or '').strip()
    patient.email_normalized = normalize_email(patient.email)
    patient.phone_digits = _digits(patient.phone)[-15:]
    patient.search_name = f'{patient.first_name} {patient.last_name}'.strip().lower()
    await patient.save()
    return patient
