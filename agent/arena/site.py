"""The arena's pages for people: routes, sessions and errors (the rendering is pages.py's).

`/` lists the competitions; `/competitions/<slug>` has tabs for the overview, data, rules, the public
leaderboard and the signed-in user's own submissions; `/competitions/<slug>/leaderboard/private` is the
host's. `/signin` takes the user name and API key the kaggle client uses, `/host` the host key, and both set
a signed session cookie (sessions.py); `POST /signout` ends it. `Accept: text/plain` gets the plain-text form
of the index and competition pages, for scripts. Pages run on worker threads (SQLite).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agent.arena import pages, sessions
from agent.arena.api import ApiError
from agent.arena.bodies import read_all
from agent.arena.routes import arena_of, base_url, elsewhere, is_api_path
from agent.arena.sessions import Session

log = logging.getLogger("podium.arena")
FORM_LIMIT = 16 << 10
SECURITY = {"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                      "base-uri 'none'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
_LOCAL = re.compile(r"^/(?![/\\])[^\s\\]*$")
Form = dict[str, str]
Handler = Callable[[Request, Session, Form], Response]


def wants_text(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "text/plain" in accept and "text/html" not in accept


def html(body: str, status: int = 200) -> Response:
    return Response(body, status, SECURITY, media_type="text/html")


def local_path(value: str | None) -> str:
    """Where to go after signing in: a path on this arena, never another site."""
    return value if value and _LOCAL.match(value) else "/"


def _competition(request: Request):
    slug = request.path_params["slug"]
    competition = arena_of(request).catalog.get(slug)
    if competition is None:
        raise ApiError(404, f"There is no competition '{slug}' in this arena")
    return competition


async def _form(request: Request) -> Form:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise ApiError(400, "Send the form as application/x-www-form-urlencoded (what a browser sends)")
    body = await read_all(request, FORM_LIMIT)
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    return {name: values[0] for name, values in fields.items()}


def page(handler: Handler):
    """A page endpoint: the session read from its cookie, the form (if posted), errors as pages."""

    async def endpoint(request: Request) -> Response:
        try:
            form = await _form(request) if request.method == "POST" else {}
        except ClientDisconnect:
            return Response(status_code=400)
        except ApiError as failure:
            return await run_in_threadpool(_failed, request, failure.status, failure.message)
        return await run_in_threadpool(_answer, handler, request, form)

    return endpoint


def _answer(handler: Handler, request: Request, form: Form) -> Response:
    try:
        viewer = sessions.decode(arena_of(request).store, request.cookies.get(sessions.COOKIE))
        return handler(request, viewer, form)
    except ApiError as failure:
        return _failed(request, failure.status, failure.message)
    except (ValueError, TypeError, KeyError) as failure:
        return _failed(request, 400, f"Bad request: {failure}")
    except Exception:  # noqa: BLE001 - a page answers 500 rather than dropping the connection
        log.exception("Page %s %s failed", request.method, request.url.path)
        return _failed(request, 500, "Internal error in the arena (see its log)")


HEADINGS = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
            405: "Method not allowed", 413: "Too large", 500: "Arena error"}


def _failed(request: Request, status: int, message: str, viewer: Session | None = None, fix: str = "",
            link: tuple[str, str] | None = None) -> Response:
    if wants_text(request):
        return Response(message + "\n", status, media_type="text/plain")
    heading = HEADINGS.get(status, "Error")
    return html(pages.error(viewer or Session(), base_url(request), heading, message, fix, link), status)


# --- the pages ------------------------------------------------------------------------------------------


def index(request: Request, viewer: Session, form: Form) -> Response:
    arena = arena_of(request)
    if wants_text(request):
        return Response(pages.index(arena, viewer, base_url(request), text=True), media_type="text/plain")
    return html(pages.index(arena, viewer, base_url(request)))


def tab(name: str) -> Handler:
    render = {"overview": pages.overview, "data": pages.data, "rules": pages.rules, "leaderboard": pages.board}[name]

    def show(request: Request, viewer: Session, form: Form) -> Response:
        arena, competition = arena_of(request), _competition(request)
        if wants_text(request):
            return Response(pages.competition_text(arena, competition, name), media_type="text/plain")
        return html(render(arena, competition, viewer, base_url(request)))

    return show


def own_submissions(request: Request, viewer: Session, form: Form) -> Response:
    arena, competition = arena_of(request), _competition(request)
    if wants_text(request):
        return Response(pages.competition_text(arena, competition, "submissions"), media_type="text/plain")
    if viewer.user is None:
        return _redirect(f"/signin?next={quote(request.url.path)}")
    return html(pages.submissions(arena, competition, viewer, base_url(request)))


def private_board(request: Request, viewer: Session, form: Form) -> Response:
    arena, competition = arena_of(request), _competition(request)
    if not viewer.host:
        return _failed(request, 403, "The private leaderboard is the host's: sign in with the host key to see it.",
                       viewer, "Participants see private scores on the leaderboard once the deadline has passed.",
                       (f"/host?next={quote(request.url.path)}", "Sign in with the host key"))
    return html(pages.board(arena, competition, viewer, base_url(request), private=True))


def signin(request: Request, viewer: Session, form: Form) -> Response:
    next_path = local_path(form.get("next") or request.query_params.get("next"))
    if request.method == "GET":
        return html(pages.signin(viewer, base_url(request), next_path))
    store = arena_of(request).store
    name, key = form.get("username", "").strip(), form.get("key", "").strip()
    user = store.authenticate(name, key) if name and key else None
    if user is None:
        message = ("Fill in both your user name and your API key." if not (name and key) else
                   "That user name and API key do not match an arena user. Check both: the key is the one "
                   "`podium arena add-user NAME` printed (your KAGGLE_KEY); a lost key cannot be shown again, "
                   "so ask the host for a new user.")
        return html(pages.signin(viewer, base_url(request), next_path, error=message, username=name), 401)
    return sessions.remember(_redirect(next_path), store, Session(user=user, host=viewer.host))


def host_signin(request: Request, viewer: Session, form: Form) -> Response:
    next_path = local_path(form.get("next") or request.query_params.get("next"))
    if request.method == "GET":
        return html(pages.signin(viewer, base_url(request), next_path, host=True))
    store = arena_of(request).store
    if not store.is_host_key(form.get("key", "").strip()):
        message = ("That is not the host key. `podium arena host-key --competitions DIR` prints a new one (the "
                   "old one stops working)." if store.host_key_digest() else
                   "This arena has no host key yet: make one with `podium arena host-key --competitions DIR` on "
                   "the arena's machine.")
        return html(pages.signin(viewer, base_url(request), next_path, host=True, error=message), 401)
    return sessions.remember(_redirect(next_path), store, Session(user=viewer.user, host=True))


def signout(request: Request, viewer: Session, form: Form) -> Response:
    return sessions.forget(_redirect("/"))


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


async def stylesheet(request: Request) -> Response:
    return Response(pages.stylesheet(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


async def fallback(request: Request) -> Response:
    """Anything no route takes: API paths answer as the API does, the rest as a page."""
    path = request.url.path
    if is_api_path(path) or request.method not in ("GET", "HEAD"):
        return await elsewhere(request)
    if path.endswith("/") and path.strip("/"):  # /competitions/titanic/ is /competitions/titanic
        return RedirectResponse(quote(path.rstrip("/")) + (f"?{request.url.query}" if request.url.query else ""),
                                status_code=308)
    return await run_in_threadpool(_failed, request, 404, f"There is no page at {path}")


ROUTES = [
    Route("/", page(index), methods=["GET"]),
    Route("/static/arena.css", stylesheet, methods=["GET"]),
    Route("/competitions/{slug}", page(tab("overview")), methods=["GET"]),
    Route("/competitions/{slug}/data", page(tab("data")), methods=["GET"]),
    Route("/competitions/{slug}/rules", page(tab("rules")), methods=["GET"]),
    Route("/competitions/{slug}/leaderboard", page(tab("leaderboard")), methods=["GET"]),
    Route("/competitions/{slug}/leaderboard/private", page(private_board), methods=["GET"]),
    Route("/competitions/{slug}/submissions", page(own_submissions), methods=["GET"]),
    Route("/signin", page(signin), methods=["GET", "POST"]),
    Route("/host", page(host_signin), methods=["GET", "POST"]),
    Route("/signout", page(signout), methods=["POST"]),
]
FALLBACK = Route("/{path:path}", fallback, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
