"""database-task."""
