"""The typeface of the practice's PDFs (prescriptions, invoices and receipts), so names print as typed.

PDF's built-in fonts are Latin-1 only: a prescription made out to Dvořák read "Dvo?ák". The PDFs embed
DejaVu Sans instead (fpdf2 keeps only the glyphs a document uses), shipped cut down to the scripts of the
names a practice sees: Latin with all its extensions and Vietnamese, Greek and Cyrillic. A character
outside them prints as "?", never vanishes and never fails the download. Hebrew and Arabic stay out on
purpose: without a text shaper fpdf2 would draw them in reverse, which is worse than a visible "?".
"""

import unicodedata
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF

FAMILY = 'DejaVu'
FONTS = Path(__file__).with_name('fonts')
FILES = {'': 'DejaVuSans.ttf', 'B': 'DejaVuSans-Bold.ttf', 'I': 'DejaVuSans-Oblique.ttf'}
MISSING = '?'


def new_document() -> FPDF:
    """A US Letter document with the family registered in the styles the PDFs use."""
    pdf = FPDF(format='letter')
    for style, name in FILES.items():
        pdf.add_font(FAMILY, style, FONTS / name)
    return pdf


def printable(text: str) -> str:
    """The text as it will print: composed (e + combining accent -> é), each character the font lacks
    as "?". Line breaks and tabs are kept for the layout to handle."""
    covered = _covered()
    return ''.join(
        char if char in covered or char in '\n\t' else MISSING for char in unicodedata.normalize('NFC', text)
    )


@cache
def _covered() -> frozenset[str]:
    """The characters every style of the family can draw."""
    sets = [set(TTFont(FONTS / name)['cmap'].getBestCmap()) for name in FILES.values()]
    return frozenset(chr(code) for code in set.intersection(*sets))
