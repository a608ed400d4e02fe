"""The bodies the API reads: JSON, bounded in size and in depth.

* A body of more than ``CRM_REQUEST_MAX_BYTES`` bytes (1 MiB unless set) is refused with
  a 413: no record needs more, and reading without a bound lets one client fill a
  worker's memory.  Django enforces the bound as it reads any body
  (``DATA_UPLOAD_MAX_MEMORY_SIZE``; the API answers its refusal as a 413, the pages as a
  400), and the parser again on the bytes it is given.
* JSON nested more than ``CRM_JSON_MAX_DEPTH`` levels (64 unless set) is refused with a
  400: no record has more than a few, and Python's JSON reader gives up with a
  ``RecursionError`` (which was a 500) at about a thousand.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class BodyTooLarge(exceptions.APIException):
    """A request body above the size the API reads."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = _("The request body is too large.")


def json_depth(value: Any, *, stop_after: int) -> int:
    """How many levels of arrays and objects ``value`` nests (``[]`` is one), counted
    without recursion and no further than ``stop_after`` + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > stop_after:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with a bound on the body's size (413) and nesting (400)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = int(settings.CRM_REQUEST_MAX_BYTES)
        body = stream.read(limit + 1)  # no further: the rest is never held in memory
        if len(body) > limit:
            raise BodyTooLarge()
        max_depth = int(settings.CRM_JSON_MAX_DEPTH)
        data = None
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
            too_deep = json_depth(data, stop_after=max_depth) > max_depth
        except RecursionError:  # Python's reader gives up at about a thousand levels
            too_deep = True
        if too_deep:
            raise exceptions.ParseError(
                _("JSON nested more than %(levels)d levels deep is not accepted.") % {"levels": max_depth}
            )
        return data
