"""Email texts as templates: one `.txt` (subject and plain body) and one `.html` per kind of email.

Adding a kind is adding `templates/email/<kind>.txt` (blocks `subject` and `body`) and `<kind>.html`
(extends `base.html`; set `button_url` and `button_label` for its one large button), then one call:
`await outbox.enqueue_template('<kind>', to=..., purpose=..., patient=..., **context)`.
"""

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / 'templates' / 'email'

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(['html']),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _block(template_name: str, block: str, context: dict) -> str:
    template = _environment.get_template(template_name)
    return ''.join(template.blocks[block](template.new_context(context)))


def render(kind: str, **context: object) -> RenderedEmail:
    """Subject, plain text and HTML of one kind of email, filled in with `context`."""
    context.setdefault('button_url', '')
    context.setdefault('button_label', '')
    context.setdefault('practice_phone_e164', '')
    subject = ' '.join(_block(f'{kind}.txt', 'subject', context).split())
    text = _block(f'{kind}.txt', 'body', context).strip() + '\n'
    html = _environment.get_template(f'{kind}.html').render(subject=subject, **context)
    return RenderedEmail(subject=subject, text=text, html=html)


def html_from_text(subject: str, text: str, practice_name: str = '') -> str:
    """The HTML alternative of an email written as plain text only (its paragraphs, escaped)."""
    paragraphs = [block.splitlines() for block in text.strip().split('\n\n') if block.strip()]
    return _environment.get_template('text_only.html').render(
        subject=subject,
        paragraphs=paragraphs,
        practice_name=practice_name,
        practice_phone='',
        practice_phone_e164='',
        button_url='',
        button_label='',
        show_footer=False,
    )
