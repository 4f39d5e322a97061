"""The arena's pages in headless Chromium (Playwright driving Debian's Chromium), against a real arena.

One arena for the module: three users whose submissions went through the protocol and were scored by the
grader, a host key, and a competition whose title and rules are markup. One browser for the module; each test
opens its own context, so no cookie leaks from one test into the next.
"""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass

import pandas as pd
import pytest
import requests
from PIL import Image

from agent.arena.ranking import leaderboard
from agent.arena.server import ArenaServer
from agent.competition.metrics import get_metric
from tests.arena.helpers import set_declared
from tests.arena.showcase import chromium, populate, predictions

MARKUP_TITLE = "<script>alert('title')</script> & <b>bold</b> Titanic"
MARKUP_RULES = "<img src=x onerror=alert(1)> Be kind."
MARKUP_NOTE = "<i>tuned</i> <script>alert('note')</script>"


@dataclass
class Site:
    server: ArenaServer
    keys: dict[str, str]
    host_key: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def site(arena_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("pages") / "competitions"
    shutil.copytree(arena_template, root)
    shutil.copytree(root / "titanic", root / "markup")
    set_declared(root / "markup", title=MARKUP_TITLE, rules=MARKUP_RULES)
    titanic, deliveries = root / "titanic", root / "deliveries"
    short = pd.read_csv(titanic / "public" / "sample_submission.csv").iloc[:-2]
    server = ArenaServer(root).start()
    try:
        keys = populate(server, {
            "alice": [("titanic", predictions(titanic, 0.6, 1), "first try"),
                      ("titanic", predictions(titanic, 0.9, 2), MARKUP_NOTE),
                      ("titanic", short, "two rows short"),
                      ("deliveries", predictions(deliveries, 0.9, 3), "gbm"),
                      ("markup", predictions(titanic, 0.5, 4), "plain")],
            "bob": [("titanic", predictions(titanic, 1.0, 5), "bob's perfect one"),
                    ("deliveries", predictions(deliveries, 0.5, 6), "bob's rough one")],
            "carol": [("titanic", predictions(titanic, 0.3, 7), "carol's weak one"),
                      ("deliveries", predictions(deliveries, 0.95, 8), "carol's best")],
        })
        yield Site(server, keys, server.store.new_host_key())
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    yield context.new_page()
    context.close()


def assert_not_blank(png: bytes) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 30, f"the screenshot has {len(colours)} colours: blank or nearly"
    assert max(count for count, _ in colours) < 0.98 * image.width * image.height


def sign_in(page, url: str, name: str, key: str, start: str = "/signin"):
    page.goto(url + start)
    page.get_by_label("User name").fill(name)
    page.get_by_label("API key").fill(key)
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return answer.value


def board_rows(page) -> list[tuple[int, str, float]]:
    rows = []
    for row in page.locator("table.board tbody tr").all():
        cells = row.locator("th, td")
        rows.append((int(cells.nth(0).inner_text()), cells.nth(1).inner_text(),
                     float(row.locator("data").get_attribute("value"))))
    return rows


PAGES = [("/", "Competitions"), ("/competitions/titanic", "Titanic"), ("/competitions/titanic/data", "Titanic"),
         ("/competitions/titanic/rules", "Titanic"), ("/competitions/titanic/leaderboard", "Titanic"),
         ("/signin", "Sign in"), ("/host", "Sign in as the host")]


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_each_page_renders_with_a_title_a_heading_and_pixels(site, page, path, heading):
    response = page.goto(site.url + path)
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    assert page.title().endswith("· podium arena")
    assert page.locator("h1").inner_text() == heading
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("script").count() == 0
    assert_not_blank(page.screenshot(full_page=True))


def test_the_pages_say_everything_the_text_pages_did(site, page):
    competition = site.server.catalog.get("titanic")
    page.goto(f"{site.url}/competitions/titanic")
    overview = page.locator("main").inner_text()
    deadline = competition.deadline.strftime("%Y-%m-%d %H:%M UTC")
    for fact in ("AUC (higher is better)", deadline, "5 per user per UTC day",
                 f"podium run titanic --kaggle-endpoint {site.url}",
                 "podium arena accept-rules titanic --user YOUR_NAME --competitions DIR"):
        assert fact in overview, fact
    page.get_by_role("navigation", name="Competition").get_by_role("link", name="Rules").click()
    assert page.url == f"{site.url}/competitions/titanic/rules"
    assert competition.rules in page.locator(".rules").inner_text()
    assert "podium arena accept-rules titanic" in page.locator("main").inner_text()
    page.get_by_role("link", name="podium arena", exact=True).click()
    index = page.locator("table")
    assert index.locator("caption").inner_text() == "The competitions this arena hosts"
    assert index.locator("tbody th[scope=row]").count() == len(site.server.catalog.all())
    assert f"podium run SLUG --kaggle-endpoint {site.url}" in page.locator("main").inner_text()


def test_scripts_still_get_the_plain_text_pages(site):
    text = requests.get(f"{site.url}/competitions/titanic/rules", headers={"Accept": "text/plain"}, timeout=10)
    assert text.headers["content-type"].startswith("text/plain") and text.text.startswith("Titanic\n=======\n")
    board = requests.get(f"{site.url}/competitions/titanic/leaderboard", headers={"Accept": "text/plain"},
                         timeout=10).text
    assert [line.split()[1] for line in board.splitlines()[2:]] == ["bob", "alice", "carol"]


def test_the_data_page_lists_the_files_and_their_sizes(site, page):
    public = site.server.catalog.get("titanic").public_files()
    page.goto(f"{site.url}/competitions/titanic/data")
    rows = page.locator("table tbody tr")
    seen = {row.locator("th").inner_text(): int(row.locator("data").get_attribute("value")) for row in rows.all()}
    assert seen == {name: path.stat().st_size for name, path in public.items()}
    assert page.locator("table a").count() == 0  # links are for signed-in users who accepted the rules
    sign_in(page, site.url, "alice", site.keys["alice"], start="/signin?next=/competitions/titanic/data")
    assert page.url == f"{site.url}/competitions/titanic/data"
    link = page.get_by_role("link", name="train.csv").get_attribute("href")
    assert requests.get(site.url + link, timeout=10).content == public["train.csv"].read_bytes()


@pytest.mark.parametrize("slug", ["titanic", "deliveries"])
def test_the_leaderboard_holds_the_scored_submissions_in_rank_order(site, page, slug):
    competition = site.server.catalog.get(slug)
    response = page.goto(f"{site.url}/competitions/{slug}/leaderboard")
    assert response.status == 200
    caption = page.locator("table.board caption").inner_text()
    greater = get_metric(competition.evaluation_metric).greater_is_better
    assert caption == (f"Public leaderboard: {competition.evaluation_metric}, "
                       f"{'higher' if greater else 'lower'} is better")
    rows = board_rows(page)
    expected = leaderboard(site.server.store, competition)
    assert len(rows) == 3 and [r[0] for r in rows] == [1, 2, 3]
    assert [(user, score) for _, user, score in rows] == [(r["user"], r["score"]) for r in expected]
    scores = [score for *_, score in rows]
    assert scores == sorted(scores, reverse=greater) and len(set(scores)) == 3
    if slug == "titanic":  # bob's perfect file leads; alice's best (not her latest) counts
        assert rows[0][1:] == ("bob", 1.0) and rows[1][1] == "alice"


def test_a_signed_in_user_sees_their_own_submissions_and_no_one_elses(site, page, browser):
    store = site.server.store
    page.goto(f"{site.url}/competitions/titanic/submissions")
    assert page.url == f"{site.url}/signin?next=/competitions/titanic/submissions"  # sent to sign in first
    answer = sign_in(page, site.url, "alice", site.keys["alice"], start=page.url.removeprefix(site.url))
    assert answer.status == 303 and page.url == f"{site.url}/competitions/titanic/submissions"
    assert "Signed in as alice" in page.locator("header").inner_text()
    mine = store.submissions("titanic", store.user("alice"))
    table = page.locator("table.submissions")
    refs = [int(text) for text in table.locator("tbody th[scope=row]").all_inner_texts()]
    assert refs == [row["ref"] for row in mine] and len(refs) == 3
    text = table.inner_text()
    for row in mine:
        cells = table.locator(f"tr[id='{row['ref']}'] td").all_inner_texts()
        assert row["status"] in cells and (row["description"] in cells)
        if row["status"] == "COMPLETE":
            assert float(table.locator(f"tr[id='{row['ref']}'] data").first.get_attribute("value")) == \
                row["public_score"]
        else:
            assert row["error"] and row["error"] in cells and "rows" in row["error"]
    assert "hidden" in text  # private scores stay hidden before the deadline
    for other in ("bob", "carol"):
        for row in store.submissions("titanic", store.user(other)):
            assert row["description"] not in text and f"id=\"{row['ref']}\"" not in page.content()
    cookie = next(c for c in page.context.cookies() if c["name"] == "arena_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and site.keys["alice"] not in cookie["value"]
    assert page.evaluate("document.cookie") == ""

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.url == f"{site.url}/" and "Sign in" in page.locator("header").inner_text()
    page.goto(f"{site.url}/competitions/titanic/submissions")
    assert page.url.startswith(f"{site.url}/signin")


def test_a_wrong_key_gets_a_clear_message_and_no_session(site, page):
    answer = sign_in(page, site.url, "alice", "0" * 32)
    assert answer.status == 401
    alert = page.get_by_role("alert").inner_text()
    assert "do not match an arena user" in alert and "podium arena add-user" in alert
    assert page.get_by_label("User name").input_value() == "alice"  # kept; the key is not
    assert page.get_by_label("API key").input_value() == ""
    assert not [c for c in page.context.cookies() if c["name"] == "arena_session"]
    forged = page.context.browser.new_context()
    forged.add_cookies([{"name": "arena_session", "value": "eyJ1IjoxfQ.0000", "url": site.url}])
    other = forged.new_page()
    other.goto(f"{site.url}/competitions/titanic/submissions")
    assert other.url.startswith(f"{site.url}/signin")  # a forged cookie is nobody
    forged.close()


def test_the_private_leaderboard_is_refused_without_the_host_key(site, page):
    private = f"{site.url}/competitions/titanic/leaderboard/private"
    assert page.goto(private).status == 403
    assert "host" in page.get_by_role("alert").inner_text()
    sign_in(page, site.url, "bob", site.keys["bob"])
    assert page.goto(private).status == 403  # a participant is not the host

    page.get_by_role("link", name="Sign in with the host key").click()
    page.get_by_label("Host key").fill(site.keys["bob"])
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401 and "not the host key" in page.get_by_role("alert").inner_text()

    page.get_by_label("Host key").fill(site.host_key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.url == private and page.locator("h2").inner_text() == "Private leaderboard"
    expected = leaderboard(site.server.store, site.server.catalog.get("titanic"), private=True)
    assert [(user, score) for _, user, score in board_rows(page)] == [(r["user"], r["score"]) for r in expected]
    assert "Signed in as bob (and as the host)" in page.locator("header").inner_text()


def test_markup_from_people_shows_as_text(site, page):
    response = page.goto(f"{site.url}/competitions/markup/rules")
    assert response.status == 200
    assert page.locator("h1").inner_text() == MARKUP_TITLE
    assert MARKUP_TITLE in page.title()
    assert page.locator("script, main img, main b").count() == 0
    assert MARKUP_RULES in page.locator(".rules").inner_text()
    assert "&lt;script&gt;alert(" in response.text()
    page.goto(f"{site.url}/")
    assert MARKUP_TITLE in page.locator("table").inner_text()
    sign_in(page, site.url, "alice", site.keys["alice"], start="/signin?next=/competitions/titanic/submissions")
    assert MARKUP_NOTE in page.locator("table.submissions").inner_text()
    assert page.locator("script, main i").count() == 0


def test_bad_input_gets_a_page_not_a_crash(site, page):
    assert page.goto(f"{site.url}/competitions/no-such-thing").status == 404
    assert "no competition 'no-such-thing'" in page.get_by_role("alert").inner_text()
    assert page.goto(f"{site.url}/signin?next=https://evil.example/").status == 200
    assert page.locator("input[name=next]").get_attribute("value") == "/"  # never sent to another site
    for body, kind in ((b"username=alice&key=" + b"x" * (32 << 10), "application/x-www-form-urlencoded"),
                       (b"{}", "application/json"), (b"%ff%fe=\x00&&==", "application/x-www-form-urlencoded")):
        answer = requests.post(f"{site.url}/signin", data=body, headers={"Content-Type": kind}, timeout=10)
        assert 400 <= answer.status_code < 500 and re.search(r"<h1>[^<]+</h1>", answer.text), answer.text[:300]
