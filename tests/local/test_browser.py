"""A real browser: the page from the local website asks the API on another port (CORS)."""

from __future__ import annotations

import pytest

from .conftest import ENDPOINT, api_spec, api_step, site_spec

pytestmark = pytest.mark.browser


def test_page_shows_the_models_answer_from_the_api(chromium, cloud, files):
    client = cloud["client"]
    site = client.put("browser-site", site_spec(files["site"]))
    origin = f"http://127.0.0.1:{site.port}"
    api = client.put(
        "browser-api",
        api_spec(
            # A direct route: API Gateway adds the CORS headers to its answers. A Lambda proxy
            # answer carries only the headers the function returns (no CORS unless it sets them).
            api_step(
                [{"method": "POST", "path": "/predict", "integration": "direct", "endpoint": ENDPOINT}],
                cors={"allow_origins": [origin]},
            ),
            files["root"],
        ),
    )
    api_url = f"http://127.0.0.1:{api.port}/prod"
    client.put("browser-site", site_spec(files["site"], config={"apiUrl": api_url}))
    try:
        page = chromium.new_page()
        failed = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(origin + "/", wait_until="load")
        page.fill("#value", "3")
        page.click("#go")
        page.wait_for_function("document.getElementById('answer').textContent !== ''", timeout=20000)
        assert page.text_content("#answer") == "class 1"
        page.fill("#value", "0")
        page.click("#go")
        page.wait_for_function("document.getElementById('answer').textContent === 'class 0'", timeout=20000)
        assert failed == []
    finally:
        client.delete("apis", "browser-api")
        client.delete("websites", "browser-site")
