"""The live view: a page of running and recent executions, fed by server-sent events.

``app.include_router(heartbeat_api.ui.router)`` serves it under ``/ui``.
"""

from heartbeat_api.ui.routes import router

__all__ = ["router"]
