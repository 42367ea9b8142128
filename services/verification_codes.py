"""Verification codes for released prescriptions: long enough that guessing is pointless, short enough to type.

A code is 24 letters from an alphabet without look-alikes (no B/8, I/L/1, O/0, S/5, Z/2), printed in
groups of four: 20**24 is about 2**103.7, above the 96 bits of randomness a bearer code needs. What a
person types is normalised (case, spaces, dashes) before it is compared, so a code read aloud over the
phone or typed from a fax still matches.
"""

import math
import secrets

ALPHABET = 'ACDEFGHJKMNPQRTUVWXY'
LENGTH = 24
GROUP = 4


def bits_of_randomness() -> float:
    """For the test and the docs: the entropy of one code."""
    return LENGTH * math.log2(len(ALPHABET))


def new_code() -> str:
    """A fresh random code in its stored form (no separators)."""
    return ''.join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """The printed form: groups of four letters (ACDE-FGHJ-...)."""
    return '-'.join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalized(typed: str) -> str | None:
    """The stored form of what someone typed, or None when it cannot be a code (then it is 'not found')."""
    letters = ''.join(ch for ch in typed.upper() if not ch.isspace() and ch not in '-_.')
    if len(letters) != LENGTH or any(ch not in ALPHABET for ch in letters):
        return None
    return letters
