"""Atomic write of the completion to the completion file (``COMPLETION_FILENAME``).

Written before the completion is sent, so the result survives an API that
stays down: whoever collects the output directory still finds it.
"""

from __future__ import annotations

import logging
import os
import tempfile

from heartbeat_contract.completion import COMPLETION_FILENAME

__all__ = ["COMPLETION_FILENAME", "write_completion_file"]

logger = logging.getLogger("heartbeat_client")


def write_completion_file(output_dir: str, payload: bytes) -> str | None:
    """Write ``payload`` to ``output_dir/COMPLETION_FILENAME`` atomically; never raises.

    A reader sees either the previous file or the whole new one, never a
    partial write (temporary file in the same directory, fsync, rename).
    Returns the path written, or None when the directory is not writable.
    """
    target = os.path.join(output_dir, COMPLETION_FILENAME)
    temp_path: str | None = None
    try:
        os.makedirs(output_dir, exist_ok=True)
        fd, temp_path = tempfile.mkstemp(prefix=".completion-", suffix=".tmp", dir=output_dir)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; whoever collects the output may be another user.
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, target)
        temp_path = None
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        logger.warning(
            "could not write the completion to %s (%s); it is only sent to the API",
            target,
            getattr(exc, "strerror", None) or exc,
        )
        return None
    finally:
        if temp_path is not None:
            try:
                os.unlink(temp_path)
            except OSError:
                pass
    return target
