"""Backoff: exponential with jitter, bounded; Retry-After wins; only what is safe to repeat is repeated."""

from __future__ import annotations

import pytest
import requests

from agent.kaggle.retry import MAX_CONNECTION_RETRIES, backoff, with_retries


def _http_error(status: int, retry_after: str | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return requests.HTTPError(f"HTTP {status}", response=response)


class Flaky:
    """Fails with the given exceptions, in order, then returns 'done'."""

    def __init__(self, *failures: Exception):
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_backoff_grows_exponentially_with_bounded_jitter_and_a_cap():
    assert backoff(0, 1.0, 60, rng=lambda: 0.0) == 0.5 and backoff(0, 1.0, 60, rng=lambda: 0.999) < 1.5
    assert backoff(3, 1.0, 60, rng=lambda: 0.5) == 8.0
    assert backoff(10, 1.0, 60, rng=lambda: 0.5) == 60


def test_429_is_retried_with_retry_after_then_succeeds():
    waits: list[float] = []
    flaky = Flaky(_http_error(429, "3"), _http_error(429))
    assert with_retries(flaky, what="x", retries=5, base=0.1, cap=10, sleep=waits.append) == "done"
    assert flaky.calls == 3 and waits[0] == 3.0 and 0.05 <= waits[1] < 0.15 * 2 * 1.5


def test_retries_are_bounded():
    flaky = Flaky(*[_http_error(429) for _ in range(10)])
    with pytest.raises(requests.HTTPError):
        with_retries(flaky, what="x", retries=3, base=0, cap=0, sleep=lambda s: None)
    assert flaky.calls == 4


def test_a_non_idempotent_call_is_retried_only_on_429():
    for failure in (_http_error(503), requests.ConnectionError("reset")):
        flaky = Flaky(failure)
        with pytest.raises(type(failure)):
            with_retries(flaky, what="x", retries=3, base=0, cap=0, idempotent=False, sleep=lambda s: None)
        assert flaky.calls == 1
    assert with_retries(Flaky(_http_error(429)), what="x", retries=3, base=0, cap=0, idempotent=False,
                        sleep=lambda s: None) == "done"


def test_client_errors_and_read_timeouts_are_not_retried_and_refusals_only_briefly():
    for failure in (_http_error(403), _http_error(404), requests.ReadTimeout("slow")):
        flaky = Flaky(failure)
        with pytest.raises(type(failure)):
            with_retries(flaky, what="x", retries=5, base=0, cap=0, sleep=lambda s: None)
        assert flaky.calls == 1
    refused = Flaky(*[requests.ConnectionError("refused") for _ in range(10)])
    with pytest.raises(requests.ConnectionError):
        with_retries(refused, what="x", retries=8, base=0, cap=0, sleep=lambda s: None)
    assert refused.calls == MAX_CONNECTION_RETRIES + 1
    assert with_retries(Flaky(_http_error(502)), what="x", retries=2, base=0, cap=0, sleep=lambda s: None) == "done"
