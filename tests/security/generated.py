"""What the generated-input tests share: the text a person might type (or paste, or forge), and the settings.

TYPED is any unicode (control characters, NUL, lone surrogates, RTL marks, emoji, combining marks) plus a few
hand-picked attacks; HUGE is a 100 KB string. Example counts stay modest so each folder pass stays short.
"""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

TYPED = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec='utf-8'), max_size=300),
    st.sampled_from(['\u200fמרים\u200f', 'Zoë\u0000', 'a\u0007b', '<b>bold</b>', 'x\r\nBcc: a@b.c', '👁️‍🗨️']),
)
HUGE = 'x' * 100_000
UNSTORABLE = ['Lake\x00side', 'Lake\x1b[31mside', 'Lake\x7fside', 'Lake\x9bside', '\ud800']  # refused everywhere
ATTACKS = [*UNSTORABLE, HUGE]
GENERATED = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
FEW = settings(GENERATED, max_examples=15)


def one_line(text: str) -> str:
    return ' '.join(text.split())


async def counts(*models: type) -> tuple[int, ...]:
    return tuple([await model.all().count() for model in models])
