"""The first paint of a patient page, written by the server before NiceGUI's scripts have loaded.

A NiceGUI page is drawn by Vue in the browser, once Quasar and Vue (about 220 KiB compressed) have loaded
and run: on a slow phone that is two to three seconds of blank screen, and what held the signed-in tabs
under Lighthouse's budget of 95 (issue 11). The patient pages are mostly our own HTML blocks, so the server
also writes the page it has just built as plain HTML, in the page's first response: the phone paints the
patient's records at once, and its links (tabs, View / print, PDF, Log out) already work. When Vue has drawn
the real page, the copy steps aside in the same frame (hidden, so nothing moves) and is removed two frames
later (removing it at once made Chrome forget its paint, and the page's first paint with it).

Only the element kinds the patient pages draw on load are copied (HTML blocks, labels, rows, columns,
cards, buttons, header and footer; form fields and checkboxes drawn empty); dialogs and anything else are
left out and appear when Vue draws the page.
Ids inside the blocks are renamed in the copy, so a `#fragment` link finds the real element.
"""

import re
from html import escape

from nicegui import Client, ui
from nicegui.element import Element
from nicegui.elements.mixins.text_element import TextElement
from nicegui.functions.refreshable import RefreshableContainer

from pages.patient import icons
from pages.theme import add_style

# Hidden (not display:none: that drops the copy's paint from Chrome's records) as soon as #app has content.
CSS = """
#pp-prepaint .q-layout { min-height: 100vh; display: flex; flex-direction: column; }
#pp-prepaint .q-page-container { flex: 1 0 auto; }
#pp-prepaint .pp-field { display: flex; align-items: center; min-height: 56px; padding: 0 12px;
  border: 1px solid rgba(0,0,0,.24); border-radius: 4px; color: rgba(0,0,0,.6); font-size: 1rem; }
#pp-prepaint .pp-field.tall { align-items: flex-start; min-height: 92px; padding-top: 16px; }
#pp-prepaint .pp-hint { padding: 8px 12px 0; font-size: .75rem; color: rgba(0,0,0,.6); }
#pp-prepaint .pp-check { display: flex; align-items: center; gap: 12px; min-height: 44px; }
#pp-prepaint .pp-check::before { content: ''; flex: none; width: 18px; height: 18px; margin: 0 3px;
  border: 2px solid currentColor; border-radius: 2px; }
body:has(#app > *) #pp-prepaint { position: absolute; top: 0; left: 0; width: 100%; height: 0; overflow: hidden;
  visibility: hidden; }
"""
REMOVE_SCRIPT = (
    '<script>new MutationObserver((_, watch) => { if (document.getElementById("app")?.children.length) {'
    ' watch.disconnect(); requestAnimationFrame(() => requestAnimationFrame('
    '() => document.getElementById("pp-prepaint")?.remove())); } })'
    '.observe(document.body, {childList: true, subtree: true});</script>'
)
_ID = re.compile(r'(\s)id="')
_RENAMED_ID = r'\1data-prepaint-id="'
_BUTTON_LOOKS = {'flat': 'q-btn--flat', 'outline': 'q-btn--outline'}
_BUTTON_SIZES = {'xs': '8px', 'sm': '10px', 'md': '14px', 'lg': '20px', 'xl': '24px'}  # Quasar's


def add(client: Client) -> None:
    """Once the page is built: its copy goes into the body, before the element NiceGUI draws into."""
    layout = client.layout
    header = ''.join(_html(child) for child in layout if isinstance(child, ui.header))
    footer = ''.join(_html(child) for child in layout if isinstance(child, ui.footer))
    content = _children(client.content)
    add_style(CSS)
    ui.add_body_html(
        '<div id="pp-prepaint"><div class="q-layout q-layout--standard">'
        f'{header}<div class="q-page-container"><div class="q-page"><div class="nicegui-content">{content}'
        f'</div></div></div>{footer}</div></div>{REMOVE_SCRIPT}'
    )


def _children(element: Element) -> str:
    return ''.join(_html(child) for child in element.default_slot.children)


def _attributes(element: Element, *classes: str, style: dict[str, str] | None = None) -> str:
    names = ' '.join(name for name in (*classes, *element.classes) if name)
    style = '; '.join(f'{key}: {value}' for key, value in {**(style or {}), **element.style}.items())
    return f' class="{escape(names)}"' + (f' style="{escape(style)}"' if style else '')


def _html(element: Element) -> str:
    """The element as the browser will show it once drawn; '' for what the copy leaves out."""
    if not element.visible:
        return ''
    if isinstance(element, RefreshableContainer):
        return _children(element)
    if isinstance(element, ui.html):
        if element.props.get('sanitize'):
            return ''  # sanitized in the browser: never written unsanitized here
        tag = element.props.get('tag') or 'div'
        return f'<{tag}{_attributes(element)}>{_ID.sub(_RENAMED_ID, element.content)}</{tag}>'
    if isinstance(element, ui.button):
        return _button(element)
    if isinstance(element, ui.label) or (type(element) is Element and element.tag == 'div'):
        text = escape(element.text) if isinstance(element, TextElement) else ''
        return f'<div{_attributes(element)}>{text}{_children(element)}</div>'
    if isinstance(element, ui.row):
        return f'<div{_attributes(element, "nicegui-row", "row")}>{_children(element)}</div>'
    if isinstance(element, ui.column):
        return f'<div{_attributes(element, "nicegui-column")}>{_children(element)}</div>'
    if isinstance(element, ui.card):
        looks = [f'q-card--{prop}' for prop in ('flat', 'bordered') if element.props.get(prop)]
        looks += ['no-shadow'] if element.props.get('flat') else []
        return f'<div{_attributes(element, "q-card", *looks)}>{_children(element)}</div>'
    if isinstance(element, ui.input | ui.select):
        return _field(element)
    if isinstance(element, ui.checkbox):
        return f'<div{_attributes(element, "pp-check")}>{escape(element.text)}</div>'
    if isinstance(element, ui.header | ui.footer):
        section = 'q-header' if isinstance(element, ui.header) else 'q-footer'
        return f'<div{_attributes(element, section, "q-layout__section--marginal")}>{_children(element)}</div>'
    return ''  # dialogs, timers, anything else: drawn by Vue


def _field(element: ui.input | ui.select) -> str:
    """An outlined field with its label (and hint), empty: what is typed or chosen starts once it is drawn."""
    tall = ' tall' if isinstance(element, ui.textarea) else ''
    label = escape(str(element.props.get('label') or ''))
    hint = element.props.get('hint')
    hint_html = f'<div class="pp-hint">{escape(str(hint))}</div>' if hint else ''
    return f'<div{_attributes(element)}><div class="pp-field{tall}">{label}</div>{hint_html}</div>'


def _button(element: ui.button) -> str:
    """A Quasar button's look, without its behaviour: it works once the page is drawn, a moment later."""
    props = element.props
    look = next((css for prop, css in _BUTTON_LOOKS.items() if props.get(prop)), 'q-btn--standard')
    color = props.get('color') or 'primary'
    colors = f'text-{color}' if look != 'q-btn--standard' else f'bg-{color} text-white'
    case = 'q-btn--no-uppercase' if props.get('no-caps') else ''
    icon = props.get('icon') or ''
    svg = icons.inline_svg(icon).replace('<svg ', '<svg style="margin-right: 12px; font-size: 1.715em" ', 1)
    label = escape(element.text)
    quasar = ('q-btn q-btn-item non-selectable no-outline', look, 'q-btn--rectangle', colors, case)
    size = _BUTTON_SIZES.get(str(props.get('size')))
    attributes = _attributes(element, *quasar, style={'font-size': size} if size else None)
    return (
        f'<div{attributes}>'
        '<span class="q-btn__content text-center col items-center justify-center row">'
        f'{svg if "|" in icon else ""}<span class="block">{label}</span></span></div>'
    )
