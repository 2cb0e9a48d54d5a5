"""The plain endpoints' spec: requests built from Python parameters, and their validation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from runway_async import NOT_GIVEN, AsyncRunway, InvalidRequestError
from runway_async._client import core_of
from runway_async._http import HTTPTransport, Request, Response
from runway_async._spec import (
    ENDPOINTS,
    NULL,
    PLAIN_ENDPOINTS,
    PlainEndpointSpec,
    get_plain_endpoint,
    to_request,
    validate_plain_wire,
)

# The plain endpoints of the API reference's table (section 3), by client method path.
PLAIN_NAMES = [
    "avatars.create",
    "avatars.retrieve",
    "avatars.update",
    "avatars.list",
    "avatars.delete",
    "avatars.get_usage",
    "avatar_conversations.list",
    "avatar_conversations.retrieve",
    "avatar_conversations.delete",
    "realtime_sessions.create",
    "realtime_sessions.retrieve",
    "realtime_sessions.delete",
    "documents.create",
    "documents.retrieve",
    "documents.update",
    "documents.list",
    "documents.delete",
    "voices.create",
    "voices.retrieve",
    "voices.update",
    "voices.list",
    "voices.delete",
    "voices.preview",
    "routers.create",
    "routers.retrieve",
    "routers.update",
    "routers.list",
    "routers.delete",
    "routers.list_requests",
    "workflows.list",
    "workflows.retrieve",
    "workflows.run",
    "workflow_invocations.retrieve",
    "organization.webapp.list_usage",
    "organization.webapp.audit_logs.list",
    "organization.webapp.audit_logs.retrieve",
    "uploads.create",
]

# Reference section 14: the cursor-paginated lists.
PAGINATED = {
    "avatars.list",
    "avatar_conversations.list",
    "documents.list",
    "voices.list",
    "routers.list",
    "routers.list_requests",
    "organization.webapp.list_usage",
    "organization.webapp.audit_logs.list",
}

IMAGE = "https://example.com/face.png"
AUDIO = "https://example.com/voice.mp3"
PROMPT = "A warm, low voice with a slight rasp"
PRESET_VOICE = {"type": "runway-live-preset", "preset_id": "clara"}

# endpoint -> (params, (method, path, query, body)): one valid call of every plain endpoint.
CALLS: dict[str, tuple[dict[str, Any], tuple[str, str, Any, Any]]] = {
    "avatars.create": (
        {
            "name": "Ada",
            "personality": "Helpful",
            "reference_image": IMAGE,
            "voice": PRESET_VOICE,
            "document_ids": ["doc_1", "doc_2"],
            "image_processing": "none",
            "start_script": "Hello!",
        },
        (
            "POST",
            "/v1/avatars",
            None,
            {
                "name": "Ada",
                "personality": "Helpful",
                "referenceImage": IMAGE,
                "voice": {"type": "runway-live-preset", "presetId": "clara"},
                "documentIds": ["doc_1", "doc_2"],
                "imageProcessing": "none",
                "startScript": "Hello!",
            },
        ),
    ),
    "avatars.retrieve": ({"id": "av_1"}, ("GET", "/v1/avatars/av_1", None, None)),
    "avatars.update": (
        {"id": "av_1", "voice": {"type": "custom", "id": "voice_9"}, "start_script": NULL},
        (
            "PATCH",
            "/v1/avatars/av_1",
            None,
            {"voice": {"type": "custom", "id": "voice_9"}, "startScript": None},
        ),
    ),
    "avatars.list": (
        {"limit": 20, "cursor": "c2"},
        ("GET", "/v1/avatars", {"limit": "20", "cursor": "c2"}, None),
    ),
    "avatars.delete": ({"id": "av_1"}, ("DELETE", "/v1/avatars/av_1", None, None)),
    "avatars.get_usage": (
        {
            "start_date": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
            "end_date": "2026-03-01T00:00:00Z",
        },
        (
            "GET",
            "/v1/avatar_usage",
            {"startDate": "2026-01-01T00:00:00+00:00", "endDate": "2026-03-01T00:00:00Z"},
            None,
        ),
    ),
    "avatar_conversations.list": (
        {"limit": 5, "avatar": "av_1", "start_date": dt.date(2026, 2, 1)},
        (
            "GET",
            "/v1/avatar_conversations",
            {"limit": "5", "avatar": "av_1", "startDate": "2026-02-01T00:00:00Z"},
            None,
        ),
    ),
    "avatar_conversations.retrieve": (
        {"id": "rs_1"},
        ("GET", "/v1/avatar_conversations/rs_1", None, None),
    ),
    "avatar_conversations.delete": (
        {"id": "rs_1"},
        ("DELETE", "/v1/avatar_conversations/rs_1", None, None),
    ),
    "realtime_sessions.create": (
        {
            "model": "gwm1_avatars",
            "avatar": {"type": "runway-preset", "preset_id": "cat-character"},
            "integration": {
                "type": "livekit",
                "url": "wss://lk.example.com",
                "token": "t",
                "room_name": "room",
                "agent_identity": "agent",
            },
            "max_duration": 300,
            "tools": [
                {
                    "type": "backend_rpc",
                    "name": "look_up_order",
                    "description": "Find an order",
                    "timeout_seconds": 4.5,
                    "parameters": [
                        {
                            "type": "array",
                            "name": "ids",
                            "description": "Order ids",
                            "items": {"type": "string"},
                            "required": True,
                        },
                        {"type": "string", "name": "m", "description": "d", "enum": ["a"]},
                    ],
                },
                {"type": "client_event", "name": "_show_card", "description": "Show it"},
            ],
        },
        (
            "POST",
            "/v1/realtime_sessions",
            None,
            {
                "model": "gwm1_avatars",
                "avatar": {"type": "runway-preset", "presetId": "cat-character"},
                "integration": {
                    "type": "livekit",
                    "url": "wss://lk.example.com",
                    "token": "t",
                    "roomName": "room",
                    "agentIdentity": "agent",
                },
                "maxDuration": 300,
                "tools": [
                    {
                        "type": "backend_rpc",
                        "name": "look_up_order",
                        "description": "Find an order",
                        "timeoutSeconds": 4.5,
                        "parameters": [
                            {
                                "type": "array",
                                "name": "ids",
                                "description": "Order ids",
                                "items": {"type": "string"},
                                "required": True,
                            },
                            {"type": "string", "name": "m", "description": "d", "enum": ["a"]},
                        ],
                    },
                    {"type": "client_event", "name": "_show_card", "description": "Show it"},
                ],
            },
        ),
    ),
    "realtime_sessions.retrieve": (
        {"id": "rs_1"},
        ("GET", "/v1/realtime_sessions/rs_1", None, None),
    ),
    "realtime_sessions.delete": (
        {"id": "rs_1"},
        ("DELETE", "/v1/realtime_sessions/rs_1", None, None),
    ),
    "documents.create": (
        {"name": "FAQ", "content": "# Questions"},
        ("POST", "/v1/documents", None, {"name": "FAQ", "content": "# Questions"}),
    ),
    "documents.retrieve": ({"id": "doc_1"}, ("GET", "/v1/documents/doc_1", None, None)),
    "documents.update": (
        {"id": "doc_1", "name": "FAQ 2"},
        ("PATCH", "/v1/documents/doc_1", None, {"name": "FAQ 2"}),
    ),
    "documents.list": (
        {"limit": 10, "sort": "updatedAt", "order": "desc"},
        ("GET", "/v1/documents", {"limit": "10", "sort": "updatedAt", "order": "desc"}, None),
    ),
    "documents.delete": ({"id": "doc_1"}, ("DELETE", "/v1/documents/doc_1", None, None)),
    "voices.create": (
        {
            "name": "Narrator",
            "from_": {"type": "text", "model": "eleven_ttv_v3", "prompt": PROMPT},
            "description": "For audiobooks",
        },
        (
            "POST",
            "/v1/voices",
            None,
            {
                "name": "Narrator",
                "from": {"type": "text", "model": "eleven_ttv_v3", "prompt": PROMPT},
                "description": "For audiobooks",
            },
        ),
    ),
    "voices.retrieve": ({"id": "v_1"}, ("GET", "/v1/voices/v_1", None, None)),
    "voices.update": (
        {"id": "v_1", "description": NULL},
        ("PATCH", "/v1/voices/v_1", None, {"description": None}),
    ),
    "voices.list": ({"limit": 50}, ("GET", "/v1/voices", {"limit": "50"}, None)),
    "voices.delete": ({"id": "v_1"}, ("DELETE", "/v1/voices/v_1", None, None)),
    "voices.preview": (
        {"model": "eleven_multilingual_ttv_v2", "prompt": PROMPT},
        (
            "POST",
            "/v1/voices/preview",
            None,
            {"model": "eleven_multilingual_ttv_v2", "prompt": PROMPT},
        ),
    ),
    "routers.create": (
        {
            "slug": "prod-video",
            "settings": {
                "optimize_for": "quality",
                "max_credits_per_generation": {"video": 200},
                "models": {"ids": ["gen4.5", "veo3.1"], "mode": "allowlist_only"},
                "fallback": {"on_capacity": True},
            },
        },
        (
            "POST",
            "/v1/routers",
            None,
            {
                "slug": "prod-video",
                "settings": {
                    "optimizeFor": "quality",
                    "maxCreditsPerGeneration": {"video": 200},
                    "models": {"ids": ["gen4.5", "veo3.1"], "mode": "allowlist_only"},
                    "fallback": {"onCapacity": True},
                },
            },
        ),
    ),
    "routers.retrieve": ({"id": "r_1"}, ("GET", "/v1/routers/r_1", None, None)),
    "routers.update": (
        {"id": "r_1", "settings": {"max_credits_per_generation": {"video": None, "image": 5}}},
        (
            "PATCH",
            "/v1/routers/r_1",
            None,
            {"settings": {"maxCreditsPerGeneration": {"video": None, "image": 5}}},
        ),
    ),
    "routers.list": ({"limit": 3}, ("GET", "/v1/routers", {"limit": "3"}, None)),
    "routers.delete": ({"id": "r_1"}, ("DELETE", "/v1/routers/r_1", None, None)),
    "routers.list_requests": (
        {"id": "r_1", "limit": 3, "cursor": "x"},
        ("GET", "/v1/routers/r_1/requests", {"limit": "3", "cursor": "x"}, None),
    ),
    "workflows.list": ({}, ("GET", "/v1/workflows", None, None)),
    "workflows.retrieve": ({"id": "wf_1"}, ("GET", "/v1/workflows/wf_1", None, None)),
    "workflows.run": (
        {
            "id": "wf_1",
            "node_outputs": {
                "node-A1": {
                    "prompt_text": {"type": "primitive", "value": "a fox"},
                    "seedValue": {"type": "primitive", "value": 7},
                },
                "node_b": {"image_in": {"type": "image", "uri": IMAGE}},
            },
        },
        (
            "POST",
            "/v1/workflows/wf_1",
            None,
            {
                "nodeOutputs": {
                    "node-A1": {
                        "prompt_text": {"type": "primitive", "value": "a fox"},
                        "seedValue": {"type": "primitive", "value": 7},
                    },
                    "node_b": {"image_in": {"type": "image", "uri": IMAGE}},
                }
            },
        ),
    ),
    "workflow_invocations.retrieve": (
        {"id": "inv_1"},
        ("GET", "/v1/workflow_invocations/inv_1", None, None),
    ),
    "organization.webapp.list_usage": (
        {
            "from_": dt.date(2026, 7, 1),
            "to": dt.datetime(2026, 8, 1, 12, 30),
            "limit": 100,
            "workspace_ids": ["ws1", "ws2"],
            "organization_id": "org_1",
        },
        (
            "GET",
            "/v1/organization/webapp/usage",
            {
                "from": "2026-07-01",
                "to": "2026-08-01T12:30:00",
                "limit": "100",
                "workspaceIds": "ws1,ws2",
                "organizationId": "org_1",
            },
            None,
        ),
    ),
    "organization.webapp.audit_logs.list": (
        {
            "limit": 25,
            "actions": ("UserLogin", "AssetDeleted"),
            "actor_emails": "a@example.com,b@example.com",
            "from_": "2026-07-01T00:00:00Z",
        },
        (
            "GET",
            "/v1/organization/webapp/audit_logs",
            {
                "limit": "25",
                "actions": "UserLogin,AssetDeleted",
                "actorEmails": "a@example.com,b@example.com",
                "from": "2026-07-01T00:00:00Z",
            },
            None,
        ),
    ),
    "organization.webapp.audit_logs.retrieve": (
        {"event_id": "ev_1", "organization_id": "org_1"},
        (
            "GET",
            "/v1/organization/webapp/audit_logs/ev_1",
            {"organizationId": "org_1"},
            None,
        ),
    ),
    "uploads.create": (
        {"filename": "cat.png", "type": "ephemeral"},
        ("POST", "/v1/uploads", None, {"filename": "cat.png", "type": "ephemeral"}),
    ),
}


def rejects(endpoint: str, params: dict[str, Any], **kwargs: Any) -> InvalidRequestError:
    """Return the error ``to_request`` raises for these parameters."""
    with pytest.raises(InvalidRequestError) as info:
        to_request(endpoint, params, **kwargs)
    assert info.value.endpoint == endpoint
    return info.value


def with_(endpoint: str, **changes: Any) -> dict[str, Any]:
    """Return the valid parameters of ``endpoint`` with ``changes`` (None removes a key)."""
    params = dict(CALLS[endpoint][0])
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


class TestSpecData:
    def test_the_spec_lists_exactly_the_plain_endpoints(self) -> None:
        """The spec has the 37 plain endpoints of the reference's table, none of them tasks."""
        assert len(PLAIN_NAMES) == 37
        assert sorted(PLAIN_ENDPOINTS) == sorted(PLAIN_NAMES)
        assert not set(PLAIN_ENDPOINTS) & set(ENDPOINTS)
        assert sorted(CALLS) == sorted(PLAIN_NAMES)

    def test_paths_methods_and_idempotency(self) -> None:
        """Path placeholders are the path parameters; only POST is not idempotent."""
        for name, spec in PLAIN_ENDPOINTS.items():
            assert isinstance(spec, PlainEndpointSpec)
            assert spec.path.startswith("/v1/"), name
            assert set(re.findall(r"{(\w+)}", spec.path)) == set(spec.path_params.fields)
            assert spec.idempotent == (spec.method != "POST"), name
            assert (spec.body is None) == (spec.method in ("GET", "DELETE")), name
            assert spec.summary.endswith("."), name

    def test_paginated_lists_take_limit_and_cursor(self) -> None:
        """Section 14's lists are paginated, with a required limit and an optional cursor."""
        assert {n for n, s in PLAIN_ENDPOINTS.items() if s.paginated} == PAGINATED
        for name in PAGINATED:
            query = get_plain_endpoint(name).query.fields
            assert query["limit"].required, name
            assert query["limit"].type.minimum == 1, name
            assert not query["cursor"].required, name
        assert not get_plain_endpoint("workflows.list").paginated

    def test_required_members_follow_the_official_sdk(self) -> None:
        """documents.list requires limit, sort and order, as the official SDK's types do."""
        query = get_plain_endpoint("documents.list").query.fields
        assert [n for n, f in query.items() if f.required] == ["limit", "order", "sort"]
        body = get_plain_endpoint("avatars.create").body
        assert body is not None
        required = sorted(f.python_name for f in body.fields.values() if f.required)
        assert required == ["name", "personality", "reference_image", "voice"]

    def test_python_names_of_keywords(self) -> None:
        """Wire names that are Python keywords take the official SDK's trailing underscore."""
        assert get_plain_endpoint("voices.create").field("from_") is not None
        member = get_plain_endpoint("organization.webapp.list_usage").field("from")
        assert member is not None
        assert member.python_name == "from_"

    def test_unknown_endpoint_lists_the_known_ones(self) -> None:
        """An unknown plain endpoint raises InvalidRequestError listing the known names."""
        with pytest.raises(InvalidRequestError, match=r"Unknown endpoint 'avatar\.create'") as info:
            to_request("avatar.create", {})
        assert info.value.allowed is not None
        assert "avatars.create" in info.value.allowed


class TestValidCalls:
    @pytest.mark.parametrize("endpoint", PLAIN_NAMES)
    def test_a_valid_call_becomes_its_request(self, endpoint: str) -> None:
        """Method, path, query (strings) and body (wire names) of one call per endpoint."""
        params, (method, path, query, body) = CALLS[endpoint]
        request = to_request(endpoint, params)
        assert (request.method, request.path, request.query, request.body) == (
            method,
            path,
            query,
            body,
        )
        assert request.idempotent == (method != "POST")
        if request.query is not None:
            assert all(isinstance(v, str) for v in request.query.values())

    @pytest.mark.parametrize("endpoint", PLAIN_NAMES)
    def test_the_server_side_check_accepts_what_the_client_sends(self, endpoint: str) -> None:
        """validate_plain_wire finds no issue in the body and query to_request built."""
        request = to_request(endpoint, CALLS[endpoint][0])
        assert validate_plain_wire(endpoint, request.body, request.query) == []

    def test_none_and_not_given_leave_a_parameter_out(self) -> None:
        """None and NOT_GIVEN are left out; NULL is sent as null."""
        request = to_request("voices.update", {"id": "v", "name": None, "description": NOT_GIVEN})
        assert request.body == {}
        request = to_request("voices.update", {"id": "v", "description": NULL})
        assert request.body == {"description": None}

    def test_wire_names_are_accepted_too(self) -> None:
        """Top-level and nested wire names convert like their Python twins."""
        request = to_request(
            "avatars.create",
            {
                "name": "a",
                "personality": "p",
                "referenceImage": IMAGE,
                "voice": {"type": "runway-live-preset", "presetId": "max"},
            },
        )
        assert request.body["referenceImage"] == IMAGE
        assert request.body["voice"] == {"type": "runway-live-preset", "presetId": "max"}

    def test_path_parameters_are_percent_encoded(self) -> None:
        """An id with a slash or a query character stays one path segment."""
        assert to_request("avatars.retrieve", {"id": "a/b?c"}).path == "/v1/avatars/a%2Fb%3Fc"

    def test_an_empty_post_body_is_an_object(self) -> None:
        """workflows.run without overrides sends {} (a POST always has a JSON body)."""
        request = to_request("workflows.run", {"id": "wf_1"})
        assert (request.method, request.body) == ("POST", {})

    def test_loopback_media_only_when_allowed(self) -> None:
        """An http:// loopback image is refused unless allow_loopback_http is set."""
        params = with_("avatars.create", reference_image="http://127.0.0.1:8080/a.png")
        assert rejects("avatars.create", params).field == "reference_image"
        request = to_request("avatars.create", params, allow_loopback_http=True)
        assert request.body["referenceImage"] == "http://127.0.0.1:8080/a.png"


class TestInvalidCalls:
    def test_missing_required_member(self) -> None:
        """A missing required body member is named, before anything is sent."""
        error = rejects("avatars.create", with_("avatars.create", voice=None))
        assert error.field == "voice"
        assert "voice is required for avatars.create" in str(error)

    def test_missing_required_query_parameter(self) -> None:
        """documents.list without sort is refused, listing the allowed values."""
        error = rejects("documents.list", {"limit": 5, "order": "asc"})
        assert error.field == "sort"
        assert error.allowed == ("createdAt", "updatedAt")

    def test_bad_enum_in_a_nested_object(self) -> None:
        """A preset voice outside LiveVoiceId is refused, naming voice.preset_id."""
        voice = {"type": "runway-live-preset", "preset_id": "Leslie"}
        error = rejects("avatars.create", with_("avatars.create", voice=voice))
        assert error.field == "voice.preset_id"
        assert error.allowed is not None
        assert "clara" in error.allowed

    def test_bad_union_tag(self) -> None:
        """An avatar of an unknown type lists the allowed tags."""
        avatar = {"type": "preset", "preset_id": "influencer"}
        error = rejects("realtime_sessions.create", {"model": "gwm1_avatars", "avatar": avatar})
        assert error.field == "avatar.type"
        assert error.allowed == ("runway-preset", "custom")

    @pytest.mark.parametrize("endpoint", ["voices.preview", "voices.create"])
    def test_short_voice_prompt(self, endpoint: str) -> None:
        """A voice design prompt shorter than 20 characters is refused."""
        if endpoint == "voices.preview":
            params: dict[str, Any] = {"model": "eleven_ttv_v3", "prompt": "x" * 19}
            field = "prompt"
        else:
            source = {"type": "text", "model": "eleven_ttv_v3", "prompt": "x" * 19}
            params = {"name": "n", "from_": source}
            field = "from_.prompt"
        error = rejects(endpoint, params)
        assert error.field == field
        assert "at least 20 characters" in str(error)

    def test_bad_tool_name(self) -> None:
        """A realtime tool whose name starts with a digit is refused, naming tools[1].name."""
        params = with_("realtime_sessions.create")
        tools = [dict(t) for t in params["tools"]]
        tools[1]["name"] = "2nd_tool"
        error = rejects("realtime_sessions.create", {**params, "tools": tools})
        assert error.field == "tools[1].name"

    def test_bad_integration_url(self) -> None:
        """A LiveKit URL that is neither wss:// nor https:// is refused."""
        params = with_("realtime_sessions.create")
        integration = {**params["integration"], "url": "ws://lk.example.com"}
        error = rejects("realtime_sessions.create", {**params, "integration": integration})
        assert error.field == "integration.url"

    def test_date_range_over_90_days(self) -> None:
        """avatars.get_usage refuses a period longer than 90 days, naming end_date."""
        params = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}
        error = rejects("avatars.get_usage", params)
        assert error.field == "end_date"
        assert "at most 90 days" in str(error)
        params["end_date"] = "2026-04-01T00:00:00Z"  # exactly 90 days
        assert to_request("avatars.get_usage", params).query is not None

    def test_date_range_backwards(self) -> None:
        """avatars.get_usage refuses an end before (or at) the start."""
        params = {"start_date": dt.datetime(2026, 2, 1), "end_date": dt.date(2026, 2, 1)}
        error = rejects("avatars.get_usage", params)
        assert (error.field, "must be after start_date" in str(error)) == ("end_date", True)

    def test_date_range_compares_offsets(self) -> None:
        """Offsets count: 01:00+02:00 is before 00:00Z of the same day."""
        params = {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-02-01T01:00:00+02:00"}
        assert rejects("avatars.get_usage", params).field == "end_date"

    @pytest.mark.parametrize("text", ["yesterday", "2026-02-30", "2026-01-01T25:00", "01/02/2026"])
    def test_bad_iso_date(self, text: str) -> None:
        """A query date that is not ISO-8601 is refused, naming the Python parameter."""
        params = {"limit": 1, "from_": text, "to": "2026-03-01"}
        error = rejects("organization.webapp.list_usage", params)
        assert error.field == "from_"
        assert "ISO-8601" in str(error)

    def test_missing_required_date(self) -> None:
        """avatars.get_usage needs both dates."""
        error = rejects("avatars.get_usage", {"start_date": "2026-01-01T00:00:00Z"})
        assert error.field == "end_date"

    def test_comma_separated_lists_are_checked(self) -> None:
        """Audit actions must be known, and a list may hold at most 50 entries."""
        error = rejects("organization.webapp.audit_logs.list", {"limit": 5, "actions": ["Nope"]})
        assert error.field == "actions[0]"
        emails = [f"u{i}@example.com" for i in range(51)]
        error = rejects("organization.webapp.audit_logs.list", {"limit": 5, "actor_emails": emails})
        assert error.field == "actor_emails"

    def test_limit_must_be_a_positive_integer(self) -> None:
        """A limit of 0, a string or a bool is refused."""
        for bad in (0, "10", True):
            assert rejects("voices.list", {"limit": bad}).field == "limit"

    def test_update_needs_a_member(self) -> None:
        """avatars.update and documents.update need at least one member to change."""
        for endpoint in ("avatars.update", "documents.update"):
            error = rejects(endpoint, {"id": "x"})
            assert error.field is None
            assert "at least one of" in str(error)
            assert error.allowed is not None
            assert "name" in error.allowed

    def test_null_only_where_nullable(self) -> None:
        """NULL clears nullable members only; a nested None is refused elsewhere."""
        assert rejects("avatars.update", {"id": "a", "name": NULL}).field == "name"
        settings = {"max_credits_per_generation": {"video": None}}
        error = rejects("routers.create", {"slug": "s", "settings": settings})
        assert error.field == "settings.max_credits_per_generation.video"

    def test_unknown_parameter_suggests_the_close_one(self) -> None:
        """A misspelt parameter is named, with a suggestion and the allowed names."""
        error = rejects("avatars.list", {"limt": 5})
        assert error.field == "limt"
        assert "did you mean limit?" in str(error)
        assert error.allowed == ("cursor", "limit")

    def test_unknown_nested_member(self) -> None:
        """An unknown member of router settings is named with its path."""
        error = rejects("routers.create", {"slug": "s", "settings": {"optimise_for": "cost"}})
        assert error.field == "settings.optimise_for"

    def test_a_parameter_given_twice(self) -> None:
        """The same member under its Python and wire names is refused."""
        error = rejects("avatars.update", {"id": "a", "start_script": "x", "startScript": "y"})
        assert error.field == "start_script"

    @pytest.mark.parametrize("bad", ["", "..", ".", 5])
    def test_bad_path_parameter(self, bad: object) -> None:
        """An empty, dot or non-string id is refused before a path is built."""
        assert rejects("avatars.delete", {"id": bad}).field == "id"

    def test_missing_path_parameter(self) -> None:
        """A missing id is named."""
        error = rejects("organization.webapp.audit_logs.retrieve", {})
        assert error.field == "event_id"

    def test_media_uris_are_checked(self) -> None:
        """Node output URIs and voice audio are media URIs of their kind."""
        outputs = {"n": {"k": {"type": "video", "uri": "data:image/png;base64,AAAA"}}}
        error = rejects("workflows.run", {"id": "w", "node_outputs": outputs})
        assert error.field == "node_outputs.n.k.uri"
        source = {"type": "audio", "audio": "ftp://example.com/a.mp3"}
        error = rejects("voices.create", {"name": "n", "from_": source})
        assert error.field == "from_.audio"

    def test_parameters_must_be_a_mapping(self) -> None:
        """Anything but a mapping of parameters is refused."""
        with pytest.raises(InvalidRequestError, match="must be a mapping"):
            to_request("voices.list", [("limit", 5)])  # type: ignore[arg-type]


class TestServerSideValidation:
    def test_query_strings_are_read_by_type(self) -> None:
        """Received query strings are read as integers, lists and dates before checking."""
        issues = validate_plain_wire(
            "organization.webapp.audit_logs.list",
            None,
            {"limit": "abc", "actions": "UserLogin,Bogus", "to": "soon"},
        )
        assert [i.python_path for i in issues] == ["limit", "actions[1]", "to"]
        assert validate_plain_wire("voices.list", None, {"limit": "7"}) == []

    def test_every_issue_of_a_body_at_once(self) -> None:
        """A body with several problems gives one issue per problem, by wire path."""
        body = {"name": 5, "voice": {"type": "custom"}, "extra": 1}
        issues = validate_plain_wire("avatars.create", body)
        paths = sorted(i.path for i in issues)
        assert paths == sorted(
            [("extra",), ("personality",), ("referenceImage",), ("name",), ("voice", "id")]
        )

    def test_body_must_be_an_object(self) -> None:
        """A JSON array body is one issue; an absent optional body is an empty object."""
        assert [i.code for i in validate_plain_wire("documents.create", [1])] == ["invalid_type"]
        assert validate_plain_wire("workflows.run", None) == []
        assert [i.code for i in validate_plain_wire("documents.create", None)] == [
            "required",
            "required",
        ]

    def test_rules_between_parameters(self) -> None:
        """The 90-day rule and the one-member rule apply on the server side too."""
        query = {"startDate": "2026-01-01", "endDate": "2026-06-01"}
        issues = validate_plain_wire("avatars.get_usage", None, query)
        assert [(i.python_path, i.code) for i in issues] == [("end_date", "too_big")]
        issues = validate_plain_wire("documents.update", {})
        assert [i.code for i in issues] == ["required"]

    def test_unknown_endpoint(self) -> None:
        """An unknown endpoint raises InvalidRequestError."""
        with pytest.raises(InvalidRequestError):
            validate_plain_wire("nope.list", None)


class RecordingTransport:
    """A transport recording API requests and answering ``{}`` (only ``send`` is used)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(200, {}, {})

    def stream(self, url: str, **_options: object) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[AsyncRunway, RecordingTransport]]:
    transport = RecordingTransport()
    client = AsyncRunway(
        "key_plain", base_url="https://api.example", transport=cast("HTTPTransport", transport)
    )
    yield client, transport
    await client.aclose()


class TestThroughTheCore:
    async def test_core_call_sends_the_built_request(
        self, recorded: tuple[AsyncRunway, RecordingTransport]
    ) -> None:
        """Core.call sends the method, URL, query and JSON body to_request built."""
        client, transport = recorded
        core = core_of(client)
        await core.call("routers.list_requests", {"id": "r 1", "limit": 2, "cursor": None})
        await core.call("routers.update", {"id": "r", "settings": {"optimize_for": "cost"}})
        first, second = transport.requests
        assert (first.method, first.url) == ("GET", "https://api.example/v1/routers/r%201/requests")
        assert first.params == {"limit": "2"}
        assert first.json is None
        assert (second.method, second.json) == ("PATCH", {"settings": {"optimizeFor": "cost"}})

    async def test_an_invalid_call_sends_nothing(
        self, recorded: tuple[AsyncRunway, RecordingTransport]
    ) -> None:
        """Validation fails before any request."""
        client, transport = recorded
        with pytest.raises(InvalidRequestError):
            await core_of(client).call("documents.list", {"limit": 5})
        assert transport.requests == []
