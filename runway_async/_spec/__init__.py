"""The one declarative spec of the API's endpoints, and its validator.

``api.json`` (package data) is built by ``scripts/build_spec.py`` from the official SDK's
request schema plus the facts of the API reference the schema lacks; ``scripts/
gen_endpoints.py`` generates the typed task resource classes, ``runway_async.types`` and
``docs/endpoints.md`` from it. Nothing at run or test time reads anything else.

Layout of ``api.json`` (format 2)::

    {"format_version": 2, "source": "runwayml 5.24.0",
     "enums": {"ElevenVoiceId": {"description": ..., "values": [...]}, ...},
     "endpoints": {                           # the task-creating endpoints
       "image_to_video": {
         "method": "POST", "path": "/v1/image_to_video",
         "discriminator": "model" | "mode" | null, "discriminator_description": ...,
         "response": "task_created" | "id_only" | "routed", "summary": ..., "notes": ...,
         "order": 0,                          # position in the docs and generated code
         "variants": [
           {"value": "gen4.5", "title": "Gen4_5", "legacy": "runwayml 5.13.0 (HEAD)"?,
            "fields": {"<wireName>": FIELD, ...}}]}},
     "plain": {                               # the plain endpoints (resource calls)
       "avatars.update": {                    # the client method path
         "method": "GET" | "POST" | "PATCH" | "DELETE", "path": "/v1/avatars/{id}",
         "call": "uploads.create_ephemeral(file=...)"?,   # public method, when not the name
         "summary": ..., "notes"?: ..., "reply": "Avatar",  # reply: in words, for the docs
         "order": 0, "paginated": true | false,           # paginated: a cursor page reply
         "path_params": {"<name>": FIELD},     # one per {placeholder} of the path
         "query": {"<wireName>": FIELD},
         "body": {"<wireName>": FIELD} | null, # null: no body (GET, DELETE)
         "min_body_fields": 1?,                # fewest body members a call must set
         "date_range": {"start": "<wireName>", "end": "<wireName>", "max_days": 90?}?}}}

    FIELD = NODE + {"python_name", "required", "description", "notes"?}
    NODE  = {"type": "string" | "integer" | "number" | "boolean" | "array" | "object"
                     | "map" | "union" | "any",
             "enum"?, "enum_name"?, "minimum"?, "maximum"?, "exclusive_minimum"?,
             "min_length"?, "max_length"?, "length_unit": "utf16"?, "pattern"?,
             "min_items"?, "max_items"?, "media": "image" | "video" | "audio"?,
             "unconfirmed": true?,            # constraints here are kept but not enforced
             "nullable": true?,               # null is a value too (clears, on updates)
             "format": "date-time" | "date-time-or-date"?,   # ISO-8601 strings
             "csv": true?,                    # query arrays: sent comma-separated
             "items": NODE?,                  # arrays
             "fields": {"<wireName>": FIELD}?, "title"?,   # objects
             "values": NODE?,                 # maps: keys of the user's choosing
             "any_of": [NODE, ...]?, "tag"?}  # unions; tag = member telling objects apart

The variant's fields exclude the discriminator. A plain endpoint has one body shape (no
discriminator). Everything the package uses is re-exported here: ``ENDPOINTS``,
``get_endpoint``, ``to_wire``, ``validate_wire``, ``union_body`` (task endpoints);
``PLAIN_ENDPOINTS``, ``get_plain_endpoint``, ``to_request``, ``validate_plain_wire``, ``NULL``
(plain endpoints); ``forget_warned_models`` (unknown models warn again, for tests); and the
spec classes.
"""

from __future__ import annotations

from collections.abc import Collection

from ._forward import forget_warned_models
from ._model import (
    ENDPOINTS,
    PLAIN_ENDPOINTS,
    DateRange,
    EndpointSpec,
    FieldSpec,
    MediaKind,
    PlainEndpointSpec,
    ResponseKind,
    TypeSpec,
    VariantSpec,
    get_endpoint,
    get_plain_endpoint,
    python_name,
    union_body,
)
from ._plain import NULL, PlainRequest, merge_query, to_request, validate_plain_wire
from ._validate import ValidationIssue, describe, validate_body
from ._wire import to_wire

__all__ = [
    "ENDPOINTS",
    "NULL",
    "PLAIN_ENDPOINTS",
    "DateRange",
    "EndpointSpec",
    "FieldSpec",
    "MediaKind",
    "PlainEndpointSpec",
    "PlainRequest",
    "ResponseKind",
    "TypeSpec",
    "ValidationIssue",
    "VariantSpec",
    "describe",
    "forget_warned_models",
    "get_endpoint",
    "get_plain_endpoint",
    "merge_query",
    "python_name",
    "to_request",
    "to_wire",
    "union_body",
    "validate_plain_wire",
    "validate_wire",
]


def validate_wire(
    endpoint: str,
    body: object,
    *,
    allow_loopback_http: bool = False,
    accept_models: Collection[str] = (),
) -> list[ValidationIssue]:
    """Return every issue of a camelCase JSON body for ``endpoint``; empty means valid.

    Meant for servers such as the local emulator, which report all issues at once.

    Args:
        endpoint: The endpoint name (``image_to_video``, ``recipes.product_ad``, ...).
        body: The parsed JSON body.
        allow_loopback_http: Accept ``http://`` media URLs to loopback hosts.
        accept_models: Model names the spec does not know that are accepted anyway, with
            the checks that do not depend on the model (JSON types of known members, media
            URIs), as the client sends them; any other unknown model is an issue.

    Raises:
        InvalidRequestError: ``endpoint`` is not a known endpoint.

    """
    return validate_body(
        get_endpoint(endpoint),
        body,
        allow_loopback_http=allow_loopback_http,
        open_models=accept_models,
    )
