"""heartbeat-operator."""
