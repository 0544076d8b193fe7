"""testing-task."""
