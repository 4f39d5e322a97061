"""Plain-text pages for people: the arena's index, a competition's overview, rules and leaderboard."""

from __future__ import annotations

import re

from agent.arena.ranking import leaderboard

_PAGE = re.compile(r"^/competitions/([^/]+)(?:/(rules|leaderboard|data|submissions))?/?$")


def page_for(arena, path: str, base_url: str) -> str | None:
    """The text for `path`, or None (404)."""
    if path in ("", "/"):
        lines = ["podium arena: Kaggle-compatible competitions", ""]
        for competition in arena.catalog.all():
            lines.append(f"{competition.slug:30s} {competition.title} ({competition.evaluation_metric})")
        lines += ["", f"Point the kaggle client here: podium run SLUG --kaggle-endpoint {base_url}"]
        return "\n".join(lines) + "\n"
    match = _PAGE.match(path)
    competition = arena.catalog.get(match.group(1)) if match else None
    if competition is None:
        return None
    section = match.group(2) or "overview"
    if section == "leaderboard":
        rows = leaderboard(arena.store, competition)
        lines = [f"{competition.title}: leaderboard ({competition.evaluation_metric})", ""]
        lines += [f"{i:4d}  {r['user']:24s} {r['score']:.6g}  {r['date']}" for i, r in enumerate(rows, 1)]
        return "\n".join(lines or ["no scored submissions yet"]) + "\n"
    deadline = competition.deadline.strftime("%Y-%m-%d %H:%M UTC") if competition.deadline else "none"
    lines = [competition.title, "=" * len(competition.title), "",
             f"Metric: {competition.evaluation_metric}   Deadline: {deadline}   "
             f"Daily submissions: {competition.max_daily_submissions}", "",
             "Rules", "-----", competition.rules or "(none given)", "",
             "To take part, the arena's host accepts the rules for you:",
             f"    podium arena accept-rules {competition.slug} --user YOUR_NAME --competitions DIR"]
    if competition.description:
        lines[3:3] = [competition.description, ""]
    return "\n".join(lines) + "\n"
