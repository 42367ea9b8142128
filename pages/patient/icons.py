"""The few icons of the patient pages as SVG paths (Material Design icons, Apache 2.0).

Quasar draws a `path|viewBox` icon name as inline SVG, so these pages never download the 126 KiB
Material Icons font just for five glyphs: that font was most of the dashboard's first-load weight.
"""

VIEWBOX = '|0 0 24 24'

VISIBILITY = (
    'M12 4.5C7 4.5 2.73 7.61 1 12c1.73 4.39 6 7.5 11 7.5s9.27-3.11 11-7.5c-1.73-4.39-6-7.5-11-7.5zM12 17c-2.76 '
    '0-5-2.24-5-5s2.24-5 5-5 5 2.24 5 5-2.24 5-5 5zm0-8c-1.66 0-3 1.34-3 3s1.34 3 3 3 3-1.34 3-3-1.34-3-3-3z' + VIEWBOX
)
EVENT = (
    'M17 12h-5v5h5v-5zM16 1v2H8V1H6v2H5c-1.11 0-1.99.9-1.99 2L3 19c0 1.1.89 2 2 2h14c1.1 0 2-.9 2-2V5c0-1.1-.9-2-2-2h'
    '-1V1h-2zm3 18H5V8h14v11z' + VIEWBOX
)
RECEIPT = (
    'M18 17H6v-2h12v2zm0-4H6v-2h12v2zm0-4H6V7h12v2zM3 22l1.5-1.5L6 22l1.5-1.5L9 22l1.5-1.5L12 22l1.5-1.5L15 22l1.5'
    '-1.5L18 22l1.5-1.5L21 22V2l-1.5 1.5L18 2l-1.5 1.5L15 2l-1.5 1.5L12 2l-1.5 1.5L9 2 7.5 3.5 6 2 4.5 3.5 3 2v20z'
    + VIEWBOX
)
PRINT = (
    'M19 8H5c-1.66 0-3 1.34-3 3v6h4v4h12v-4h4v-6c0-1.66-1.34-3-3-3zm-3 11H8v-5h8v5zm3-7c-.55 0-1-.45-1-1s.45-1 1-1 1 '
    '.45 1 1-.45 1-1 1zm-1-9H6v4h12V3z' + VIEWBOX
)
PLACE = (
    'M12 2C8.13 2 5 5.13 5 9c0 5.25 7 13 7 13s7-7.75 7-13c0-3.87-3.13-7-7-7zm0 9.5c-1.38 0-2.5-1.12-2.5-2.5s1.12-2.5 '
    '2.5-2.5 2.5 1.12 2.5 2.5-1.12 2.5-2.5 2.5z' + VIEWBOX
)
DOWNLOAD = 'M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z' + VIEWBOX
SEND = 'M2.01 21L23 12 2.01 3 2 10l15 2-15 2z' + VIEWBOX
# Quasar's selects draw `arrow_drop_down` from the font unless told otherwise (`dropdown-icon`).
ARROW_DROP_DOWN = 'M7 10l5 5 5-5z' + VIEWBOX
SHARE = (
    'M18 16.08c-.76 0-1.44.3-1.96.77L8.91 12.7c.05-.23.09-.46.09-.7s-.04-.47-.09-.7l7.05-4.11c.54.5 1.25.81 '
    '2.04.81 1.66 0 3-1.34 3-3s-1.34-3-3-3-3 1.34-3 3c0 .24.04.47.09.7L8.04 9.81C7.5 9.31 6.79 9 6 9c-1.66 0-3 '
    '1.34-3 3s1.34 3 3 3c.79 0 1.5-.31 2.04-.81l7.12 4.16c-.05.21-.08.43-.08.65 0 1.61 1.31 2.92 2.92 2.92 1.61 '
    '0 2.92-1.31 2.92-2.92s-1.31-2.92-2.92-2.92z' + VIEWBOX
)
ARROW_BACK = 'M20 11H7.83l5.59-5.59L12 4l-8 8 8 8 1.41-1.41L7.83 13H20v-2z' + VIEWBOX
PAYMENT = (
    'M20 4H4c-1.11 0-1.99.89-1.99 2L2 18c0 1.11.89 2 2 2h16c1.11 0 2-.89 2-2V6c0-1.11-.89-2-2-2zm0 14H4v-6h16v6zm0'
    '-10H4V6h16v2z' + VIEWBOX
)
PHONE = (
    'M6.62 10.79c1.44 2.83 3.76 5.14 6.59 6.59l2.2-2.2c.27-.27.67-.36 1.02-.24 1.12.37 2.33.57 3.57.57.55 0 1 .45 1 1'
    'V20'
    'c0 .55-.45 1-1 1-9.39 0-17-7.61-17-17 0-.55.45-1 1-1h3.5c.55 0 1 .45 1 1 0 1.25.2 2.45.57 3.57.11.35.03.74-.25 '
    '1.02l-2.2 2.2z' + VIEWBOX
)


def inline_svg(icon: str) -> str:
    """The same icon as an <svg> element, for pages built as HTML blocks."""
    path, _, viewbox = icon.partition('|')
    return (
        f'<svg class="q-icon" viewBox="{viewbox}" width="1em" height="1em" fill="currentColor" aria-hidden="true" '
        f'focusable="false"><path d="{path}"/></svg>'
    )
