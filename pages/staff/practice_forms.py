"""The forms of practice setup, shared by the first-time setup and Practice settings.

Each `*_fields` function draws labelled inputs (with stable `.mark()` names for tests) into the current
container and returns a function that reads them into the service's input dataclass. The service
validates; the page shows its sentence.
"""

from collections.abc import Awaitable, Callable
from decimal import Decimal

from nicegui import ui

from models.practice import Location, Practice, Provider
from pages.dialog import titled_dialog
from portal.config import get_settings
from services.errors import DomainError
from services.locations import LocationInput
from services.practice_setup import PracticeDetails, PracticeSettings, time_zones
from services.providers import ProviderInput

DEFAULT_TIME_ZONE = 'America/New_York'


def _input(label: str, value: str, marker: str, **props: str) -> ui.input:
    extra = ' '.join(f'{key}={value}' for key, value in props.items())
    return ui.input(label, value=value).props(f'outlined dense {extra}'.strip()).classes('w-full').mark(marker)


def practice_fields(practice: Practice | None) -> Callable[[], PracticeDetails]:
    p = practice
    with ui.grid(columns=2).classes('w-full gap-x-4 gap-y-1'):
        name = _input('Practice name', p.name if p else '', 'practice-name', autocomplete='organization')
        phone = _input('Practice phone', p.phone if p else '', 'practice-phone', type='tel')
        fax = _input('Practice fax (optional)', p.fax if p else '', 'practice-fax', type='tel')
        tax_id = _input('Tax id (EIN, for receipts; optional)', p.tax_id if p else '', 'practice-tax-id')
    address1 = _input('Street address', p.address_line1 if p else '', 'practice-address1')
    address2 = _input('Suite, floor (optional)', p.address_line2 if p else '', 'practice-address2')
    with ui.grid(columns=3).classes('w-full gap-x-4 gap-y-1'):
        city = _input('City', p.city if p else '', 'practice-city')
        state = _input('State', p.state if p else '', 'practice-state')
        postal_code = _input('ZIP code', p.postal_code if p else '', 'practice-zip')
    zones = list(time_zones())
    time_zone = (
        ui.select(
            zones, label='Time zone (type to search)', with_input=True, value=p.time_zone if p else DEFAULT_TIME_ZONE
        )
        .props('outlined dense')
        .classes('w-full')
        .mark('practice-time-zone')
    )

    def read() -> PracticeDetails:
        return PracticeDetails(
            name=name.value or '',
            phone=phone.value or '',
            time_zone=time_zone.value or '',
            fax=fax.value or '',
            address_line1=address1.value or '',
            address_line2=address2.value or '',
            city=city.value or '',
            state=state.value or '',
            postal_code=postal_code.value or '',
            tax_id=tax_id.value or '',
        )

    return read


def location_fields(location: Location | None = None) -> Callable[[], LocationInput]:
    loc = location
    name = _input('Location name', loc.name if loc else '', 'location-name')
    address = _input('Location address (optional)', loc.address if loc else '', 'location-address')
    phone = _input('Location phone (optional)', loc.phone if loc else '', 'location-phone', type='tel')
    return lambda: LocationInput(name.value or '', address.value or '', phone.value or '')


def provider_fields(provider: Provider | None = None) -> Callable[[], ProviderInput]:
    pr = provider
    name = _input('Provider name (as printed on prescriptions)', pr.name if pr else '', 'provider-name')
    with ui.grid(columns=2).classes('w-full gap-x-4 gap-y-1'):
        credentials = _input('Credentials (e.g. OD, MD)', pr.credentials if pr else '', 'provider-credentials')
        npi = _input('NPI (10 digits)', pr.npi if pr else '', 'provider-npi', inputmode='numeric')
        number = _input('License number', pr.licence_number if pr else '', 'provider-license-number')
        state = _input('License state (e.g. VT)', pr.licence_state if pr else '', 'provider-license-state')
    return lambda: ProviderInput(
        name.value or '', credentials.value or '', number.value or '', state.value or '', npi.value or ''
    )


def _plain(number: object) -> str:
    """6.250 -> '6.25', 0.000 -> '0', 10.000 -> '10' (Decimal.normalize alone would print 1E+1)."""
    return format(Decimal(str(number)).normalize(), 'f')


def settings_fields(settings: PracticeSettings) -> Callable[[], PracticeSettings]:
    with ui.grid(columns=2).classes('w-full gap-x-4 gap-y-1'):
        expiry = _input(
            'Spectacle Rx expiry (months)',
            str(settings.spectacle_expiry_months),
            'settings-expiry',
            inputmode='numeric',
        )
        lead = _input(
            'Appointment reminder (hours ahead)',
            str(settings.reminder_lead_hours),
            'settings-reminder',
            inputmode='numeric',
        )
        tax = _input('Sales tax (%)', _plain(settings.sales_tax_percent), 'settings-sales-tax', inputmode='decimal')
        payment = _input('Online payment link (optional, https://)', settings.payment_url, 'settings-payment-url')
    exemption = ui.checkbox(
        'No financial interest in selling eyewear or contact lenses (FTC exemption: no signed confirmation '
        'of receipt needed when releasing a prescription)',
        value=settings.eyewear_sales_exemption,
    ).mark('settings-exemption')
    return lambda: PracticeSettings(expiry.value, bool(exemption.value), lead.value, tax.value, payment.value or '')


def base_url_note() -> None:
    """The portal address patients are told is configuration, not a practice setting: shown, not edited."""
    with ui.column().classes('w-full gap-0 q-mt-sm').mark('portal-base-url'):
        ui.input('Portal address patients are sent to', value=get_settings().base_url).props(
            'outlined dense readonly'
        ).classes('w-full')
        ui.label(
            "Set by PORTAL_BASE_URL in the server's environment (or its .env file); whoever runs the server "
            'changes it there and restarts the portal.'
        ).classes('text-caption text-grey-8')


def problem_label() -> ui.label:
    return ui.label().classes('text-negative').props('role=alert')


async def attempt(problem: ui.label, action: Callable[[], Awaitable[object]], done: str = '') -> bool:
    """Run a service call; show its sentence under the form when it refuses. True when it went through."""
    problem.text = ''
    try:
        await action()
    except DomainError as error:
        problem.text = str(error)
        return False
    if done:
        ui.notify(done, type='positive')
    return True


async def form_dialog(
    title: str, draw: Callable[[], Callable[[], object]], save: Callable[[object], Awaitable[object]]
) -> bool:
    """A dialog with the fields `draw` builds; `save` gets what they read. True once saved."""
    with titled_dialog(title, style='max-width: 560px', classes='w-full') as dialog:
        read = draw()
        problem = problem_label()

        async def submit() -> None:
            if await attempt(problem, lambda: save(read())):
                dialog.submit(True)

        with ui.row().classes('w-full justify-end'):
            ui.button('Cancel', on_click=lambda: dialog.submit(False)).props('flat')
            ui.button('Save', on_click=submit).mark('dialog-save')
    dialog.open()
    saved = await dialog
    dialog.delete()
    return bool(saved)
