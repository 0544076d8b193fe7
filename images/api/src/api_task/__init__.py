"""Third-party API collection task: authenticated, paginated, rate-limited and retried
requests streamed into a JSON or JSON Lines file."""

from api_task._secrets import Redactor
from api_task.collector import CollectionError, collect, collect_async

__all__ = ["CollectionError", "Redactor", "collect", "collect_async"]
