"""Verification codes: at least 96 bits, letters without look-alikes, forgiving of how people type them."""

from hypothesis import given
from hypothesis import strategies as st

from services import verification_codes as codes


def test_a_code_carries_at_least_96_bits_of_randomness():
    assert codes.bits_of_randomness() >= 96
    assert len({codes.new_code() for _ in range(2000)}) == 2000


def test_codes_use_no_look_alike_characters():
    for look_alike in 'B8IL1O0S5Z2':
        assert look_alike not in codes.ALPHABET
    assert set(''.join(codes.new_code() for _ in range(200))) <= set(codes.ALPHABET)


def test_the_printed_form_is_groups_of_four_and_reads_back():
    code = codes.new_code()
    printed = codes.display(code)
    assert [len(group) for group in printed.split('-')] == [4] * 6
    assert codes.normalized(printed) == code
    assert codes.normalized(f'  {printed.lower().replace("-", " ")} ') == code


def test_something_that_cannot_be_a_code_is_refused_without_a_lookup():
    assert codes.normalized('') is None
    assert codes.normalized('ACDE') is None
    assert codes.normalized('O' * codes.LENGTH) is None  # a letter outside the alphabet


@given(st.text(max_size=200))
def test_any_typed_text_normalises_to_a_valid_code_or_none(typed: str):
    result = codes.normalized(typed)
    assert result is None or (len(result) == codes.LENGTH and set(result) <= set(codes.ALPHABET))
