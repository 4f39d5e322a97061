"""One way to keep a database password out of everything podium shows or stores.

A URL may carry a password (`postgresql://ana:pw@host/db`); podium never writes it down: the manifest, the logs,
the report, config.yaml and every message carry `redact(url)`, the URL with the password left out (still a URL
that connects when the password comes from PGPASSWORD or ~/.pgpass, as libpq looks for it: `podium run --resume`
reconnects with it). Messages from a driver are passed through `scrub`, which also removes the password itself
wherever it appears.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# scheme://user:password@  ->  scheme://user@   (also `scheme://:password@`)
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s#?]*):[^@/\s#?]*@")
# libpq's key=value form, and a password= query parameter
_KEYWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|[^\s&;]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the password of every URL (and any `password=...`) left out."""
    text = _USERINFO.sub(r"\g<head>@", str(text))
    return _KEYWORD.sub(r"\g<head>***", text)


def password_of(url: str) -> str | None:
    """The password a URL carries, or None."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def scrub(text: str, *urls: str) -> str:
    """`text` (a driver's message, say) redacted, and with the passwords of `urls` removed wherever they appear."""
    text = redact(text)
    for url in urls:
        password = password_of(url)
        if password:
            for form in {password, urlsplit(url).password or ""} - {""}:
                text = text.replace(form, "***")
    return text
