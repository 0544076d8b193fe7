"""Runs one sync in its own process (so a test can SIGKILL it): argv[1] is the
database_config as JSON; URLs come from the environment."""

from __future__ import annotations

import json
import os
import sys

from database_task import sync
from task_config.database import DatabaseConfig

if __name__ == "__main__":
    config = DatabaseConfig.model_validate(json.loads(sys.argv[1]))
    result = sync(config, os.environ, lambda progress: None, lambda: False)
    print(json.dumps(result, default=str))
