"""Is a rendered document inert? Checks the parsed markup, not the text, for anything that runs."""

from __future__ import annotations

from html.parser import HTMLParser

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "srcset", "data", "xlink:href"}
ACTIVE_TAGS = {"iframe", "object", "embed", "frame", "frameset", "applet", "base"}
# Script elements browsers never execute: data blocks (DRF's CSRF settings, JSON-LD).
DATA_BLOCKS = {"application/json", "application/ld+json"}
SAFE_SCHEMES = ("http://", "https://", "mailto:", "/", "#", "?")


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in URL_ATTRIBUTES and value:
                squashed = "".join(value.split()).lower()
                relative = ":" not in squashed.split("/", 1)[0] and not squashed.startswith("//")
                if not (squashed.startswith(SAFE_SCHEMES) or relative):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}>")
            if name == "style" and "url(" in (value or "").lower():
                self.problems.append(f"<{tag} style> loads a URL")
        if tag == "script" and (dict(attrs).get("type") or "").lower() not in DATA_BLOCKS:
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script src={src[:40]!r}> not the site's own")
            self._in_script = True
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data.strip()[:40]!r}")


def inert_problems(html: str) -> list[str]:
    """What in ``html`` could run script, load another origin or navigate to a script URL."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems
