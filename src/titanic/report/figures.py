"""Figures whose caption and alt text are computed: one Markdown output that Quarto numbers.

A cell that displays ``![caption](data:image/png;base64,...){#fig-name fig-alt="..."}`` as
Markdown gets, from Quarto, a numbered, cross-referenceable figure with that caption and alt
text; the nbconvert backend reads the same output back with :func:`parse_figure_markdown`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

_LABEL = re.compile(r"fig-[A-Za-z0-9_-]+")
_FIGURE = re.compile(
    r"!\[(?P<caption>(?:[^\\\[\]]|\\.)*)\]"
    r"\(data:image/png;base64,(?P<png>[A-Za-z0-9+/=]+)\)"
    r'\{#(?P<label>fig-[A-Za-z0-9_-]+) fig-alt="(?P<alt>(?:[^"\\]|\\.)*)"\}',
    re.DOTALL,
)
_BACKSLASH_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class ComputedFigure:
    """A figure read back from its Markdown: label, caption (Markdown), alt text, PNG."""

    label: str
    caption: str
    alt: str
    png_base64: str


def _one_line(text: str) -> str:
    """Collapse line breaks and runs of spaces: a blank line would end the figure."""
    return " ".join(text.split())


def _caption_markdown(caption: str) -> str:
    """Escape the brackets of a caption that are not escaped already, so that it stays in [...]."""
    escaped = re.sub(r"\\.|[\[\]]", lambda match: "\\" * (len(match[0]) == 1) + match[0], caption)
    trailing = len(escaped) - len(escaped.rstrip("\\"))
    return escaped + "\\" * (trailing % 2)


def figure_markdown(png: bytes, label: str, caption: str, alt: str) -> str:
    r"""Return the Markdown of a numbered figure with a computed caption and alt text.

    Display it as Markdown from a cell without a ``label`` option
    (``IPython.display.Markdown``): Quarto and the nbconvert backend both number it, caption
    it and resolve ``@<label>`` cross-references to it.

    Parameters
    ----------
    png : bytes
        The image, PNG.
    label : str
        ``fig-<name>``, as cited in the prose (``@fig-<name>``).
    caption : str
        The caption, Markdown (emphasis, ``@tbl-...`` cross-references); one line.
    alt : str
        The alt text, plain text.

    Returns
    -------
    str
        ``![<caption>](data:image/png;base64,<png>){#<label> fig-alt="<alt>"}``, with the
        caption's unescaped brackets and the alt text's ``"`` and ``\`` escaped by a backslash.

    Raises
    ------
    ValueError
        When ``label`` is not ``fig-`` followed by letters, digits, ``-`` or ``_``.
    """
    if not _LABEL.fullmatch(label):
        raise ValueError(f"a figure label is fig-<name> (letters, digits, - or _), got {label!r}")
    encoded = base64.b64encode(png).decode("ascii")
    alt_text = re.sub(r'(["\\])', r"\\\1", _one_line(alt))
    return (
        f"![{_caption_markdown(_one_line(caption))}](data:image/png;base64,{encoded})"
        f'{{#{label} fig-alt="{alt_text}"}}'
    )


def parse_figure_markdown(markdown: str) -> ComputedFigure | None:
    """Return the figure that ``markdown`` (all of it) describes, or None if it is no figure.

    The inverse of :func:`figure_markdown`: the alt text's backslash escapes are undone; the
    caption stays Markdown.
    """
    match = _FIGURE.fullmatch(markdown.strip())
    if match is None:
        return None
    return ComputedFigure(
        label=match["label"],
        caption=match["caption"],
        alt=_BACKSLASH_ESCAPE.sub(r"\1", match["alt"]),
        png_base64=match["png"],
    )
