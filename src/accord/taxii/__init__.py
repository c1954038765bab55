"""The TAXII 2.1 server (FastAPI on uvicorn) over the node's services.

``create_app(settings)`` is the ASGI app; ``serve(settings, host, port,
workers)`` runs it under uvicorn with the timeouts an Internet-facing server
needs. The edge only speaks HTTP: access, filters, pages and statuses are
decided in ``accord.service.taxii``.
"""

from __future__ import annotations

from accord.taxii._app import create_app
from accord.taxii._serve import serve
from accord.taxii._state import API_ROOT, DISCOVERY

__all__ = ["API_ROOT", "DISCOVERY", "create_app", "serve"]
