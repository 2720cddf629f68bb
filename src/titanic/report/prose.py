"""The prose's Pandoc Markdown that nbconvert's Markdown lacks: fenced divs and callouts.

Quarto turns ``::: {.callout-note title="..."}`` ... ``:::`` into a titled box, and any other
fenced div into a ``<div>``. For nbconvert, each fence becomes an HTML block of its own (the
opening and closing tags, between blank lines), so that what lies between stays Markdown and
is rendered as such; no ``:::`` line is left as text.
"""

from __future__ import annotations

import html
import re

from nbconvert.filters.markdown_mistune import markdown2html_mistune

CALLOUT_KINDS = ("note", "tip", "warning", "important", "caution")
_CODE_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_DIV_OPEN = re.compile(r"^:{3,}\s*(?P<attributes>\{[^}]*\}|[A-Za-z][\w-]*)\s*:*\s*$")
_DIV_CLOSE = re.compile(r"^:{3,}\s*$")
_ATTRIBUTE = re.compile(
    r"""#(?P<id>[\w:.-]+)|\.(?P<class>[\w-]+)"""
    r"""|(?P<key>[\w-]+)=(?:"(?P<double>(?:[^"\\]|\\.)*)"|'(?P<single>[^']*)'|(?P<bare>\S+))"""
)


def inline_html(markdown: str) -> str:
    """Render one paragraph of Markdown to HTML without its ``<p>`` wrapper."""
    rendered = markdown2html_mistune(markdown).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        return rendered[len("<p>") : -len("</p>")]
    return rendered


def _attributes(text: str) -> tuple[str, list[str], dict[str, str]]:
    """Parse ``{#id .class key="value"}`` (or a bare class name): id, classes, key-values."""
    if not text.startswith("{"):
        return "", [text], {}
    identifier, classes, values = "", [], {}
    for match in _ATTRIBUTE.finditer(text[1:-1]):
        if match["id"]:
            identifier = match["id"]
        elif match["class"]:
            classes.append(match["class"])
        else:
            quoted = match["double"]
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else None
            values[match["key"]] = next(
                part for part in (value, match["single"], match["bare"]) if part is not None
            )
    return identifier, classes, values


def _opening(attributes: str) -> tuple[list[str], int]:
    """Return the HTML lines that open a fenced div, and how many ``<div>`` they leave open.

    A callout opens its box and its body, with its title (its kind by default) in between.
    """
    identifier, classes, values = _attributes(attributes)
    id_attribute = f' id="{html.escape(identifier)}"' if identifier else ""
    kind = next(
        (name.removeprefix("callout-") for name in classes if name.startswith("callout-")), ""
    )
    if kind not in CALLOUT_KINDS:
        names = html.escape(" ".join(classes))
        return [f'<div class="{names}"{id_attribute}>' if names else f"<div{id_attribute}>"], 1
    title = values.get("title") or kind.capitalize()
    return [
        f'<div class="callout callout-{kind}"{id_attribute}>',
        f'<div class="callout-title">{inline_html(" ".join(title.split()))}</div>',
        '<div class="callout-body">',
    ], 2


def render_fenced_divs(source: str) -> str:
    """Replace the fenced divs of a markdown cell by HTML blocks around their Markdown.

    A div left open at the end of the cell is closed there, and a closing fence without an
    opening one is dropped, so that the page's HTML stays well nested whatever the prose.
    """
    lines: list[str] = []
    closing: list[list[str]] = []
    code_fence = ""
    for line in source.splitlines():
        if code_fence:
            code_fence = "" if line.strip().startswith(code_fence) else code_fence
            lines.append(line)
        elif fence := _CODE_FENCE.match(line):
            code_fence = fence.group(1)
            lines.append(line)
        elif opening := _DIV_OPEN.match(line):
            tags, left_open = _opening(opening["attributes"])
            lines.extend(["", *tags, ""])
            closing.append(["</div>"] * left_open)
        elif _DIV_CLOSE.match(line):
            if closing:
                lines.extend(["", *closing.pop(), ""])
        else:
            lines.append(line)
    while closing:
        lines.extend(["", *closing.pop(), ""])
    return "\n".join(lines)
