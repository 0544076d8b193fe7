"""SIGTERM/SIGINT → the client's stop flag, installed only where Python allows it."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

__all__ = ["SignalHandlers"]

logger = logging.getLogger("heartbeat_client")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

if TYPE_CHECKING:  # only for the type checker: `X | Y` cannot run on Python 3.9
    from typing import TypeAlias

    _PreviousHandler: TypeAlias = (
        Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
    )


class SignalHandlers:
    """Route SIGTERM and SIGINT to ``on_stop(signal_name)`` while installed.

    The first signal only asks for a graceful stop. A second SIGINT raises
    KeyboardInterrupt as usual, so a person at a terminal can still break
    out of a task that never checks ``should_stop()``.

    Python lets only the main thread install handlers; elsewhere
    ``install()`` logs and returns False, and the task relies on cancel
    requests from the API instead.
    """

    def __init__(self, on_stop: Callable[[str], None]) -> None:
        self._on_stop = on_stop
        self._previous: dict[int, _PreviousHandler] = {}
        self._seen_sigint = False

    @property
    def installed(self) -> bool:
        return bool(self._previous)

    def install(self) -> bool:
        if self._previous:
            return True
        if threading.current_thread() is not threading.main_thread():
            logger.info(
                "not installing SIGTERM/SIGINT handlers: the client was started outside "
                "the main thread; stop requests still arrive through the heartbeat API"
            )
            return False
        try:
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        except (ValueError, OSError) as exc:
            logger.warning("could not install signal handlers: %s", exc)
            self.restore()
            return False
        return True

    def restore(self) -> None:
        """Put the handlers found at install() back; safe to call repeatedly."""
        if not self._previous:
            return
        if threading.current_thread() is not threading.main_thread():
            logger.debug("signal handlers left in place: restore() called off the main thread")
            return
        for signum, previous in list(self._previous.items()):
            try:
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            except (ValueError, OSError, TypeError) as exc:
                logger.debug("could not restore the handler of signal %s: %s", signum, exc)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if signum == signal.SIGINT:
            if self._seen_sigint:
                raise KeyboardInterrupt
            self._seen_sigint = True
        self._on_stop(name)
