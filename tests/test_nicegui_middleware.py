"""NiceGUI's middlewares run as the portal's plain ASGI ones, in the same places, doing the same work."""

import asyncio

from nicegui import Client, app
from nicegui.app.app import prune_user_storage
from nicegui.middlewares import RedirectWithPrefixMiddleware, SetCacheControlMiddleware
from nicegui.storage import RequestTrackingMiddleware
from nicegui.testing import User

from pages.access import PATIENT_SESSION_KEY
from portal.nicegui_middleware import VERSIONED, PrefixedRedirects, RequestTracking, StaticCacheControl
from tests import factories
from tests.mail import SmtpServer
from tests.portal_user import sign_in


async def test_the_portals_middlewares_replace_nicegui_s_in_the_same_places(user: User):
    await user.open('/login')
    kinds = [middleware.cls for middleware in app.user_middleware]
    assert not {RequestTrackingMiddleware, RedirectWithPrefixMiddleware, SetCacheControlMiddleware} & set(kinds)
    assert [kinds.count(kind) for kind in (RequestTracking, PrefixedRedirects, StaticCacheControl)] == [1, 1, 1]
    # Request tracking: still inside the session middleware (it reads the session) and outside the guard
    # (which reads the storage). The cache header outside the redirect prefix, as NiceGUI added them.
    names = [kind.__name__ for kind in kinds]
    assert names.index('SessionMiddleware') < names.index('RequestTracking') < names.index('GuardMiddleware')
    assert names.index('StaticCacheControl') < names.index('PrefixedRedirects') < names.index('GuardMiddleware')


async def test_a_signed_in_browser_keeps_its_session_across_requests_and_nothing_stays_in_flight(
    user: User, smtp_server: SmtpServer
):
    patient = await factories.make_active_patient(first_name='Noor')
    await sign_in(user, smtp_server, patient)
    await user.open('/billing')
    await user.should_see('Hello, Noor')
    assert any(PATIENT_SESSION_KEY in storage for storage in app.storage._users.values())
    assert not app.storage._active_request_sessions  # every request's count was given back


async def test_a_redirect_keeps_the_proxys_path_prefix_but_never_leaves_the_site(user: User):
    plain = await user.http_client.get('/prescriptions')  # not signed in: to the login
    assert (plain.status_code, plain.headers['location']) == (303, '/login')
    prefixed = await user.http_client.get('/prescriptions', headers={'X-Forwarded-Prefix': '/eyecare'})
    assert prefixed.headers['location'] == '/eyecare/login'
    for elsewhere in ('//evil.example', '/\\evil.example', 'https://evil.example', '/eye care'):
        response = await user.http_client.get('/prescriptions', headers={'X-Forwarded-Prefix': elsewhere})
        assert response.headers['location'] == '/login', elsewhere


async def test_nicegui_s_versioned_files_are_cached_for_long_and_pages_are_not(user: User):
    static = await user.http_client.get(f'{VERSIONED}static/nicegui.css')
    assert static.status_code == 200
    assert static.headers['cache-control'] == app.config.cache_control_directives
    page = await user.http_client.get('/login')
    assert page.headers.get('cache-control') != app.config.cache_control_directives


async def test_requests_arriving_together_after_the_browser_storage_was_put_away_all_find_the_session(
    user: User, smtp_server: SmtpServer
):
    """NiceGUI puts a browser's storage away when it has no open page for a while, and loads it again from
    disk on the next request. Requests arriving while it loads must wait for it, not see it empty (they
    were sent to the login page, then back to the portal's first tab)."""
    patient = await factories.make_active_patient(first_name='Noor')
    await sign_in(user, smtp_server, patient)
    for _ in range(3):
        for client in list(Client.instances.values()):
            client.delete()  # the tabs closed
        await prune_user_storage(force=True)
        assert not app.storage._users
        answers = await asyncio.gather(*(user.http_client.get('/billing') for _ in range(4)))
        assert [answer.status_code for answer in answers] == [200] * 4
        assert all('Hello, Noor' in answer.text for answer in answers)
