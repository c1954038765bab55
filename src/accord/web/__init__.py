"""The analyst's console: server-rendered pages over the services, strict CSP, vendored assets.

Mounted by `accord serve` at ``/console/`` beside TAXII (`accord.taxii.create_app`).
Vendored: ``static/cytoscape.min.js`` (cytoscape.js 3.34.4, MIT, its licence in
``static/cytoscape.LICENSE``). No build step: the files are served as they are.
"""

from __future__ import annotations

from accord.web._app import create_console

__all__ = ["create_console"]
