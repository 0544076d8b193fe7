"""api-task."""
