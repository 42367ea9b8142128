"""Generated bad input in the typed values that are not free text: an Rx's powers, axis, PD, brand and notes,
amounts of money and record ids. Each is stored exactly, refused with a sentence, or (an id) not found; none
raises anything else, and a refused Rx leaves no half-written prescription or eye."""

from datetime import timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from models.patient import Patient
from models.practice import Provider
from models.prescription import Prescription, PrescriptionEye
from portal.ids import parse_id
from services import audit, rx_lifecycle
from services.errors import DomainError
from services.money import InvalidAmount, parse_money
from services.rx_validation import EyeInput, RxInput
from tests import factories
from tests.security.generated import FEW, GENERATED, HUGE, TYPED, one_line

NUMBERISH = st.one_of(
    TYPED,
    st.from_regex(r'\A[+-−]?\d{0,6}(\.\d{0,4})?([eE][+-]?\d{1,4})?\Z'),
    st.sampled_from(['PL', '²', '١٢', '9' * 5_000, '1e999999', 'NaN', '-Infinity', HUGE]),
)


@FEW
@given(sphere=NUMBERISH, axis=NUMBERISH, pd=NUMBERISH, brand=TYPED)
@example(sphere='-2.00', axis='²', pd='62', brand='')
@example(sphere='-2.00', axis='9' * 5_000, pd='62', brand='')
@example(sphere='1e999999', axis='90', pd='62', brand='')
@example(sphere='-2.00', axis='90', pd='6\x002', brand='')
@example(sphere='-2.00', axis='90', pd='62', brand=HUGE)
async def test_typed_rx_values_are_stored_exactly_or_refused_and_never_half_written(
    db, sphere: str, axis: str, pd: str, brand: str
):
    if not await Provider.exists():
        await factories.make_ready_practice()
        await factories.make_patient()
    patient, provider = await Patient.first(), await Provider.first()
    eye = EyeInput(sphere=sphere, cylinder='-0.50', axis=axis, brand=brand)
    form = RxInput(
        kind='spectacle',
        provider_id=provider.id,
        exam_date=factories.today() - timedelta(days=1),
        purpose='distance',
        pd_binocular=pd,
        notes=brand,
        eyes={'OD': eye, 'OS': EyeInput(sphere='PL')},
    )
    before = (await Prescription.all().count(), await PrescriptionEye.all().count())
    try:
        rx = await rx_lifecycle.save_draft(patient.id, form, audit.SYSTEM)
    except DomainError as refused:
        assert str(refused).strip() and len(str(refused)) < 1_000
        assert (await Prescription.all().count(), await PrescriptionEye.all().count()) == before
        return
    stored = await PrescriptionEye.get(prescription_id=rx.id, eye='OD')
    assert stored.axis == int(axis.strip()) and stored.brand == one_line(brand)
    assert (await Prescription.get(id=rx.id)).notes == brand.strip()  # notes keep their lines


@GENERATED
@given(typed=NUMBERISH)
@example(typed='1e30')
@example(typed='$1,234.5')
def test_an_amount_typed_is_cents_or_a_sentence(typed: str):
    try:
        cents = parse_money(typed)
    except InvalidAmount as refused:
        assert str(refused).strip() and len(str(refused)) < 200
        return
    assert isinstance(cents, int)


@GENERATED
@given(typed=NUMBERISH)
@example(typed='9' * 5_000)
@example(typed='١٢')
def test_an_id_typed_into_an_address_is_a_number_in_range_or_none(typed: str):
    found = parse_id(typed)
    assert found is None or (typed.isascii() and found == int(typed) and found >= 1)
