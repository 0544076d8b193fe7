"""database-task: copy tables between PostgreSQL, MySQL/MariaDB and SQLite.

    from database_task import sync
    result = sync(database_config, os.environ, reporter=print_progress,
                  should_stop=lambda: False)

Full runs load a staging table and swap it in; incremental runs upsert rows past a
watermark kept in the target (table ``_dbsync_state``), committed with each batch.
``python -m database_task`` runs it inside the task image, reporting through the SDK.
"""

from database_task._errors import SyncError
from database_task._state import STATE_TABLE
from database_task._sync import sync

__all__ = ["STATE_TABLE", "SyncError", "sync"]
