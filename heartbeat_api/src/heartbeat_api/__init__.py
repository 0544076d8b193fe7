"""heartbeat-api."""
