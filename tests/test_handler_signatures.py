"""NiceGUI's "does this handler take arguments?" gives the same answers when kept per function."""

import functools
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from nicegui import helpers, ui
from nicegui.helpers import functions
from nicegui.testing import User

from portal import handler_signatures


class Handlers:
    def no_args(self) -> None: ...

    def one(self, event: Any) -> None: ...

    def defaulted(self, event: Any = None) -> None: ...

    async def later(self, event: Any) -> None: ...

    def __call__(self, event: Any) -> None: ...


def wrapped(func: Callable) -> Callable:
    @functools.wraps(func)
    def inner(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return inner


def defaults_in_a_loop() -> list[Callable]:
    """The same code with and without a default: must not share one answer."""
    return [lambda event=None: event, (lambda event: event)] + [lambda x=i: x for i in range(3)]


KINDS: list[Callable] = [
    lambda: None,
    lambda event: event,
    lambda event=None: event,
    lambda *args: args,
    lambda **kwargs: kwargs,
    lambda a, *, b: a,
    lambda a, *, b=1: a,
    Handlers().no_args,
    Handlers().one,
    Handlers().defaulted,
    Handlers().later,
    Handlers(),
    functools.partial(lambda a, b: a, 1),
    functools.partial(lambda a, b: a, 1, 2),
    wrapped(lambda event: event),
    print,
    *defaults_in_a_loop(),
]


@given(st.lists(st.sampled_from(range(len(KINDS))), max_size=40))
def test_every_kind_of_handler_gets_nicegui_s_own_answer_in_any_order(order: list[int]):
    for index in order:
        func = KINDS[index]
        assert handler_signatures.expects_arguments(func) == functions.expects_arguments(func), func


async def test_the_portal_answers_for_nicegui_and_pages_still_work(user: User):
    assert helpers.expects_arguments is handler_signatures.expects_arguments
    await user.open('/login')  # a NiceGUI-free page, then a NiceGUI page with its elements and events
    await user.open('/staff/login')
    await user.should_see('Staff sign-in')
    with user:
        clicked: list[Any] = []
        button = ui.button('Try', on_click=lambda event: clicked.append(event.sender))
    user.find('Try').click()
    assert clicked == [button]
