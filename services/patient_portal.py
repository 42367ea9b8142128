"""What every patient page needs besides its own tab: who is signed in, and which practice to call."""

from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice


async def signed_in_patient(account: PortalAccount) -> Patient:
    """The account's patient with their practice: greeting, footer, time zone. Read with the session
    (`sessions.resolve_patient_session`), so a page load asks no query here; else one query."""
    patient = account.patient
    if isinstance(patient, Patient) and isinstance(patient.practice, Practice):
        return patient
    return await Patient.filter(id=account.patient_id).select_related('practice').get()


async def practice_contact() -> Practice | None:
    """The practice running this portal, for public pages such as Help (None before set-up)."""
    return await Practice.all().order_by('id').first()
