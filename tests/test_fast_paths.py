"""The request path's fast paths give exactly the answers of the general code they skip.

Each shortcut taken for the common case (a plain ``str`` or ``dict``, an API-shaped
timestamp, a task id that needs no escaping, a repeated media URL, the base URL's origin, one
read of the proxy environment) is checked against the code it replaces, on ordinary and on
awkward inputs.
"""

from __future__ import annotations

import collections
import ipaddress
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

import pytest

from runway_async import InvalidRequestError, ResponseValidationError, RetryConfig, Timeout
from runway_async._config import may_be_ip_address
from runway_async._convert import structure_task
from runway_async._http import Request, Response
from runway_async._models import bind_client, bind_fresh
from runway_async._models.task import task_path
from runway_async._requester import APIRequester
from runway_async._spec import ENDPOINTS, get_endpoint, to_wire
from runway_async._spec._media import _media_problem, media_problem
from runway_async._spec._validate import is_mapping, is_sequence
from runway_async._transport import _api_proxy, _env_proxy, _proxy_for

from .conftest import API_KEY

RUNNING = {"id": "t-1", "status": "RUNNING", "createdAt": "2026-12-02T13:59:59.123Z"}


class _Seq(Sequence[Any]):
    def __init__(self, *items: Any) -> None:
        self._items = items

    def __getitem__(self, index: Any) -> Any:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)


class _Map(Mapping[str, Any]):
    def __init__(self, **items: Any) -> None:
        self._items = items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class _Str(str):
    __slots__ = ()


class _List(list[Any]):
    pass


class TestContainerChecks:
    """is_sequence and is_mapping answer by exact type first, by ABC for everything else."""

    @pytest.mark.parametrize(
        "value",
        [
            [1],
            (1,),
            _List([1]),
            _Seq(1, 2),
            range(3),
            "abc",
            _Str("abc"),
            b"abc",
            bytearray(b"abc"),
            {"a": 1},
            _Map(a=1),
            MappingProxyType({"a": 1}),
            collections.OrderedDict(a=1),
            collections.UserDict(a=1),
            5,
            2.5,
            True,
            None,
            {1, 2},
        ],
        ids=repr,
    )
    def test_same_answer_as_the_abc_checks(self, value: object) -> None:
        """A value is an array or an object exactly when the ABC checks say so."""
        sequence = isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))
        assert is_sequence(value) is sequence
        assert is_mapping(value) is isinstance(value, Mapping)

    def test_user_defined_containers_convert(self) -> None:
        """Parameters given as a user-defined Sequence and Mapping still become JSON."""
        image = _Map(uri="https://example.com/a.png", position="first")
        body = to_wire(
            "image_to_video",
            {
                "model": "gen4_turbo",
                "prompt_image": _Seq(image),
                "ratio": "1280:720",
                "content_moderation": collections.UserDict(public_figure_threshold="low"),
            },
        )
        assert body["promptImage"] == [{"uri": "https://example.com/a.png", "position": "first"}]
        assert type(body["promptImage"][0]) is dict
        assert body["contentModeration"] == {"publicFigureThreshold": "low"}

    def test_a_member_given_twice_is_still_refused(self) -> None:
        """A scalar member under its Python and its wire name raises, naming both."""
        params = {"model": "gen4_turbo", "prompt_image": "https://example.com/a.png"}
        with pytest.raises(InvalidRequestError, match="given twice, as 'prompt_text'"):
            to_wire("image_to_video", {**params, "prompt_text": "a", "promptText": "b"})


class TestMediaChecks:
    """A media URI's verdict is the same whether it is computed or remembered."""

    URIS = (
        "https://example.com/a.png",
        "http://example.com/a.png",
        "http://127.0.0.1:8000/a.png",
        "https://127.1/a.png",
        "https://0x7f.0.0.1/a.png",
        "https://[::1]/a.png",
        "https://2130706433/a.png",
        "https://\uff11\uff12\uff17.0.0.1/a.png",
        "https://localhost./a.png",
        "https://user:pw@example.com/a.png",
        "https://example.com:0/a.png",
        "https://example.com/a b.png",
        "runway://abc",
        "data:image/png;base64,AAAA",
        "data:video/mp4;base64,AAAA",
    )

    @pytest.mark.parametrize("uri", URIS)
    @pytest.mark.parametrize("kind", ["image", "video", None])
    @pytest.mark.parametrize("loopback", [False, True])
    def test_cached_verdict_matches_a_fresh_one(
        self, uri: str, kind: str | None, loopback: bool
    ) -> None:
        """Asked twice, in any order of flags, the answer is the computed one."""
        for _ in range(2):
            assert media_problem(uri, kind, allow_loopback_http=loopback) == _media_problem(
                uri, kind, loopback
            )

    def test_flags_are_part_of_the_answer(self) -> None:
        """A loopback URL accepted for the emulator is still refused without the flag."""
        uri = "http://127.0.0.1:8000/frame.png"
        assert media_problem(uri, "image", allow_loopback_http=True) is None
        assert media_problem(uri, "image") == "plain http:// URLs are not accepted; use https://"

    @pytest.mark.parametrize(
        "host",
        [
            "example.com",
            "127.0.0.1",
            "127.1",
            "::1",
            "fe80::1%eth0",
            "0x7f.0.0.1",
            "2130706433",
            "1.2.3.4.5",
            "\u0661\u0662\u0667.0.0.1",
            "\uff11\uff12\uff17.0.0.1",
            "",
            "...",
            "01.02.03.04",
        ],
    )
    def test_the_ip_pretest_never_hides_an_address(self, host: str) -> None:
        """Whatever ipaddress reads as an address passes the cheap pretest."""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return
        assert may_be_ip_address(host)


class TestTimestamps:
    """The API's own timestamp form is read directly, everything else as before."""

    def test_api_form(self) -> None:
        """2026-12-02T13:59:59.123Z is 123 ms past the second, in UTC."""
        task = structure_task(RUNNING)
        assert task.created_at == datetime(2026, 12, 2, 13, 59, 59, 123000, tzinfo=timezone.utc)
        assert task.created_at.utcoffset() is not None

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-12-02T13:59:59.1234567Z", datetime(2026, 12, 2, 13, 59, 59, 123456)),
            ("2026-12-02T13:59:59Z", datetime(2026, 12, 2, 13, 59, 59)),
            ("2026-12-02T13:59:59.1Z", datetime(2026, 12, 2, 13, 59, 59, 100000)),
            ("2026-12-02T13:59:59.123z", datetime(2026, 12, 2, 13, 59, 59, 123000)),
            ("2026-12-02 13:59:59.123Z", datetime(2026, 12, 2, 13, 59, 59, 123000)),
            ("2026-12-02T13:59:59.123", datetime(2026, 12, 2, 13, 59, 59, 123000)),
        ],
    )
    def test_other_forms(self, text: str, expected: datetime) -> None:
        """Other precisions, a lower-case z, a space, no offset: all read as UTC."""
        task = structure_task({**RUNNING, "createdAt": text})
        assert task.created_at == expected.replace(tzinfo=timezone.utc)

    def test_an_invalid_api_shaped_timestamp_is_worded_as_before(self) -> None:
        """Month 13 in the API's form gets the general path's message."""
        with pytest.raises(ResponseValidationError) as info:
            structure_task({**RUNNING, "createdAt": "2026-13-02T13:59:59.123Z"})
        assert "invalid ISO-8601 timestamp '2026-13-02T13:59:59.123Z' @ $.createdAt" in str(
            info.value
        )


class TestTaskPaths:
    """A task id made only of unreserved characters is used as is; others are escaped."""

    @pytest.mark.parametrize(
        "task_id",
        [
            "0f3c2a4e-9b1d-4c7e-8a2f-5d6b7c8e9f01",
            "a_b.c~d",
            "a/b",
            "a b",
            "a%2Fb",
            "é",
            "a\nb",
            "?#",
            "..",
        ],
    )
    def test_same_as_quote(self, task_id: str) -> None:
        """The path is what urllib.parse.quote(id, safe='') makes of the id."""
        assert task_path(task_id) == "/v1/tasks/" + urllib.parse.quote(task_id, safe="")

    def test_empty_id_is_refused(self) -> None:
        """An empty id still raises."""
        with pytest.raises(ValueError, match="non-empty string"):
            task_path("")


class TestBinding:
    """A task fresh from a reply is bound in place; any other is copied."""

    def test_bind_fresh_binds_in_place(self) -> None:
        """The same object comes back, bound, equal and hashing as the unbound parse."""
        unbound = structure_task(RUNNING)
        task = structure_task(RUNNING)
        waiter = object()
        assert bind_fresh(task, waiter) is task  # type: ignore[arg-type]
        assert task == unbound
        assert hash(task) == hash(unbound)
        assert task == bind_client(unbound, waiter)  # type: ignore[arg-type]


class TestEndpointSpecs:
    """Endpoint specs are built on first use, once."""

    def test_one_object_per_endpoint(self) -> None:
        """get_endpoint and ENDPOINTS hand out the same spec object."""
        assert get_endpoint("image_to_video") is ENDPOINTS["image_to_video"]
        assert get_endpoint("text_to_image") is get_endpoint("text_to_image")
        assert "image_to_video" in ENDPOINTS
        assert len(ENDPOINTS) == len(list(ENDPOINTS)) == len(dict(ENDPOINTS.items()))

    @pytest.mark.parametrize("name", ["nope", 5, None])
    def test_unknown_endpoint(self, name: Any) -> None:
        """An unknown (or non-string) name raises with the known names listed."""
        with pytest.raises(InvalidRequestError, match="Unknown endpoint") as info:
            get_endpoint(name)
        assert "image_to_video" in (info.value.allowed or ())
        with pytest.raises(KeyError):
            ENDPOINTS[name]


class _Recorder:
    """A transport that records each request and answers 200 ``{}``."""

    closed = False

    def __init__(self) -> None:
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        return Response(status=200, headers={}, data={})

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


class TestRequesterHeaders:
    """The requester's headers are built once, read-only, and never shown."""

    async def test_every_request_sends_the_same_read_only_headers(self) -> None:
        """A transport cannot change what later requests send; no repr shows the key."""
        transport = _Recorder()
        requester = APIRequester(
            transport=transport,
            base_url="https://api.example.test",
            api_key=API_KEY,
            runway_version="2024-11-06",
            timeout=Timeout(total=5),
            retry=RetryConfig(max_retries=0),
            default_headers={"X-Trace": "1"},
        )
        await requester.request("GET", "/v1/organization")
        first = transport.requests[0].headers
        with pytest.raises(TypeError):
            first["Authorization"] = "Bearer stolen"  # type: ignore[index]
        await requester.request("GET", "/v1/organization")
        second = transport.requests[1].headers
        assert dict(second) == dict(first)
        assert second["Authorization"] == f"Bearer {API_KEY}"
        assert second["X-Trace"] == "1"
        assert API_KEY not in repr(requester)
        assert API_KEY not in repr(vars(requester))


def _reference_proxy(scheme: str, host: str) -> str | None:
    """Return the proxy the two stdlib calls the transport used to make choose for ``host``."""
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(scheme)


class TestProxies:
    """One read of the proxy environment answers as proxy_bypass and getproxies did."""

    ENVIRONMENTS: tuple[dict[str, str], ...] = (
        {},
        {"HTTPS_PROXY": "http://proxy.test:3128"},
        {"https_proxy": "http://lower.test:1", "HTTPS_PROXY": "http://upper.test:2"},
        {"HTTPS_PROXY": "http://proxy.test:3128", "NO_PROXY": "api.example.test"},
        {"HTTPS_PROXY": "http://proxy.test:3128", "NO_PROXY": ".example.test"},
        {"HTTPS_PROXY": "http://proxy.test:3128", "no_proxy": "*"},
        {"HTTP_PROXY": "http://proxy.test:3128", "REQUEST_METHOD": "GET"},
        {"ALL_PROXY": "http://proxy.test:3128"},
        {"HTTPS_PROXY": "", "https_proxy": "http://lower.test:1"},
    )

    @pytest.mark.parametrize("env", ENVIRONMENTS, ids=repr)
    @pytest.mark.parametrize(
        "url",
        [
            "https://api.example.test/v1/tasks/1",
            "http://api.example.test/v1/tasks/1",
            "https://other.test/v1/x?y=/z",
            "https://other.test?y=/z",
            "HTTPS://API.EXAMPLE.TEST:443/v1",
            "https://user@api.example.test/v1",
            "http://127.0.0.1:8000/v1/tasks/1",
            "http://[::1]:8000/v1/tasks/1",
            "http://localhost:8000/v1",
        ],
    )
    def test_same_proxy_as_the_stdlib_calls(
        self, env: dict[str, str], url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """API requests and downloads get the proxy the stdlib's two calls chose."""
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "REQUEST_METHOD"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        loopback = host in ("127.0.0.1", "::1", "localhost")
        expected = None if loopback else _reference_proxy(parts.scheme, host)
        assert _api_proxy(url).url == expected
        assert _env_proxy(url).url == expected

    def test_system_settings_are_asked_when_the_environment_is_silent(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Where getproxies is not the environment's (macOS, Windows), it is still asked."""
        monkeypatch.setattr(
            urllib.request, "getproxies", lambda: {"https": "http://system.test:8080"}
        )
        monkeypatch.setattr(urllib.request, "proxy_bypass", lambda host: host == "skip.test")
        assert _proxy_for("https", "api.example.test").url == "http://system.test:8080"
        assert _proxy_for("https", "skip.test").url is None
