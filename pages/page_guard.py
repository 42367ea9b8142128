"""An open page obeys the session for as long as it is open, not only when it loads.

NiceGUI pages stay connected over a websocket, and their handlers would otherwise act on the session
seen at load time. Every UI event of a guarded page (a click, a typed value, a menu choice) passes one
check first, in the order the events arrived; when the session has died (logout, idle or absolute
timeout, portal disabled, staff account deactivated) the page goes to its login with the reason, and
no handler runs. Revocation is also pushed: change events about the patient or staff account make the
open pages check at once and leave, without waiting for a click.

The check hooks NiceGUI's one event entry point (`nicegui.events.handle_event`), so a handler that a
page forgets to wrap is guarded all the same: the default is deny.

A check or handler that fails (the database out of reach, a bug) says so on the page
(`pages.failures.notify`): the click did nothing, and the person is told, not left guessing.
"""

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import Client, background_tasks, ui
from nicegui import events as ui_events

from pages import failures
from services import events

log = logging.getLogger(__name__)

# Returns None while the session lives, else the URL the dead page goes to (login with the reason).
Check = Callable[[], Awaitable[str | None]]
Subscribe = Callable[[events.Handler], events.Unsubscribe]

# Topics after which an open page re-checks its session at once.
REVOKING_TOPICS = frozenset({events.SESSION, events.PORTAL})

_guards: dict[str, 'PageGuard'] = {}
_checked = contextvars.ContextVar('page_guard_checked', default=False)


class PageGuard:
    """The session check of one open page (one NiceGUI client)."""

    def __init__(self, client: Client, check: Check) -> None:
        self.client = client
        self.check = check
        self.left_to: str | None = None
        self._lock = asyncio.Lock()  # FIFO: events keep the order in which they arrived

    async def alive(self) -> bool:
        """Check the session now; a dead one sends the page away, once."""
        if self.left_to is None:
            self.left_to = await self.check()
            if self.left_to is not None:
                with self.client:
                    ui.navigate.to(self.left_to)
        return self.left_to is None

    async def dispatch(self, call: Callable[[], Any], *, value_sync: bool = False) -> None:
        async with self._lock:
            try:
                alive = await self.alive()
            except Exception:
                if not value_sync:
                    raise  # refused, and the page says why (`pages.failures.notify`)
                # The session cannot be checked (the database is out of reach): what the person types is
                # still kept, so the form holds what the screen shows when they try again. Only the copy
                # of the value is made: its change handlers pass through the guard themselves.
                call()
                return
            if not alive:
                return
            token = _checked.set(True)  # what the handler triggers in turn (value changes) is covered
            try:
                call()
            finally:
                _checked.reset(token)

    async def on_change(self, event: events.Event) -> None:
        if event.topic in REVOKING_TOPICS:
            async with self._lock:
                await self.alive()


def guard_page(check: Check, subscribe: Subscribe) -> PageGuard:
    """Guard the page being built: every later event re-checks, and revocation pushes it away."""
    client = ui.context.client
    guard = PageGuard(client, check)
    _guards[client.id] = guard
    unsubscribe = subscribe(guard.on_change)

    def forget() -> None:
        unsubscribe()
        _guards.pop(client.id, None)

    client.on_delete(forget)
    client.on_exception(failures.notify)  # an event handler that fails, the check included
    return guard


def guard_of(client: Client) -> PageGuard | None:
    return _guards.get(client.id)


_original_handle_event = ui_events.handle_event
# The handler by which an input copies the browser's value into the server's element (NiceGUI 3.x).
_VALUE_SYNC = 'ValueElement.__init__.<locals>.handle_change'


def _guarded_handle_event(handler: Any, arguments: Any, *, expect_args: bool | None = None) -> None:
    client = getattr(arguments, 'client', None)
    guard = _guards.get(client.id) if isinstance(client, Client) else None
    if guard is None or _checked.get():
        _original_handle_event(handler, arguments, expect_args=expect_args)
        return
    background_tasks.create(
        guard.dispatch(
            lambda: _original_handle_event(handler, arguments, expect_args=expect_args),
            value_sync=getattr(handler, '__qualname__', '') == _VALUE_SYNC,
        ),
        name='guarded event',
        context=client,  # a failing check reaches the page's exception handlers, not only the log
    )


def install() -> None:
    """Route every NiceGUI event through the guard (idempotent; done when the page trees are imported)."""
    ui_events.handle_event = _guarded_handle_event


install()
