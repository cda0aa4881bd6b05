"""Structured logging: one JSON object per line (or readable lines for people),
for our own records and for uvicorn's alike.

A last processor masks anything shaped like a Thai national ID (13 digits,
with or without separators, Arabic or Thai digits) in every event: the clear
ID must never reach a log, whatever a careless caller passes.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from dcatalog.config import Settings

_DIGIT = r"[0-9๐-๙]"
_SEP = r"[\s\-\u2010-\u2015\u2212]?"
NATIONAL_ID_PATTERN = re.compile(
    rf"(?<![0-9๐-๙]){_DIGIT}{_SEP}(?:{_DIGIT}){{4}}{_SEP}(?:{_DIGIT}){{5}}{_SEP}"
    rf"(?:{_DIGIT}){{2}}{_SEP}{_DIGIT}(?![0-9๐-๙])"
)
REDACTED = "[national-id]"


def redact(text: str) -> str:
    return NATIONAL_ID_PATTERN.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return redact(str(value)) if len(str(value)) == 13 else value
    return value


def redact_national_ids(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    # uvicorn adds a terminal-coloured copy of its message; one copy is enough.
    return {key: _redact_value(value) for key, value in event.items() if key != "color_message"}


def configure_logging(settings: Settings) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_national_ids,  # last before rendering: nothing can slip in after it
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # We write one access line per request ourselves, with the route and request id.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
