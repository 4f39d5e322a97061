"""What the arena's routes and pages need of a running arena: the `Arena` Protocol.

The server (server.py) is one and sits on top: it assembles the routes and pages, which know only this
interface and so never import the server.
"""

from __future__ import annotations

from typing import Protocol

from agent.arena.api import ArenaApi
from agent.arena.catalog import Catalog
from agent.arena.faults import Faults
from agent.arena.store import Store


class Arena(Protocol):
    """A running arena as its requests see it: its address, state, protocol, limits and faults."""

    @property
    def url(self) -> str: ...
    @property
    def store(self) -> Store: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def api(self) -> ArenaApi: ...
    @property
    def faults(self) -> Faults: ...
    @property
    def upload_limit(self) -> int: ...
