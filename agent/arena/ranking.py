"""The leaderboard: each user's best scored submission, ranked by the competition's metric.

Before the deadline it ranks public scores; after it, private scores (Kaggle's reveal), counting only
submissions made before the deadline. Ties go to the earlier submission.
"""

from __future__ import annotations

from typing import Any

from agent.arena.catalog import ArenaCompetition
from agent.arena.store import COMPLETE, Store, iso, now
from agent.competition.metrics import get_metric


def leaderboard(store: Store, competition: ArenaCompetition, private: bool | None = None) -> list[dict[str, Any]]:
    """Rows {user_id, user, ref, date, score}, best first; `private` defaults to "has the deadline passed"."""
    private = competition.closed(now()) if private is None else private
    column = "private_score" if private else "public_score"
    greater = get_metric(competition.evaluation_metric).greater_is_better
    cutoff = iso(competition.deadline) if competition.deadline else None
    best: dict[int, dict[str, Any]] = {}
    for row in store.submissions(competition.slug, status=COMPLETE):
        score = row[column]
        if score is None or (cutoff and row["date"] > cutoff):
            continue
        held = best.get(row["user_id"])
        better = held is None or (score > held["score"] if greater else score < held["score"]) or (
            score == held["score"] and row["date"] < held["date"])
        if better:
            best[row["user_id"]] = {"user_id": row["user_id"], "user": row["user"], "ref": row["ref"],
                                    "date": row["date"], "score": score}
    return sorted(best.values(), key=lambda r: (-r["score"] if greater else r["score"], r["date"]))
