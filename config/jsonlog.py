"""The one shape of a log line (a JSON object), shared by Django's logging settings and
gunicorn's own configuration."""

JSON_FORMATTER = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(levelname)s %(name)s %(message)s",
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": "time",  # ISO 8601 in UTC, whatever the process's time zone
    "json_ensure_ascii": False,
}
