"""What every patient page needs besides its own tab: who is signed in, and which practice to call."""

from models.patient import Patient
from models.portal_account import PortalAccount
from models.practice import Practice


async def signed_in_patient(account: PortalAccount) -> Patient:
    """The account's patient with their practice (one query): greeting, footer, time zone."""
    return await Patient.filter(id=account.patient_id).select_related('practice').get()


async def practice_contact() -> Practice | None:
    """The practice running this portal, for public pages such as Help (None before set-up)."""
    return await Practice.all().order_by('id').first()
