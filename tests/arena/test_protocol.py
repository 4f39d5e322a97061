"""The arena speaks the kaggle client's protocol: the real KaggleApi, and raw HTTP for what it hides."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
import zipfile

import pandas as pd
import pytest
import requests

from agent.arena.server import ArenaServer
from agent.errors import RemoteError
from agent.kaggle.client import KaggleRemote, slug_of
from tests.arena.helpers import set_declared

SERVICE = "competitions.CompetitionApiService"


def _rpc(arena, method, body, key, user="alice", prefix="/v1", **options):
    return requests.post(f"{arena.url}{prefix}/{SERVICE}/{method}", json=body, auth=(user, key), timeout=10,
                         **options)


def _wait_scored(remote, ref):
    for _ in range(200):
        submission = remote.submission(ref)
        if submission.status.name != "PENDING":
            return submission
        time.sleep(0.05)
    raise AssertionError("not scored")


def test_list_search_paging_and_fields(arena, alice, settings):
    remote = KaggleRemote(arena.url, settings)
    everything = remote.call("listing", lambda api: api.competitions_list(page_size=100)).competitions
    assert sorted(slug_of(c.ref) for c in everything) == ["deliveries", "hpc-class", "titanic", "titanic-labels"]
    found = remote.call("listing", lambda api: api.competitions_list(search="TITANIC")).competitions
    assert sorted(slug_of(c.ref) for c in found) == ["titanic", "titanic-labels"]
    first = remote.call("listing", lambda api: api.competitions_list(page_size=3))
    assert len(first.competitions) == 3 and first.next_page_token
    rest = remote.call("listing", lambda api: api.competitions_list(page_size=3, page_token=first.next_page_token))
    assert len(rest.competitions) == 1 and not rest.next_page_token
    titanic = remote.competition("titanic")
    assert titanic["evaluation_metric"] == "AUC" and titanic["max_daily_submissions"] == 5
    assert titanic["url"] == f"{arena.url}/competitions/titanic" and titanic["user_has_entered"] is True
    assert dt.datetime.strptime(titanic["deadline"], "%Y-%m-%dT%H:%M:%SZ") > dt.datetime.now()


def test_both_path_prefixes_and_the_download_redirect(arena, alice, competitions):
    for prefix in ("/v1", "/api/v1"):
        response = _rpc(arena, "DownloadDataFiles", {"competitionName": "titanic"}, alice, prefix=prefix,
                        allow_redirects=False)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        assert location.split("?")[0].endswith("/titanic.zip")
    blob = requests.get(location, timeout=10)  # a signed link: no credentials needed, like a cloud blob URL
    assert blob.status_code == 200 and int(blob.headers["Content-Length"]) == len(blob.content)
    dt.datetime.strptime(blob.headers["Last-Modified"], "%a, %d %b %Y %H:%M:%S GMT")
    with zipfile.ZipFile(io.BytesIO(blob.content)) as bundle:
        names = sorted(bundle.namelist())
        assert names == ["sample_submission.csv", "test.csv", "train.csv"]
        assert bundle.read("train.csv") == (competitions / "titanic" / "public" / "train.csv").read_bytes()


def test_files_and_single_file_download(arena, alice, settings, competitions, tmp_path):
    remote = KaggleRemote(arena.url, settings)
    files = remote.call("files", lambda api: api.competition_list_files("titanic")).files
    public = competitions / "titanic" / "public"
    assert {f.name: f.total_bytes for f in files} == {p.name: p.stat().st_size for p in public.iterdir()}
    remote.call("file", lambda api: api.competition_download_file("titanic", "test.csv", path=str(tmp_path),
                                                                  quiet=True))
    assert (tmp_path / "test.csv").read_bytes() == (public / "test.csv").read_bytes()


def test_nothing_outside_public_can_be_reached(arena, alice):
    for name in ("../private/answers.csv", "../competition.yaml", "/etc/passwd", "answers.csv"):
        response = _rpc(arena, "DownloadDataFile", {"competitionName": "titanic", "fileName": name}, alice,
                        allow_redirects=False)
        assert response.status_code == 404, name
    for slug in ("..", ".arena", "titanic/../..", "private", ""):
        response = _rpc(arena, "DownloadDataFiles", {"competitionName": slug}, alice, allow_redirects=False)
        assert response.status_code == 404, slug
    good = _rpc(arena, "DownloadDataFile", {"competitionName": "titanic", "fileName": "test.csv"}, alice,
                allow_redirects=False).headers["Location"]
    forged = good.replace("/test.csv?", "/..%2Fprivate%2Fanswers.csv?")
    assert requests.get(forged, timeout=10).status_code == 403
    assert requests.get(good.replace("signature=", "signature=0"), timeout=10).status_code == 403
    assert requests.get(f"{arena.url}/blobs/file/titanic/..%2F..%2F.arena%2Farena.sqlite3", timeout=10
                        ).status_code == 403
    assert requests.put(f"{arena.url}/uploads/..%2F..%2Fevil", data=b"x", timeout=10).status_code == 404
    assert requests.put(f"{arena.url}/uploads/{'a' * 32}", data=b"x", timeout=10).status_code == 404


def test_401_without_or_with_wrong_credentials(arena, alice):
    anonymous = requests.post(f"{arena.url}/v1/{SERVICE}/ListCompetitions", json={}, timeout=10)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 401
    assert "WWW-Authenticate" in anonymous.headers
    assert _rpc(arena, "ListCompetitions", {}, "0" * 32).status_code == 401
    assert _rpc(arena, "ListCompetitions", {}, alice, user="mallory").status_code == 401
    bearer = requests.post(f"{arena.url}/v1/{SERVICE}/ListCompetitions", json={}, timeout=10,
                           headers={"Authorization": f"Bearer {alice}"})
    assert bearer.status_code == 200


def test_403_before_the_rules_are_accepted_then_allowed(arena, alice):
    key = arena.store.add_user("bob")
    for method in ("DownloadDataFiles", "StartSubmissionUpload"):
        response = _rpc(arena, method, {"competitionName": "titanic"}, key, user="bob", allow_redirects=False)
        assert response.status_code == 403 and "accept this competition's rules" in response.json()["message"]
    assert _rpc(arena, "ListDataFiles", {"competitionName": "titanic"}, key, user="bob").status_code == 200
    arena.store.accept_rules(arena.store.user("bob"), "titanic")
    assert _rpc(arena, "DownloadDataFiles", {"competitionName": "titanic"}, key, user="bob",
                allow_redirects=False).status_code == 302


def test_bad_requests_are_answered_not_crashed(arena, alice):
    assert _rpc(arena, "NoSuchMethod", {}, alice).status_code == 404
    assert requests.post(f"{arena.url}/v1/{SERVICE}/ListCompetitions", data=b"{not json", auth=("alice", alice),
                         timeout=10).status_code == 400
    huge = requests.post(f"{arena.url}/v1/{SERVICE}/ListCompetitions", data=b"x" * (2 << 20),
                         auth=("alice", alice), timeout=10)
    assert huge.status_code == 413
    assert _rpc(arena, "ListCompetitions", {"pageSize": "many"}, alice).status_code == 400


def test_keys_are_stored_hashed(arena, alice):
    raw = b"".join(p.read_bytes() for p in arena.store.state.glob("arena.sqlite3*"))
    assert alice.encode() not in raw
    assert hashlib.sha256(alice.encode()).hexdigest().encode() in raw


def test_leaderboard_view_and_download_rank_best_scores(arena, alice, settings, competitions, tmp_path,
                                                        monkeypatch):
    sample = pd.read_csv(competitions / "titanic" / "public" / "sample_submission.csv")
    answers = pd.read_csv(competitions / "titanic" / "private" / "answers.csv").set_index("id")
    perfect, constant = tmp_path / "perfect.csv", tmp_path / "constant.csv"
    sample.assign(survived=answers.loc[sample["id"], "survived"].to_numpy()).to_csv(perfect, index=False)
    sample.to_csv(constant, index=False)
    alice_remote = KaggleRemote(arena.url, settings)
    _wait_scored(alice_remote, alice_remote.submit(str(constant), "constant", "titanic").ref)
    bob_key = arena.store.add_user("bob")
    arena.store.accept_rules(arena.store.user("bob"), "titanic")
    monkeypatch.setenv("KAGGLE_USERNAME", "bob")
    monkeypatch.setenv("KAGGLE_KEY", bob_key)
    bob_remote = KaggleRemote(arena.url, settings)
    _wait_scored(bob_remote, bob_remote.submit(str(perfect), "perfect", "titanic").ref)
    board = bob_remote.leaderboard("titanic")
    assert [(r.team_name, float(r.score)) for r in board] == [("bob", 1.0), ("alice", 0.5)]
    bob_remote.call("lb", lambda api: api.competition_leaderboard_download("titanic", str(tmp_path / "lb")))
    with zipfile.ZipFile(tmp_path / "lb" / "titanic.zip") as bundle:
        table = pd.read_csv(bundle.open("titanic-publicleaderboard.csv"))
    assert table["TeamName"].tolist() == ["bob", "alice"] and table["Score"].tolist() == [1.0, 0.5]


def test_private_scores_appear_after_the_deadline(arena, alice, settings, competitions, tmp_path):
    remote = KaggleRemote(arena.url, settings)
    path = tmp_path / "constant.csv"
    pd.read_csv(competitions / "titanic" / "public" / "sample_submission.csv").to_csv(path, index=False)
    submission = _wait_scored(remote, remote.submit(str(path), "constant", "titanic").ref)
    assert submission.public_score == "0.5" and submission.private_score in ("", None)
    set_declared(competitions / "titanic", deadline=(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat())
    time.sleep(1.2)
    assert remote.submission(submission.ref).private_score == "0.5"


def test_state_survives_a_restart_and_pending_work_resumes(competitions, alice, arena, settings, tmp_path,
                                                           monkeypatch):
    remote = KaggleRemote(arena.url, settings)
    path = tmp_path / "constant.csv"
    pd.read_csv(competitions / "titanic" / "public" / "sample_submission.csv").to_csv(path, index=False)
    scored = _wait_scored(remote, remote.submit(str(path), "before restart", "titanic").ref)
    arena.stop()

    stopped = ArenaServer(competitions)  # not serving: a submission arrives and stays PENDING
    user = stopped.store.user("alice")
    token = stopped.store.start_upload(user, "titanic", "constant.csv", path.stat().st_size)
    stopped.store.upload_path(token).write_bytes(path.read_bytes())
    stopped.store.complete_upload(token, path.stat().st_size)
    pending = stopped.store.create_submission(user, "titanic", token, "while down", 5)
    stopped.stop()

    with ArenaServer(competitions) as restarted:
        again = KaggleRemote(restarted.url, settings)
        assert again.submission(scored.ref).public_score == scored.public_score
        assert _wait_scored(again, pending).status.name == "COMPLETE"
        assert [float(r.score) for r in again.leaderboard("titanic")] == [0.5]
        monkeypatch.setenv("KAGGLE_KEY", "f" * 32)  # the restarted arena still checks keys
        with pytest.raises(RemoteError, match="rejected the credentials"):
            KaggleRemote(restarted.url, settings).leaderboard("titanic")


def test_deeply_nested_json_is_a_400_not_a_crash(arena, alice):
    body = b"[" * 100_000 + b"]" * 100_000
    response = requests.post(f"{arena.url}/v1/{SERVICE}/ListCompetitions", data=body, auth=("alice", alice),
                             timeout=10, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nests JSON too deeply" in response.json()["message"]


def test_a_chunked_body_is_cut_off_like_a_declared_one(arena, alice):
    from agent.arena.server import DRAIN_FACTOR, MAX_JSON_BYTES

    sent = []

    def endless():
        for _ in range(4 * DRAIN_FACTOR):
            sent.append(1)
            yield b" " * MAX_JSON_BYTES

    try:  # requests sends a generator chunked; the arena answers 413 and hangs up once past the cut-off
        response = requests.post(f"{arena.url}/v1/{SERVICE}/ListCompetitions", data=endless(),
                                 auth=("alice", alice), timeout=30)
        assert response.status_code == 413
    except requests.ConnectionError:
        pass
    assert len(sent) < 2 * DRAIN_FACTOR  # read up to the cut-off (plus socket buffers), not the whole body


def test_a_chunk_size_beyond_memory_is_not_allocated(arena, alice):
    answer = _half_closed(arena, alice, "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\n{}",
                          lambda conn: conn.recv(4096))
    status = int(answer.split()[1])
    assert 400 <= status < 500, answer


def test_uploads_never_used_expire_with_their_files(arena, alice):
    started = _rpc(arena, "StartSubmissionUpload", {"competitionName": "titanic", "fileName": "s.csv"}, alice)
    token = started.json()["token"]
    assert requests.put(started.json()["createUrl"], data=b"PassengerId,Survived\n1,0\n", timeout=10).ok
    path = arena.store.upload_path(token)
    assert path.is_file()
    assert arena.store.expire_uploads(older_than=dt.timedelta(hours=1)) == 0  # a fresh upload is kept
    assert arena.store.expire_uploads(older_than=dt.timedelta(0)) == 1
    assert not path.exists() and arena.store.upload(token) is None
    late = _rpc(arena, "CreateSubmission", {"competitionName": "titanic", "blobFileTokens": token}, alice)
    assert late.status_code == 400 and "unknown, already used" in late.json()["message"]


def test_a_body_shorter_than_declared_is_a_400_even_when_the_client_half_closes(arena, alice):
    answer = _half_closed(arena, alice, "Content-Length: 100\r\n\r\n{}", lambda conn: conn.makefile("rb").read())
    assert answer.startswith("HTTP/1.1 400 ") and "ended 98 bytes before its declared length" in answer
    # a whole request, then the half-close
    answer = _half_closed(arena, alice, "Content-Length: 2\r\n\r\n{}", lambda conn: conn.makefile("rb").read())
    assert answer.startswith("HTTP/1.1 200 ") and '"competitions"' in answer


def test_a_request_head_over_the_limits_gets_431(arena):
    from urllib.parse import urlsplit

    from tests.services.serve.test_http import MANY_HEADERS, huge_header, send_head

    address = (urlsplit(arena.url).hostname, urlsplit(arena.url).port)
    for head, message in ((huge_header(100 << 20), b"larger than 65,536 bytes"), (MANY_HEADERS, b"more than 100")):
        answer = send_head(address, head)
        assert answer.split(b"\r\n")[0] == b"HTTP/1.1 431 Request Header Fields Too Large", answer[:300]
        assert message in answer
    assert requests.get(f"{arena.url}/", timeout=10).status_code < 500  # the arena goes on serving


def _half_closed(arena, key: str, rest: str, read) -> str:
    """A ListCompetitions request as raw bytes, `rest` its last headers and body, the client's side then
    closed; what `read` gets of the answer."""
    import base64
    import socket

    host, port = arena.url.removeprefix("http://").split(":")
    auth = base64.b64encode(f"alice:{key}".encode()).decode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /v1/{SERVICE}/ListCompetitions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}"
                     f"\r\n{rest}".encode())
        conn.shutdown(socket.SHUT_WR)
        return read(conn).decode()
