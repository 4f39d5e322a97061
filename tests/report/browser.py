"""Render a report in headless Chromium and read back what the browser made of it.

The page is copied with one inline script added (and the CSP widened for scripts only, so images must
still be data: URIs to load). After the load event the script writes, into the DOM, every image's
decoded size, the page's counts and its visible text; `--dump-dom` prints that DOM.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

MISSING = ("Chromium is not installed, so the report cannot be rendered. `make test` installs it "
           "(apt-get install -y chromium); install it and run the tests again.")
CHECK = """<script>window.addEventListener('load', () => {
  const images = [...document.images].map(i => ({name: i.dataset.name || i.src.slice(0, 40), complete: i.complete,
    width: i.naturalWidth, height: i.naturalHeight}));
  const out = {title: document.title, images, scripts: document.scripts.length,
    sections: [...document.querySelectorAll('section')].map(s => s.id),
    tables: document.querySelectorAll('table').length, text: document.body.innerText};
  const pre = document.createElement('pre'); pre.id = 'podium-check'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});</script>"""
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def chromium_binary() -> str:
    """The Chromium executable; fails the test (never skips it) when there is none."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(MISSING, pytrace=False)


def render(html_file: Path, work: Path, screenshot: bool = False) -> dict[str, Any]:
    """Open `html_file` (via a checked copy) in headless Chromium; return what the check script saw."""
    work.mkdir(parents=True, exist_ok=True)
    page = html_file.read_text()
    assert "default-src 'none';" in page, "the report must carry its Content-Security-Policy"
    page = page.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
    copy = work / "checked.html"
    copy.write_text(page.replace("</body>", CHECK + "</body>", 1))
    command = [chromium_binary(), *FLAGS, f"--user-data-dir={work / 'profile'}"]
    if screenshot:
        command += ["--window-size=1280,2400", f"--screenshot={work / 'shot.png'}"]
    else:
        command += ["--dump-dom"]
    done = subprocess.run([*command, copy.as_uri()], capture_output=True, text=True, timeout=90, cwd=work)
    assert done.returncode == 0, f"Chromium failed ({done.returncode}): {done.stderr[-2000:]}"
    if screenshot:
        return {"screenshot": work / "shot.png"}
    match = re.search(r'<pre id="podium-check">(.*?)</pre>', done.stdout, re.S)
    assert match, f"the check script did not run; Chromium printed: {done.stdout[:500]!r} {done.stderr[-1000:]!r}"
    import html

    return json.loads(html.unescape(match.group(1)))


def assert_images_loaded(seen: dict[str, Any], expected: set[str]) -> None:
    names = {image["name"] for image in seen["images"]}
    assert names == expected, names
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
