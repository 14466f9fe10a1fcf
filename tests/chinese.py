"""Finding English in pages meant for Chinese users, and crawling the site as one user.

`english_words(html)` returns the Latin-letter words a person would read on the page (text and the
attributes that are shown: title, placeholder, alt, aria-label, button values) that are neither proper
nouns or technical tokens from the allow-list, nor data (codes, usernames: `data_words`), nor inside an
element marked `translate="no"` (a formula shown to staff next to its labels). For enterprise users
`strict=True` also reads `translate="no"` parts: enterprises never see internal codes or raw formulas.

`crawl(client, …)` follows same-origin links (GET only) from the start pages, one page per URL shape
(digits and query values do not make a new shape), skipping sign-out, downloads and the API.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlsplit

# Proper nouns, file formats and technical tokens a Chinese page may show as they are.
ALLOWED = frozenset("""
    qifu API HTMX Excel Word USCC AB YAML CSV PDF JSON OpenAPI Swagger Open311 GeoReport Django ECharts
    GB GBK UTF Bearer ID OK HTTP HTTPS URL SMS English LDAP Control Command Mac APP AI VR
    xlsx xls docx doc csv yaml yml pdf jpg jpeg png gif webp ppt pptx txt zip
    Ukey GMP GLP CRO CMO CSO CDE BD
""".split())
# The language switch names the other language in that language.
ALLOWED_PHRASES = ("English",)
# Django's admin hard-codes these as icons' alt text (boolean columns, the search box).
ADMIN_ALLOWED = frozenset({"True", "False", "Search"})
# The rules language's keywords and functions, shown to staff in examples and syntax help on admin pages.
RULE_WORDS = frozenset("""all any not field op value expr has_tag prefix between in not_in min max round floor ceil
    abs years_since bracket holiday workday""".split())

_SKIP_CONTENT = {"script", "style", "textarea"}  # a textarea holds the data being edited
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_SHOWN_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label")
_URL = re.compile(r"(?:https?://|www\.)\S+"  # addresses
                  r"|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"  # e-mail
                  r"|(?<![\w>])/[\w\-./?=&%{}<>:]+"  # paths
                  r"|(?:[\w\-]+/)+[\w\-.]+\.\w{2,5}\b")  # stored file names
# A word starts after anything but an ASCII letter, digit or underscore: "按住Control键" is a word, the
# letters inside a credit code (913301142YNFLDMJXJ) or a stored file name (证明_uzHkzRV.txt) are not.
_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9_'’.\-]*")


class _Visible(HTMLParser):
    def __init__(self, strict: bool):
        super().__init__(convert_charrefs=True)
        self.strict = strict
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden from the check)
        self.parts: list[str] = []

    @property
    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        skip = self.skipping or tag in _SKIP_CONTENT or (not self.strict and a.get("translate") == "no")
        if not skip:
            for name in _SHOWN_ATTRIBUTES:
                if a.get(name):
                    self.parts.append(a[name])
            if tag == "input" and (a.get("type") or "").lower() in ("submit", "button", "reset") and a.get("value"):
                self.parts.append(a["value"])
        if tag not in _VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed <p>, <li>, …
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data)


def visible_text(html: str, strict: bool = False) -> list[str]:
    parser = _Visible(strict)
    parser.feed(html)
    parser.close()
    return [" ".join(p.split()) for p in parser.parts]


def _is_json(text: str) -> bool:
    return (text[:1], text[-1:]) in (("{", "}"), ("[", "]"))


def english_words(html: str, *, data_words=frozenset(), strict: bool = False) -> list[tuple[str, str]]:
    """(word, the text it stands in) for every untranslated English word a person would read.
    JSON shown as it is stored (an audit entry's data) counts as data."""
    found = []
    for text in visible_text(html, strict):
        if _is_json(text):
            continue
        for phrase in ALLOWED_PHRASES:
            text = text.replace(phrase, " ")
        cleaned = _URL.sub(" ", text)
        for match in _WORD.finditer(cleaned):
            word = match.group().rstrip(".-'’")
            if len(word) < 2 or any(c.isdigit() for c in word) or word in ALLOWED or word in data_words:
                continue
            if "_" not in word and all(p in ALLOWED or p in data_words or len(p) < 2 for p in re.split(r"[.\-'’]", word)):
                continue
            found.append((word, text[:160]))
    return found


# --- crawling ------------------------------------------------------------------------------------------

SKIP_PREFIXES = ("/logout/", "/admin/logout/", "/i18n/", "/static/", "/media/", "/api/", "/open311/",
                 "/admin/jsi18n/", "/admin/r/", "/admin/autocomplete/")
SKIP_PATTERNS = re.compile(r"\.(xlsx|docx|yaml|csv|pdf|json)$|/attachments/\d+/|/materials/\d+/|/history/$|/delete/$"
                           r"|/password/$|^/admin/.+/add/$")  # an add form shows the fields of the change form
SKIP_QUERY = ("_popup=", "_changelist_filters=", "_to_field=")  # the admin's pop-ups: pages seen already


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href") and "download" not in a:
            self.links.append(a["href"])


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def shape(url: str) -> str:
    """/appeals/12/?page=2&status=x → /appeals/N/?page&status: one visit per shape."""
    parts = urlsplit(url)
    keys = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


@dataclass
class Visit:
    url: str
    status: int
    referrer: str = ""
    english: list[tuple[str, str]] = field(default_factory=list)


def crawl(client, start: list[str], *, data_words=frozenset(), admin_words=frozenset(), strict=False,
          max_pages=150) -> list[Visit]:
    """`admin_words`: further data the admin shows (every code, the catalog's field codes)."""
    queue, shapes, visits = deque((url, "") for url in start), set(), []
    while queue and len(visits) < max_pages:
        url, referrer = queue.popleft()
        url = urldefrag(url)[0]
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue  # other sites, mailto:, javascript:, relative oddities
        if (parts.path.startswith(SKIP_PREFIXES) or SKIP_PATTERNS.search(parts.path) or shape(url) in shapes
                or any(q in parts.query for q in SKIP_QUERY)):
            continue
        shapes.add(shape(url))
        response = client.get(url)
        visit = Visit(url, response.status_code, referrer)
        visits.append(visit)
        if response.status_code in (301, 302) and response.get("Location", "").startswith("/"):
            queue.append((response["Location"], url))
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        words = data_words | admin_words | ADMIN_ALLOWED | RULE_WORDS if url.startswith("/admin/") else data_words
        visit.english = english_words(html, data_words=words, strict=strict)
        queue.extend((link, url) for link in links(html))
    return visits
