"""The arena's answers to the kaggle client's RPCs: `POST /v1/<service>/<Method>` with camelCase JSON.

Field names, enum spellings (`"COMPLETE"`) and dates (`2026-01-02T03:04:05.000Z`) follow kagglesdk 0.1.38's
types (kagglesdk/competitions/types/competition_api_service.py). Errors are `ApiError(status, message)`,
sent as Kaggle does: `{"code": 403, "message": "..."}`.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agent.arena.catalog import ArenaCompetition, Catalog
from agent.arena.ranking import leaderboard
from agent.arena.store import LimitReached, Store, User, iso, now

RULES_MESSAGE = "You must accept this competition's rules before you'll be able to download files."
SUBMIT_RULES_MESSAGE = "You must accept this competition's rules before you'll be able to submit."
LINK_SECONDS = 3600
MAX_PAGE = 100


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass(frozen=True)
class FileBody:
    data: bytes
    name: str
    content_type: str = "application/zip"


@dataclass
class Call:
    """One RPC: who is calling (None before authentication), what they sent, and the arena's own address."""

    user: User | None
    body: dict[str, Any]
    base_url: str


class ArenaApi:
    """RPC name -> handler. Handlers never see a path a user sent, only names looked up in the catalog."""

    def __init__(self, store: Store, catalog: Catalog, enqueue: Callable[[int], None]):
        self.store = store
        self.catalog = catalog
        self.enqueue = enqueue
        self.handlers: dict[tuple[str, str], Callable[[Call], Any]] = {
            ("competitions.CompetitionApiService", name): getattr(self, name) for name in (
                "ListCompetitions", "ListDataFiles", "DownloadDataFiles", "DownloadDataFile",
                "StartSubmissionUpload", "CreateSubmission", "ListSubmissions", "GetSubmission",
                "GetSubmissionLimits", "GetLeaderboard", "DownloadLeaderboard")
        }
        self.handlers[("security.OAuthService", "IntrospectToken")] = self.IntrospectToken

    # --- helpers ----------------------------------------------------------------------------------

    def _competition(self, call: Call) -> ArenaCompetition:
        slug = str(call.body.get("competitionName") or "").rstrip("/").rsplit("/", 1)[-1]
        competition = self.catalog.get(slug)
        if competition is None:
            raise ApiError(404, f"Competition '{slug}' not found")
        return competition

    def _entered(self, call: Call, competition: ArenaCompetition, message: str = RULES_MESSAGE) -> None:
        if not self.store.has_accepted(call.user, competition.slug):
            raise ApiError(403, message)

    def sign(self, path: str, user: User, base_url: str) -> str:
        expires = int(time.time()) + LINK_SECONDS
        signature = hmac.new(self.store.signing_key(), f"{path}|{expires}|{user.id}".encode(), hashlib.sha256)
        return f"{base_url}{path}?expires={expires}&user={user.id}&signature={signature.hexdigest()}"

    def verify(self, path: str, expires: str, user_id: str, signature: str) -> int | None:
        """The user id a signed link was made for, or None if the link is forged or expired."""
        expected = hmac.new(self.store.signing_key(), f"{path}|{expires}|{user_id}".encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), signature or ""):
            return None
        return int(user_id) if expires.isdigit() and int(expires) >= time.time() else None

    @staticmethod
    def _page(call: Call, items: list) -> tuple[list, str]:
        size = min(MAX_PAGE, max(1, int(call.body.get("pageSize") or 20)))
        token = str(call.body.get("pageToken") or "")
        page = int(call.body.get("page") or 0)
        start = int(token) if token.isdigit() else (page - 1) * size if page > 0 else 0
        end = start + size
        return items[start:end], (str(end) if end < len(items) else "")

    def _competition_json(self, competition: ArenaCompetition, call: Call) -> dict[str, Any]:
        url = f"{call.base_url}/competitions/{competition.slug}"
        standings = leaderboard(self.store, competition)
        rank = next((i + 1 for i, row in enumerate(standings) if row["user"] == call.user.name), None)
        return {
            "id": competition.id, "ref": url, "title": competition.title, "url": url,
            "description": competition.description, "category": competition.category,
            "reward": competition.reward, "deadline": iso(competition.deadline),
            "teamCount": len(standings), "userHasEntered": self.store.has_accepted(call.user, competition.slug),
            "userRank": rank, "maxDailySubmissions": competition.max_daily_submissions,
            "maxTeamSize": competition.max_team_size, "evaluationMetric": competition.evaluation_metric,
            "enabledDate": iso(competition.created), "dateCreated": iso(competition.created),
            "hostName": "podium-arena", "organizationName": "podium arena",
        }

    def _submission_json(self, row: dict[str, Any], competition: ArenaCompetition | None, base_url: str):
        revealed = competition is not None and competition.closed(now())
        return {
            "ref": row["ref"], "totalBytes": row["total_bytes"], "date": row["date"],
            "description": row["description"] or "", "errorDescription": row["error"] or "",
            "fileName": row["file_name"], "status": row["status"],
            "publicScore": _score_text(row["public_score"]),
            "privateScore": _score_text(row["private_score"]) if revealed else "",
            "submittedBy": row["user"], "submittedByRef": row["user"], "teamName": row["user"],
            "url": f"{base_url}/competitions/{row['slug']}/submissions#{row['ref']}",
        }

    # --- RPCs -------------------------------------------------------------------------------------

    def IntrospectToken(self, call: Call) -> dict[str, Any]:
        user = self.store.authenticate(None, str(call.body.get("token") or ""))
        return {"active": True, "username": user.name, "userId": user.id} if user else {"active": False}

    def ListCompetitions(self, call: Call) -> dict[str, Any]:
        search = str(call.body.get("search") or "").lower()
        group = str(call.body.get("group") or "")
        category = str(call.body.get("category") or "").replace("HOST_SEGMENT_", "").replace("_", "").lower()
        found = []
        for competition in self.catalog.all():
            if search and search not in competition.slug.lower() and search not in competition.title.lower():
                continue
            if group.endswith("ENTERED") and not self.store.has_accepted(call.user, competition.slug):
                continue
            if category not in ("", "unspecified") and competition.category.replace(" ", "").lower() != category:
                continue
            found.append(competition)
        page, token = self._page(call, found)
        return {"competitions": [self._competition_json(c, call) for c in page], "nextPageToken": token}

    def ListDataFiles(self, call: Call) -> dict[str, Any]:
        competition = self._competition(call)
        files = [{"ref": name, "name": name, "totalBytes": path.stat().st_size,
                  "creationDate": iso(_mtime(path))} for name, path in competition.public_files().items()]
        page, token = self._page(call, files)
        return {"files": page, "nextPageToken": token}

    def DownloadDataFiles(self, call: Call) -> Redirect:
        competition = self._competition(call)
        self._entered(call, competition)
        return Redirect(self.sign(blob_path("bundle", competition.slug, f"{competition.slug}.zip"), call.user,
                                  call.base_url))

    def DownloadDataFile(self, call: Call) -> Redirect:
        competition = self._competition(call)
        self._entered(call, competition)
        name = str(call.body.get("fileName") or "")
        if name not in competition.public_files():
            raise ApiError(404, f"File '{name}' not found in competition '{competition.slug}'")
        return Redirect(self.sign(blob_path("file", competition.slug, name), call.user, call.base_url))

    def StartSubmissionUpload(self, call: Call) -> dict[str, Any]:
        competition = self._competition(call)
        self._entered(call, competition, SUBMIT_RULES_MESSAGE)
        name = Path(str(call.body.get("fileName") or "submission.csv")).name[:200] or "submission.csv"
        token = self.store.start_upload(call.user, competition.slug, name, int(call.body.get("contentLength") or 0))
        return {"token": token, "createUrl": f"{call.base_url}/uploads/{token}"}

    def CreateSubmission(self, call: Call) -> dict[str, Any]:
        competition = self._competition(call)
        self._entered(call, competition, SUBMIT_RULES_MESSAGE)
        limit = competition.max_daily_submissions
        try:
            ref = self.store.create_submission(call.user, competition.slug, str(call.body.get("blobFileTokens") or ""),
                                               call.body.get("submissionDescription"), limit)
        except KeyError:
            raise ApiError(400, "The upload token is unknown, already used or not finished: upload the file "
                                "first (StartSubmissionUpload, then PUT to its createUrl)") from None
        except LimitReached:
            raise ApiError(400, f"Submission not allowed: your team has used its daily Submission allowance "
                                f"({limit}) today, please try again tomorrow UTC") from None
        self.enqueue(ref)
        return {"message": f"Successfully submitted to {competition.title}", "ref": ref}

    def ListSubmissions(self, call: Call) -> dict[str, Any]:
        competition = self._competition(call)
        rows = self.store.submissions(competition.slug, call.user)
        page, token = self._page(call, rows)
        return {"submissions": [self._submission_json(r, competition, call.base_url) for r in page],
                "nextPageToken": token}

    def GetSubmission(self, call: Call) -> dict[str, Any]:
        row = self.store.submission(int(call.body.get("ref") or 0))
        if row is None or row["user_id"] != call.user.id:  # another user's submission does not exist for you
            raise ApiError(404, f"Submission {call.body.get('ref')} not found")
        return self._submission_json(row, self.catalog.get(row["slug"]), call.base_url)

    def GetSubmissionLimits(self, call: Call) -> dict[str, Any]:
        competition = self._competition(call)
        today, total = self.store.counts(call.user, competition.slug)
        return {"numToday": today, "numTotal": total, "limitedByTotal": False,
                "numAllowedNow": max(0, competition.max_daily_submissions - today)}

    def GetLeaderboard(self, call: Call) -> dict[str, Any]:
        competition = self._competition(call)
        rows = [{"teamId": r["user_id"], "teamName": r["user"], "submissionDate": r["date"],
                 "score": _score_text(r["score"])} for r in leaderboard(self.store, competition)]
        page, token = self._page(call, rows)
        return {"submissions": page, "nextPageToken": token}

    def DownloadLeaderboard(self, call: Call) -> FileBody:
        competition = self._competition(call)
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(["TeamId", "TeamName", "SubmissionDate", "Score"])
        for row in leaderboard(self.store, competition):
            writer.writerow([row["user_id"], row["user"], row["date"], _score_text(row["score"])])
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr(f"{competition.slug}-publicleaderboard.csv", text.getvalue())
        return FileBody(data.getvalue(), f"{competition.slug}.zip")


def blob_path(kind: str, slug: str, name: str) -> str:
    """The path a signed download link points at; signed exactly as the client will send it back."""
    return f"/blobs/{kind}/{quote(slug, safe='')}/{quote(name, safe='')}"


def _score_text(value: float | None) -> str:
    """Scores travel as strings; repr keeps every digit, so the client's float equals the grader's."""
    return "" if value is None else repr(float(value))


def _mtime(path: Path):
    import datetime as dt

    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)
