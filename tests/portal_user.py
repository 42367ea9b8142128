"""The simulated user (NiceGUI's `user` fixture) on the whole portal, entry pages included.

The entry pages (login, link sent, the link's Continue, help, logout, 404) are server-rendered HTML without
a NiceGUI client, so the simulated user is taught to read them: opening one keeps its HTML (`should_see`
reads its text), and `submit` sends one of its forms as a browser would, CSRF token included.
Signing a patient in goes the honest way: ask for a link, open it, press Continue. Signing staff in too:
email, password, and for administrators the code from the authenticator app (`staff_sign_in`).
"""

import asyncio
import html
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from uuid import uuid4

import httpx
from nicegui import Client, ui
from nicegui.nicegui import _on_handshake
from nicegui.testing import User

from models.patient import Patient
from models.staff import StaffUser
from pages import csrf
from services import magic_link, staff_totp
from tests import factories
from tests.conftest import TEST_BASE_URL
from tests.mail import SmtpServer, link_in

FORM = re.compile(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ('title', 'style', 'script')

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ('title', 'style', 'script')

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


@dataclass(frozen=True)
class PlainPage:
    """A server-rendered page as the simulated user last saw it."""

    url: str
    status_code: int
    html: str

    @property
    def path(self) -> str:
        return httpx.URL(self.url).raw_path.decode()

    @property
    def text(self) -> str:
        parser = _Text()
        parser.feed(self.html)
        return ' '.join(' '.join(parser.parts).split())

    def forms(self) -> list[tuple[str, str]]:
        """(action, inner HTML) of each POST form."""
        return [(html.unescape(action), body) for action, body in FORM.findall(self.html)]


def read_plain_pages(user: User) -> User:
    """Let `user.open` land on plain pages and `should_see`/`should_not_see` read them."""
    original_sees = user._sees  # noqa: SLF001
    user.plain_page = None  # type: ignore[attr-defined]

    async def open_(path: str, *, clear_forward_history: bool = True) -> Client | None:
        response = await user.http_client.get(path, follow_redirects=True)
        return await arrive(user, response, clear_forward_history=clear_forward_history)

    def sees(target: Any, kind: Any, marker: Any, content: Any) -> bool:
        page: PlainPage | None = user.plain_page  # type: ignore[attr-defined]
        if page is None:
            return original_sees(target, kind, marker, content)
        return isinstance(target, str) and kind is None and marker is None and target in page.text

    user.open = open_  # type: ignore[method-assign]
    user._sees = sees  # type: ignore[method-assign]  # noqa: SLF001
    return user


async def arrive(user: User, response: httpx.Response, *, clear_forward_history: bool = True) -> Client | None:
    """Take the page a response (after its redirects) shows: a NiceGUI page is connected as `User.open`
    does it, a plain page is kept for reading. Returns the NiceGUI client, or None on a plain page."""
    path = response.url.raw_path.decode()
    user.back_history.append(path)
    if clear_forward_history:
        user.forward_history.clear()
    if response.headers.get('X-Nicegui-Content') != 'page':
        user.plain_page = PlainPage(str(response.url), response.status_code, response.text)  # type: ignore[attr-defined]
        user.client = None
        return None
    assert response.status_code == 200, f'Expected status code 200, got {response.status_code}'
    user.plain_page = None  # type: ignore[attr-defined]
    match = re.search(r"'client_id': '([0-9a-f-]+)'", response.text)
    assert match is not None
    user.client = Client.instances[match.group(1)]
    await _on_handshake(
        f'test-{uuid4()}', {'client_id': user.client.id, 'tab_id': user.tab_id, 'document_id': str(uuid4())}
    )
    user._patch_outbox_emit_function()  # noqa: SLF001
    return user.client


def plain_page(user: User) -> PlainPage:
    page: PlainPage | None = getattr(user, 'plain_page', None)
    assert page is not None, 'the simulated user is not on a server-rendered page'
    return page


async def submit(user: User, button: str, **fields: str) -> httpx.Response:
    """Send the form of the current plain page that has `button`, with its hidden fields (the CSRF token)
    and `fields`, as a browser would; the user lands where the answer (and its redirects) leads."""
    page = plain_page(user)
    for action, body in page.forms():
        if f'>{html.escape(button)}</button>' in body:
            data = dict(HIDDEN.findall(body)) | fields
            response = await user.http_client.post(action, data=data, follow_redirects=True)
            await arrive(user, response)
            return response
    raise AssertionError(f'no form with a {button!r} button on {page.path}')


def page_csrf_token(user: User) -> str:
    """The CSRF token the current NiceGUI page put in its log-out form (an element, or HTML in one)."""
    assert user.client is not None, 'not on a NiceGUI page'
    for element in user.client.elements.values():
        if element.tag == 'input' and element.props.get('name') == csrf.FIELD:
            return str(element.props['value'])
        hidden = dict(HIDDEN.findall(str(getattr(element, 'content', '') or '')))
        if csrf.FIELD in hidden:
            return hidden[csrf.FIELD]
    raise AssertionError('the page has no form with a CSRF token')


async def log_out(user: User, action: str = '/logout') -> httpx.Response:
    """Press the frame's log-out button (a form POST with the page's CSRF token).

    In a browser, the tab has left every page it showed before; the simulated user keeps them all
    connected. The logout pushes every open page of the session to the sign-in page, and the simulated
    user, one tab, would follow each of those left pages too, possibly after the test has opened the
    next page. So the tab's earlier pages are deleted first, as their websockets closing does."""
    token = (
        page_csrf_token(user) if user.client is not None else dict(HIDDEN.findall(plain_page(user).html))[csrf.FIELD]
    )
    for client in [c for c in Client.instances.values() if user.tab_id in (c.tab_id, c._pinned_tab_id)]:  # noqa: SLF001
        client.delete()
    response = await user.http_client.post(action, data={csrf.FIELD: token}, follow_redirects=True)
    await arrive(user, response)
    return response


def link_path(url: str) -> str:
    return url.removeprefix(TEST_BASE_URL)


async def sign_in(user: User, smtp_server: SmtpServer, patient: Patient) -> None:
    """Leaves `user` signed in as `patient`, on the page the portal lands on after login."""
    already = len(smtp_server.to(patient.email))
    await magic_link.request_login_link(patient.email, '127.0.0.1')
    link = link_in(await smtp_server.wait_for(patient.email, count=already + 1))
    await user.open(link_path(link))
    await submit(user, 'Continue')
    await user.should_see('Log out')


async def staff_sign_in(
    user: User, staff: StaffUser | None = None, *, password: str = factories.STAFF_PASSWORD, path: str = '/staff/login'
) -> StaffUser:
    """THE way a page test signs staff in (default: a new administrator): through the real sign-in page at
    `path`, email and password, then, for a member with two-step sign-in (every factory-made administrator),
    the code from the factories' authenticator app. Leaves `user` on the console, its name in the header."""
    staff = staff or await factories.make_staff(name='Riley Front Desk')
    await user.open(path)
    user.find(kind=ui.input, content='Email').type(staff.email)
    user.find(kind=ui.input, content='Password').type(password)
    user.find(kind=ui.button, content='Sign in').click()
    if staff_totp.is_enabled(await StaffUser.get(id=staff.id)):
        await user.should_see('Enter the 6-digit code', retries=100)
        user.find(kind=ui.input, content='Code').type(await factories.totp_code(staff))
        user.find(kind=ui.button, content='Sign in').click()
    await user.should_see(f'{staff.name} ({staff.role})', retries=100)
    return staff


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Click handlers run as tasks: wait for their effect with a deadline, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f'condition not met within {timeout} s')
        await asyncio.sleep(0.02)
