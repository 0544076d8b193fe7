"""crawler-task."""
