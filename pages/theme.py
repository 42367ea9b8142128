"""Look shared by both trees, without the Tailwind browser runtime.

`ui.run(tailwind=False)` drops the largest script of a NiceGUI first load (the Lighthouse budget of
the patient pages needs that); Quasar's classes cover most layout, and the few Tailwind-style utility
classes the pages use are defined here instead, with the same meaning.
"""

from nicegui import ui

# Darker than NiceGUI's default blue: white text on it and it on white both pass WCAG AA (about 6.9:1).
PRIMARY = '#1d5c99'
# Quasar's green (#21ba45) reaches only 2.56:1 with white; this one 5.4:1, for badges and 'Active' text alike.
POSITIVE = '#1b7a36'

UTILITY_CSS = f"""
.w-full {{ width: 100%; }}
.mx-auto {{ margin-left: auto; margin-right: auto; }}
.max-w-md {{ max-width: 28rem; }}
.max-w-2xl {{ max-width: 42rem; }}
.max-w-3xl {{ max-width: 48rem; }}
.max-w-6xl {{ max-width: 72rem; }}
.gap-0 {{ gap: 0; }}
.gap-1 {{ gap: 0.25rem; }}
.gap-2 {{ gap: 0.5rem; }}
.gap-3 {{ gap: 0.75rem; }}
.gap-4 {{ gap: 1rem; }}
.gap-x-4 {{ column-gap: 1rem; }}
.gap-y-1 {{ row-gap: 0.25rem; }}
.no-underline {{ text-decoration: none; }}
.sr-only {{ position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border-width: 0; }}
a {{ color: {PRIMARY}; }}
body {{ --q-primary: {PRIMARY}; --q-positive: {POSITIVE}; }}
"""


def add_style(css: str) -> None:
    """CSS in the page's first HTML. `ui.add_css` adds it from a script once NiceGUI's scripts have run, too
    late for the patient pages' first paint (`pages.patient.prepaint`)."""
    ui.add_head_html(f'<style>{css}</style>')


def apply_theme() -> None:
    """Called by each tree's frame, once per page."""
    ui.colors(primary=PRIMARY, positive=POSITIVE)
    add_style(UTILITY_CSS)
