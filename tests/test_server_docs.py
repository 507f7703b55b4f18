"""The backend's API docs (/docs) need no network: every asset the page loads is this app's.

Here through the ASGI app; tests/browser/test_docs_offline.py renders it in chromium with
every request off 127.0.0.1 refused.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process


class _References(HTMLParser):
    """Every URL the page names: src/href attributes, and `url: '...'` in its inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        self.urls += [value for name, value in attrs if name in ("src", "href", "spec-url")
                      and value]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append(data)
            self.urls += re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", data)


def references(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png",
                 ".json": "application/json"}


@pytest.mark.anyio
async def test_docs_page_loads_only_assets_this_app_serves(tmp_path):
    page = "/docs"
    # with an API key too: the docs page and its assets are public, like /openapi.json
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", api_key="s3cret")
    async with in_process(settings) as http:
        answer = await http.get(page)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        found = references(answer.text)
        assert found.urls, f"{page} names no assets at all: {answer.text}"
        for url in found.urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{page} loads {url} from elsewhere"
            asset = await http.get(url)
            assert asset.status_code == 200, f"{page} names {url}: {asset.status_code}"
            suffix = parts.path[parts.path.rfind("."):]
            assert CONTENT_TYPES.get(suffix, "") in asset.headers["content-type"], (url, suffix)
            assert len(asset.content) > 100, f"{url} is nearly empty"
        # and the inline script names no other host either (e.g. Swagger UI's validator)
        for script in found.scripts:
            assert not re.search(r"https?://", script), script


@pytest.mark.anyio
async def test_swagger_ui_gets_the_bundle_and_turns_the_validator_badge_off(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/b.db")) as http:
        html = (await http.get("/docs")).text
        scripts = [u for u in references(html).urls if u.endswith(".js")]
        bundle = (await http.get(scripts[0])).text
    assert "SwaggerUIBundle" in bundle  # the real Swagger UI, not a stub
    # Swagger UI otherwise loads a badge from validator.swagger.io for non-local servers
    assert '"validatorUrl": null' in html


@pytest.mark.anyio
async def test_there_is_no_redoc_page(tmp_path):
    # ReDoc's bundle fetches its logo from a CDN whatever it is told, so it is not served
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/b.db")) as http:
        assert (await http.get("/redoc")).status_code == 404
