"""Money at the edges: integer cents inside, dollars only when read or typed by a person."""

from decimal import Decimal, InvalidOperation

from services.typed_text import quoted

MAX_TYPED = 30  # more characters than any amount a practice bills, written out with its commas


class InvalidAmount(ValueError):
    """The typed text is not an amount of dollars and cents."""


def format_money(cents: int) -> str:
    """$1,234.56 (and -$5.00 for a credit): Decimal only here, at the edge, never for arithmetic."""
    amount = Decimal(abs(cents)) / 100
    return f'{"-" if cents < 0 else ""}${amount:,.2f}'


def parse_money(text: str | float | int | None) -> int:
    """'1,234.50', '$12' or 12.5 typed into a form, as cents; more than two decimals is refused, not rounded."""
    raw = str(text if text is not None else '').strip().replace(',', '').replace('$', '').strip()
    if not raw:
        return 0
    refusal = InvalidAmount(f'{quoted(str(text))} is not an amount in dollars and cents.')
    if len(raw) > MAX_TYPED:
        raise refusal
    try:
        amount = Decimal(raw)
        # quantize itself refuses ('1e30' has more digits than the context holds)
        if not amount.is_finite() or amount != amount.quantize(Decimal('0.01')):
            raise refusal
    except InvalidOperation:
        raise refusal from None
    return int(amount * 100)
