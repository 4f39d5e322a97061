"""The arena's pages for people, rendered from the Jinja2 templates in templates/ (shipped as package data).

HTML is autoescaped: titles, rules, user names, file names and submission descriptions come from people and
show as text. Each function gathers what one page shows; site.py maps routes and sessions to them. The .txt
templates are the plain-text pages the arena served before it had HTML (`Accept: text/plain`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from agent.arena.api import blob_path
from agent.arena.catalog import ArenaCompetition
from agent.arena.hosting import Arena
from agent.arena.ranking import leaderboard
from agent.arena.sessions import Session
from agent.arena.store import now
from agent.competition.metrics import get_metric

TABS = (("overview", "Overview", ""), ("data", "Data", "/data"), ("rules", "Rules", "/rules"),
        ("leaderboard", "Leaderboard", "/leaderboard"), ("submissions", "My submissions", "/submissions"))


def _deadline(competition: ArenaCompetition) -> str:
    return competition.deadline.strftime("%Y-%m-%d %H:%M UTC") if competition.deadline else "none"


def _when(value: str | None) -> str:
    """An ISO date from the store (`2026-01-02T03:04:05.000Z`) as people read it."""
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{count:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count:,} bytes"


def _score(value: float) -> str:
    """Five decimals, as Kaggle shows them (the full value rides in the cell's <data value>)."""
    return f"{value:.5f}" if abs(value) < 1e6 else f"{value:.6g}"


def _codes(text: str) -> Markup:
    """A message with `commands` in backticks, escaped first and then shown as code."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("agent.arena", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(codes=_codes, deadline=_deadline, when=_when, size=_size, score=_score,
                       score_text=lambda value: f"{value:.6g}", score_value=lambda value: repr(float(value)))
    return env


ENV = _environment()


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)


def stylesheet() -> str:
    return ENV.loader.get_source(ENV, "arena.css")[0]


def direction(competition: ArenaCompetition) -> str:
    return "higher" if get_metric(competition.evaluation_metric).greater_is_better else "lower"


def index(arena: Arena, viewer: Session, base_url: str, text: bool = False) -> str:
    competitions = arena.catalog.all()
    entrants = {c.slug: arena.store.entrants(c.slug) for c in competitions}
    return render("index.txt" if text else "index.html", competitions=competitions, entrants=entrants,
                  viewer=viewer, base_url=base_url)


def competition_page(arena: Arena, competition: ArenaCompetition, tab: str, viewer: Session, base_url: str,
                     heading: str, **extra: Any) -> str:
    """One tab of a competition's pages: the overview, data, rules, leaderboards and the user's submissions."""
    tabs = [(name, label, f"/competitions/{quote(competition.slug, safe='')}{suffix}") for name, label, suffix in TABS]
    accepted = viewer.user is not None and arena.store.has_accepted(viewer.user, competition.slug)
    return render(f"{tab}.html", c=competition, tab=tab, heading=heading, viewer=viewer, base_url=base_url,
                  tabs=tabs, here=next(href for name, _, href in tabs if name == tab),
                  direction=direction(competition), closed=competition.closed(now()), accepted=accepted,
                  entrants=arena.store.entrants(competition.slug), **extra)


def competition_text(arena: Arena, competition: ArenaCompetition, tab: str) -> str:
    if tab == "leaderboard":
        return render("leaderboard.txt", c=competition, rows=leaderboard(arena.store, competition))
    return render("competition.txt", c=competition)


def overview(arena: Arena, competition: ArenaCompetition, viewer: Session, base_url: str) -> str:
    return competition_page(arena, competition, "overview", viewer, base_url, "Overview")


def rules(arena: Arena, competition: ArenaCompetition, viewer: Session, base_url: str) -> str:
    return competition_page(arena, competition, "rules", viewer, base_url, "Rules")


def data(arena: Arena, competition: ArenaCompetition, viewer: Session, base_url: str) -> str:
    """The public files and their sizes; signed download links for a signed-in user who accepted the rules."""
    user = viewer.user
    entered = user is not None and arena.store.has_accepted(user, competition.slug)
    files = [{"name": name, "size": path.stat().st_size,
              "href": arena.api.sign(blob_path("file", competition.slug, name), user, "") if entered else None}
             for name, path in competition.public_files().items()]
    return competition_page(arena, competition, "data", viewer, base_url, "Data", files=files)


def board(arena: Arena, competition: ArenaCompetition, viewer: Session, base_url: str,
          private: bool = False) -> str:
    """The public leaderboard (private scores once the deadline has passed), or the host's private one."""
    rows = leaderboard(arena.store, competition, private=True if private else None)
    if private:
        heading, caption = "Private leaderboard", "Private leaderboard (the host's view)"
        explanation = ("Each user's best submission ranked by its score on the hidden private part of the test set. "
                       "Participants see these scores only after the deadline.")
    elif competition.closed(now()):
        heading, caption = "Leaderboard", "Final leaderboard (private scores)"
        explanation = ("The deadline has passed: each user's best submission made before it, ranked by its private "
                       "score.")
    else:
        heading, caption = "Leaderboard", "Public leaderboard"
        explanation = ("Each user's best submission ranked by its public score (a part of the test set); the "
                       "private part decides after the deadline. Ties go to the earlier submission.")
    return competition_page(arena, competition, "leaderboard", viewer, base_url, heading, rows=rows,
                            private=private, caption=caption, explanation=explanation)


def submissions(arena: Arena, competition: ArenaCompetition, viewer: Session, base_url: str) -> str:
    """The signed-in user's own submissions (never anyone else's): status, scores, errors."""
    rows = arena.store.submissions(competition.slug, viewer.user)
    today, total = arena.store.counts(viewer.user, competition.slug)
    return competition_page(arena, competition, "submissions", viewer, base_url, "My submissions", rows=rows,
                            today=today, total=total, revealed=competition.closed(now()))


def signin(viewer: Session, base_url: str, next_path: str, host: bool = False, error: str = "",
           username: str = "") -> str:
    return render("signin.html", viewer=viewer, base_url=base_url, next=next_path, host=host, error=error,
                  username=username, action="/host" if host else "/signin",
                  heading="Sign in as the host" if host else "Sign in")


def error(viewer: Session, base_url: str, heading: str, message: str, fix: str = "",
          link: tuple[str, str] | None = None) -> str:
    return render("error.html", viewer=viewer, base_url=base_url, heading=heading, message=message, fix=fix,
                  link=link)
