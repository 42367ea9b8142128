"""Staff passwords, NIST SP 800-63B-4: long, not common, and no composition rules.

One policy for every place a staff password is chosen (`python main.py create-staff`, the set-password
link after an invitation or a reset). A password used as the only factor needs at least 15 characters;
any characters count, spaces included, and nothing demands digits or symbols. It is refused when it is a
known common or breached password (`common_passwords.txt`, shipped with the code, source in its header),
a short run repeated (`aaaaaaaaaaaaaaa`, `passwordpassword`), a keyboard or alphabet sequence
(`123456789012345`, `qwertyuiopasdfgh`), or the member's own email address or name.
"""

import string
from functools import cache
from pathlib import Path

from services.errors import DomainError

MIN_LENGTH = 15  # the password is the only factor
MAX_LENGTH = 128  # argon2 takes any length; this bounds the work one request can ask for
LIST_PATH = Path(__file__).with_name('common_passwords.txt')
SEQUENCES = (
    '01234567890123456789',
    string.ascii_lowercase * 2,
    'qwertyuiopasdfghjklzxcvbnm' * 2,
    '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
    'qazwsxedcrfvtgbyhnujmikolp',
)
GOOD_ONE = 'A few unrelated words with spaces make a good one.'


class PasswordRejected(DomainError):
    pass


@cache
def common_passwords() -> frozenset[str]:
    lines = LIST_PATH.read_text(encoding='utf-8').splitlines()
    return frozenset(_plain(line) for line in lines if line and not line.startswith('#'))


def _plain(text: str) -> str:
    """Case and spaces do not make a common password uncommon."""
    return ''.join(text.casefold().split())


def _period(text: str) -> int:
    """The length of the shortest run that `text` repeats (its own length if it repeats nothing)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return size
    return len(text)


def _is_sequence(text: str) -> bool:
    return any(text in sequence or text in sequence[::-1] for sequence in SEQUENCES)


def _weakness(password: str, email: str, name: str) -> str | None:
    plain = _plain(password)
    common = common_passwords()
    unit = plain[: _period(plain)]
    if plain in common or plain.rstrip(string.digits + string.punctuation) in common:
        return 'It is on a list of common or breached passwords.'
    if len(unit) <= 4 or unit in common:
        return 'It repeats the same few characters or word.'
    if _is_sequence(plain):
        return 'It is a sequence of keys or letters.'
    context = {_plain(email), _plain(email.partition('@')[0]), _plain(name)} - {''}
    if {plain.rstrip(string.digits + string.punctuation), unit} & context:
        return 'It is your email address or name.'
    return None


def check_new_password(password: str, repeated: str | None = None, *, email: str = '', name: str = '') -> str:
    """The password, if it may be chosen; otherwise PasswordRejected saying why and what would do."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f'Choose a password of at least {MIN_LENGTH} characters. {GOOD_ONE}')
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f'Choose a password of at most {MAX_LENGTH} characters.')
    if weakness := _weakness(password, email, name):
        raise PasswordRejected(f'Choose another password. {weakness} {GOOD_ONE}')
    if repeated is not None and repeated != password:
        raise PasswordRejected('The two passwords do not match. Type the same password twice.')
    return password
