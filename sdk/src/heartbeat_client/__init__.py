"""heartbeat-client."""
