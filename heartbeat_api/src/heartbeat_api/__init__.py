"""The heartbeat API: FastAPI service and the Redis schema of execution state.

Light to import (no FastAPI): the Airflow trigger imports the store from here.
"""

from heartbeat_api.auth import execution_token
from heartbeat_api.errors import ExecutionExists, FinalStateConflict, StoreError, UnknownExecution
from heartbeat_api.records import FINAL_STATES, Event, Execution
from heartbeat_api.store import ExecutionStore

__all__ = [
    "FINAL_STATES",
    "Event",
    "Execution",
    "ExecutionExists",
    "ExecutionStore",
    "FinalStateConflict",
    "StoreError",
    "UnknownExecution",
    "execution_token",
]
