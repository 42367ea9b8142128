"""The server's copy of a patient page (`pages.patient.prepaint`): painted before NiceGUI's scripts load, it
shows what the page shows (and no more), escapes what it copies, and never takes an id from the real page."""

import re

from nicegui import context, ui
from nicegui.testing import User

from pages.patient import prepaint
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in

COPY = re.compile(r'<div id="pp-prepaint">(.*?)<script>', re.S)


def _copy(html: str) -> str:
    """The copy, checked to come before the element NiceGUI draws the page into."""
    found = COPY.search(html)
    assert found is not None, 'the page has no first-paint copy'
    assert html.index('id="pp-prepaint"') < html.index('<div id="app"')
    return found.group(1)


async def test_the_first_html_of_a_tab_already_shows_the_records_the_tabs_and_the_log_out(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient(first_name='Noor')
    await factories.give_consent(patient)
    await factories.make_spectacle_rx(patient)
    await sign_in(user, smtp_server, patient)

    copy = _copy((await user.http_client.get('/prescriptions')).text)

    assert 'Hello, Noor' in copy
    assert 'Glasses prescription' in copy and 'Sphere' in copy
    for tab in ('/prescriptions', '/appointments', '/billing'):
        assert f'href="{tab}"' in copy
    assert 'action="/logout"' in copy and 'name="csrf_token"' in copy  # a real form: logs out before scripts load
    assert 'href="/rx/' in copy  # View / print works before the scripts, as a plain link
    assert 'Share with an optician or store' in copy  # a button, drawn as it will look


async def test_another_patients_records_are_not_in_the_copy(user: User, smtp_server: SmtpServer):
    """The copy is made from the page just built for this session: nothing the page would not show."""
    patient = await factories.make_active_patient(first_name='Noor')
    other = await factories.make_active_patient(first_name='Imani')
    await factories.give_consent(other)
    await factories.make_spectacle_rx(other)
    await sign_in(user, smtp_server, patient)

    copy = _copy((await user.http_client.get('/prescriptions')).text)

    assert 'Hello, Noor' in copy and 'Imani' not in copy
    assert 'Glasses prescription' not in copy


async def test_ids_in_blocks_are_renamed_so_a_fragment_link_finds_the_real_element(user: User, smtp_server: SmtpServer):
    patient = await factories.make_active_patient()
    await sign_in(user, smtp_server, patient)

    html = (await user.http_client.get('/appointments')).text
    copy = _copy(html)

    assert 'data-prepaint-id="request"' in copy and ' id="request"' not in copy
    assert 'Request an appointment' in copy and 'Reason for the visit' in copy  # the form's fields, drawn empty


async def test_copied_text_is_escaped_and_html_sanitized_in_the_browser_is_left_out(
    user: User, smtp_server: SmtpServer
):
    @ui.page('/prepaint-probe')
    def probe() -> None:
        ui.label('<img src=x onerror=alert(1)>')
        ui.button('<b>Pay</b>').props('outline')
        ui.html('<em>browser-sanitized</em>')  # sanitize=True: only DOMPurify in the browser may write it
        with ui.card().props('flat bordered'):
            ui.html('<span id="anchor">ours</span>', sanitize=False)
        hidden = ui.label('not shown')
        hidden.visible = False
        prepaint.add(context.client)

    await sign_in(user, smtp_server, await factories.make_active_patient())  # every page needs a session
    copy = _copy((await user.http_client.get('/prepaint-probe')).text)

    assert '&lt;img src=x onerror=alert(1)&gt;' in copy and '<img' not in copy
    assert '&lt;b&gt;Pay&lt;/b&gt;' in copy
    assert 'browser-sanitized' not in copy
    assert '<span data-prepaint-id="anchor">ours</span>' in copy
    assert 'not shown' not in copy
