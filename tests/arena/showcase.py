"""An arena with people in it: users, accepted rules, and real submissions scored by the arena's grader.

Submissions go through the protocol itself (StartSubmissionUpload, the PUT, CreateSubmission), so what the
pages show is what a participant's kaggle client produced. Used by tests/arena/test_pages.py, and run as a
script to remake the docs' screenshot of a leaderboard:

    .venv/bin/python -m tests.arena.showcase docs/images/arena-leaderboard.png
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import requests

SERVICE = "competitions.CompetitionApiService"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def predictions(folder: Path, skill: float, seed: int = 0) -> pd.DataFrame:
    """The sample submission with a `skill` share of its rows right and the rest noise: 1 is perfect."""
    sample = pd.read_csv(folder / "public" / "sample_submission.csv")
    answers = pd.read_csv(folder / "private" / "answers.csv").set_index(sample.columns[0])
    target = sample.columns[1]
    truth = answers.loc[sample.iloc[:, 0], target].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    noise = rng.normal(truth.mean(), truth.std() or 1.0, len(truth))
    values = np.where(rng.random(len(truth)) < skill, truth, noise)
    if set(np.unique(truth)) <= {0.0, 1.0}:  # binary: the values are probabilities
        values = values.clip(0, 1)
    return sample.assign(**{target: values})


def submit(url: str, name: str, key: str, slug: str, table: pd.DataFrame, description: str) -> int:
    """One submission as the kaggle client makes it; returns its ref."""
    data = table.to_csv(index=False).encode()
    with requests.Session() as session:
        session.auth = (name, key)
        started = session.post(f"{url}/v1/{SERVICE}/StartSubmissionUpload", timeout=30, json={
            "competitionName": slug, "fileName": "submission.csv", "contentLength": len(data)})
        started.raise_for_status()
        requests.put(started.json()["createUrl"], data=data, timeout=30).raise_for_status()
        created = session.post(f"{url}/v1/{SERVICE}/CreateSubmission", timeout=30, json={
            "competitionName": slug, "blobFileTokens": started.json()["token"],
            "submissionDescription": description})
        created.raise_for_status()
        return int(created.json()["ref"])


def wait_scored(store, refs: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while any(store.submission(ref)["status"] == "PENDING" for ref in refs):
        if time.monotonic() > deadline:
            raise AssertionError(f"submissions {refs} were not graded within {timeout:g} s")
        time.sleep(0.05)


def populate(server, plan: dict[str, list[tuple[str, pd.DataFrame, str]]]) -> dict[str, str]:
    """Add each user of `plan` (name -> [(slug, table, description)]), accept the rules, submit, wait for grading."""
    keys, refs = {}, []
    for name, entries in plan.items():
        keys[name] = server.store.add_user(name)
        user = server.store.user(name)
        for slug in {slug for slug, _, _ in entries}:
            server.store.accept_rules(user, slug)
        refs += [submit(server.url, name, keys[name], slug, table, text) for slug, table, text in entries]
    wait_scored(server.store, refs)
    return keys


@contextmanager
def chromium() -> Iterator:
    """Headless Debian Chromium under Playwright (never Playwright's own browser download)."""
    from playwright.sync_api import sync_playwright

    from tests.report.browser import chromium_binary

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(out: Path) -> Path:
    """Build a demo arena with five participants and save its leaderboard page as a small PNG."""
    from PIL import Image

    from agent.arena.demo import DEMOS, build_from_corpus
    from agent.arena.server import ArenaServer

    with tempfile.TemporaryDirectory() as scratch:
        folder = build_from_corpus("titanic", Path(scratch) / "titanic", rows=800, title=DEMOS["titanic"][1])
        skills = {"ada": 0.92, "grace": 0.85, "alan": 0.8, "edsger": 0.6, "barbara": 0.3}
        plan = {name: [("titanic", predictions(folder, skill, seed), f"blend v{seed + 1}")
                       for seed in range(2)] for name, skill in skills.items()}
        server = ArenaServer(Path(scratch)).start()
        try:
            populate(server, plan)
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 1000, "height": 640})
                page.goto(f"{server.url}/competitions/titanic/leaderboard")
                png = page.screenshot(full_page=False)
        finally:
            server.stop()
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/images/arena-leaderboard.png"))
    out = screenshot(parser.parse_args(argv).out)
    print(f"Wrote {out} ({out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
