"""What the app keeps for its whole life: settings, the node, the names it serves."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from accord.service.limits import Limiter
from accord.service.node import Node
from accord.settings import Settings

# The one API root of this server (TAXII 2.1 §1.6.3: an API root is a URL
# prefix; its last segment names it). "v21" says which TAXII it speaks.
API_ROOT = "/api/v21/"
DISCOVERY = "/taxii2/"


@dataclass(slots=True)
class ServerState:
    """The node this process serves and how it presents itself."""

    settings: Settings
    node: Node | None = None
    clock: Callable[[], float] = field(default=time.time)
    limiter: Limiter | None = None  # made with the node (accord.service.limits)

    def open(self, node: Node | None) -> None:
        """Serve this node (None: none yet, or no more), with its limiter."""
        self.node = node
        self.limiter = None if node is None else Limiter(node, self.settings, clock=self.clock)

    @property
    def title(self) -> str:
        """The server's and the API root's title."""
        if self.settings.taxii_title:
            return self.settings.taxii_title
        name = self.node.info.name if self.node else ""
        return f"Accord node {name}".strip()


def server_state(request: Request) -> ServerState:
    """The app's state."""
    state: ServerState = request.app.state.taxii
    return state


def node_of(request: Request) -> Node:
    """The node this process serves (opened when the app started)."""
    node = server_state(request).node
    if node is None:  # only when the app is called without its lifespan
        raise RuntimeError("the TAXII app has no open node: run it with its lifespan")
    return node
