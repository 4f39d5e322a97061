"""The documentation: the mkdocs site builds strictly, the settings page covers every setting, no link is broken."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

from agent.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 250
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")


def setting_keys() -> list[str]:
    """Every documented key, `section.key`, as the settings tables name them (a plain mapping is its section)."""
    typed = Settings.sections()
    keys = [f"{section}.{key}" for section, model in typed.items() for key in model.model_fields]
    return keys + [section for section in Settings.model_fields if section not in typed]


def test_the_site_builds_strictly_with_every_setting_on_the_configuration_page(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    page = html.unescape((tmp_path / "configuration" / "index.html").read_text())
    missing = [key for key in setting_keys() if f"<td><code>{key}</code></td>" not in page]
    assert not missing, f"no row for {missing} on the configuration page"


def test_the_readme_is_short_and_no_relative_link_is_broken():
    readme = ROOT / "README.md"
    lines = len(readme.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; the rest belongs in docs/"
    broken = []
    for document in [readme, *sorted((ROOT / "docs").glob("*.md"))]:
        text = _CODE.sub("", _FENCE.sub("", document.read_text()))
        for target in _LINK.findall(text):
            path = target.split("#", 1)[0]
            if not path or re.match(r"^[a-z][a-z0-9+.-]*:", target):  # an anchor on the page, or http:, mailto:
                continue
            if not (document.parent / path).exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, f"links to files that do not exist: {broken}"
