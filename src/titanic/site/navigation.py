"""Links between the site's pages: a bar at the top of every report and of the comparison page.

The bar is added to the published copy of a page, when the site is put together: only then is it
known which pages the site holds (a report rendered before its sweep cannot know the comparison
page). Every link is relative, so the site reads the same from a folder, object storage or
GitHub Pages.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Collection

from titanic.errors import OutputError
from titanic.site.contents import COMPARISON, LANDING, REPORT, REPORT_PDF, VARIANTS_DIRNAME

NAV_CLASS = "titanic-site-nav"
NAV_STYLE = (
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "background:#1d2d35;color:#fff;padding:.5rem 1rem;display:flex;gap:1.25rem;flex-wrap:wrap"
)
LINK_STYLE = "color:#fff"
BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
HEAD_TAG = re.compile(rb"<head\b[^>]*>", re.IGNORECASE)
ICON_LINK = re.compile(rb"<link\b[^>]*\brel=[\"']?(?:shortcut )?icon\b", re.IGNORECASE)
# An empty icon: a page without one makes the browser ask the server's root for /favicon.ico,
# outside the site when it lives under a prefix (S3, GitHub Pages' project sites).
EMPTY_ICON = b'<link rel="icon" href="data:,">'


def _targets(page: str) -> list[tuple[str, str]]:
    """Return the (text, site name) of the pages a page's bar links to, before filtering."""
    in_variant = page.startswith(f"{VARIANTS_DIRNAME}/") and page != COMPARISON
    return [
        ("Findings", LANDING),
        ("Default report" if in_variant else "Report", REPORT),
        ("Report (PDF)", REPORT_PDF),
        ("Comparison of variants", COMPARISON),
    ]


def relative_link(page: str, target: str) -> str:
    """Return the relative URL of ``target`` seen from ``page`` (both site names)."""
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def navigation_bar(page: str, site: Collection[str]) -> str:
    """Return the bar for ``page``: links to the site's other main pages that it holds."""
    links = [
        f'<a style="{LINK_STYLE}" href="{html.escape(relative_link(page, target))}">'
        f"{html.escape(text)}</a>"
        for text, target in _targets(page)
        if target in site and target != page
    ]
    return (
        f'<nav class="{NAV_CLASS}" aria-label="Site" style="{NAV_STYLE}">'
        f"<strong>Titanic survival analysis</strong>{''.join(links)}</nav>"
    )


def with_navigation(page: str, content: bytes, site: Collection[str]) -> bytes:
    """Return an HTML page with the site's bar at the top of its body (and an empty icon).

    Raises
    ------
    OutputError
        When the page has no ``<body>`` tag.
    """
    found = BODY_TAG.search(content)
    if found is None:
        raise OutputError(f"{page}: no <body> tag: not an HTML page the site can link", path=page)
    links = navigation_bar(page, site).encode()
    return _with_icon(content[: found.end()] + links + content[found.end() :])


def _with_icon(content: bytes) -> bytes:
    """Give a page without an icon the empty one, so that it asks for no /favicon.ico."""
    head = HEAD_TAG.search(content)
    if head is None or ICON_LINK.search(content):
        return content
    return content[: head.end()] + EMPTY_ICON + content[head.end() :]
