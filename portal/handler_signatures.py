"""NiceGUI's question "does this handler take arguments?", answered once per function instead of every time.

Each NiceGUI element makes three observable collections (props, classes, style), and each asks
`inspect.signature` about its change handler, a bound method of the element: about two thirds of the time
it takes to create an element, on every element of every page (issue 11, `bench.page_cost`). Events ask
again for every handler they call. The answer depends only on the function's parameters, so it is kept per
function: for a bound method, per its underlying function; for a plain function or lambda, per its code
object and which parameters have defaults (a lambda made in a loop is a new object with the same code).
Anything else (a partial, a callable object, a wrapped function) is asked as before.
"""

from collections.abc import Callable
from types import FunctionType, MethodType
from typing import Any

from nicegui import helpers
from nicegui.helpers import functions

_original = functions.expects_arguments
_answers: dict[Any, bool] = {}


def _key(func: Callable) -> Any:
    if isinstance(func, MethodType):
        func = func.__func__
        bound = True
    else:
        bound = False
    if type(func) is not FunctionType or hasattr(func, '__wrapped__') or hasattr(func, '__signature__'):
        return None
    return (func.__code__, bound, len(func.__defaults__ or ()), tuple(func.__kwdefaults__ or ()))


def expects_arguments(func: Callable) -> bool:
    key = _key(func)
    if key is None:
        return _original(func)
    answer = _answers.get(key)
    if answer is None:
        answer = _answers[key] = _original(func)
    return answer


def install() -> None:
    """Idempotent; NiceGUI's modules look the function up on `nicegui.helpers` at each call."""
    helpers.expects_arguments = expects_arguments  # type: ignore[assignment]
