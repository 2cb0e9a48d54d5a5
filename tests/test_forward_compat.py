"""Forward compatibility: unknown models, ``extra_body``/``extra_query`` and ``validate=False``.

Spec level (``to_wire``, ``to_request``, ``wire_body``) and emulator level (an emulator told
to accept a model its spec lacks), so that a model or option Runway ships between releases
is usable the day it ships.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from runway_async import (
    AsyncRunway,
    BadRequestError,
    InProcessLimiter,
    InvalidRequestError,
    PollConfig,
    UnknownModelWarning,
)
from runway_async._spec import forget_warned_models, get_endpoint, to_request, to_wire
from runway_async._upload import wire_body
from runway_async.emulator import Emulator, EmulatorConfig

from .emulator.conftest import HEADERS, FakeClock

IMAGE = "https://example.com/cat.png"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HINT = (
    "To send it anyway: extra_body={'ratio': '999:999'} for this call, or "
    "AsyncRunway(validate=False) / client.with_options(validate=False) to leave checking to "
    "the server."
)
VOICE_PROMPT = "a calm, warm narrator's voice with a slight rasp"


def gen45(**extra: Any) -> dict[str, Any]:
    """Return valid gen4.5 image_to_video parameters, updated with ``extra``."""
    params: dict[str, Any] = {
        "model": "gen4.5",
        "prompt_image": IMAGE,
        "prompt_text": "a cat",
        "ratio": "1280:720",
        "duration": 5,
    }
    params.update(extra)
    return params


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    """Let every unknown model warn again in each test (the registry is per process)."""
    forget_warned_models()
    yield
    forget_warned_models()


def unknown_model_warnings(record: list[warnings.WarningMessage]) -> list[UnknownModelWarning]:
    """Return the ``UnknownModelWarning`` instances among recorded warnings."""
    return [w.message for w in record if isinstance(w.message, UnknownModelWarning)]


class TestUnknownModel:
    def test_unknown_model_is_sent_with_one_warning(self) -> None:
        """An unknown model is converted, not refused, and warns naming model and endpoint."""
        with pytest.warns(UnknownModelWarning) as record:
            body = to_wire("image_to_video", gen45(model="gen5"))
        assert body == {
            "model": "gen5",
            "promptImage": IMAGE,
            "promptText": "a cat",
            "ratio": "1280:720",
            "duration": 5,
        }
        [warning] = unknown_model_warnings(list(record))
        assert (warning.model, warning.endpoint) == ("gen5", "image_to_video")
        text = str(warning)
        assert "'gen5'" in text
        assert "image_to_video" in text
        assert "warnings.filterwarnings" in text
        assert record[0].filename == __file__  # it points at the caller's line

    def test_warns_once_per_model_per_process(self) -> None:
        """The same model warns once, on any endpoint; another model warns once too."""
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            to_wire("image_to_video", gen45(model="gen5"))
            to_wire("image_to_video", gen45(model="gen5"))
            to_wire("text_to_video", {"model": "gen5", "prompt_text": "x", "ratio": "1:1"})
            to_wire("image_to_video", gen45(model="gen6"))
        assert [w.model for w in unknown_model_warnings(record)] == ["gen5", "gen6"]

    def test_ignored_warning_still_sends(self) -> None:
        """Silencing the warning as its message says leaves the call working."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UnknownModelWarning)
            assert to_wire("image_to_video", gen45(model="gen5"))["model"] == "gen5"

    def test_model_dependent_constraints_are_not_applied(self) -> None:
        """Enums, ranges and required members of known models do not bind an unknown one."""
        params = gen45(model="gen5", ratio="999:999", duration=60)
        del params["prompt_text"]
        with pytest.warns(UnknownModelWarning):
            body = to_wire("image_to_video", params)
        assert (body["ratio"], body["duration"]) == ("999:999", 60)
        assert "promptText" not in body

    def test_keys_convert_by_every_variants_members(self) -> None:
        """Members of any model convert to wire names, nested ones too."""
        params = gen45(
            model="gen5",
            prompt_image=[{"uri": IMAGE, "position": "last"}],
            negative_prompt="blur",  # not a gen4.5 member: veo3.1 has it
            content_moderation={"public_figure_threshold": "low"},
        )
        with pytest.warns(UnknownModelWarning):
            body = to_wire("image_to_video", params)
        assert body["promptImage"] == [{"uri": IMAGE, "position": "last"}]
        assert body["negativePrompt"] == "blur"
        assert body["contentModeration"] == {"publicFigureThreshold": "low"}

    def test_types_of_known_members_are_still_checked(self) -> None:
        """A known member of the wrong JSON type is refused, naming the model, without warning."""
        with pytest.raises(InvalidRequestError) as info:
            to_wire("image_to_video", gen45(model="gen5", seed="42"))
        assert info.value.field == "seed"
        assert "must be an integer for model 'gen5'" in str(info.value)
        assert "To send it anyway" not in str(info.value)

    def test_media_uris_are_still_checked(self) -> None:
        """A media member that no server could fetch is refused for an unknown model."""
        for bad in ("ftp://example.com/a.png", "https://127.0.0.1/a.png"):
            with pytest.raises(InvalidRequestError, match="is not a usable image URI") as info:
                to_wire("image_to_video", gen45(model="gen5", prompt_image=bad))
            assert info.value.field == "prompt_image"
        nested = {"model": "gen5", "prompt_text": "x", "reference_images": [{"uri": "ftp://x"}]}
        with pytest.raises(InvalidRequestError, match="for model 'gen5'") as info:
            to_wire("text_to_image", nested)
        assert info.value.field == "reference_images[0].uri"

    def test_unsendable_values_are_still_refused(self) -> None:
        """NaN and lone surrogates cannot be sent, whatever the model."""
        with pytest.raises(InvalidRequestError, match="lone surrogate"):
            to_wire("image_to_video", gen45(model="gen5", prompt_text="a\ud800"))

    def test_a_model_that_is_no_name_is_still_refused(self) -> None:
        """A non-string or blank model is an error listing every model, not an unknown one."""
        for bad in (5, "", "  "):
            with pytest.raises(InvalidRequestError) as info:
                to_wire("image_to_video", gen45(model=bad))
            assert info.value.field == "model"
            assert info.value.allowed == get_endpoint("image_to_video").models

    def test_a_recipe_mode_stays_closed(self) -> None:
        """Only endpoints told apart by model open up: a recipe's unknown mode is refused."""
        with pytest.raises(InvalidRequestError) as info:
            to_wire("recipes.multi_shot_video", {"mode": "manual", "prompt": "x"})
        assert info.value.field == "mode"
        assert "extra_body={'mode': 'manual'}" in str(info.value)

    def test_local_files_are_found_for_an_unknown_model(self, tmp_path: Path) -> None:
        """A local file in a media member of an unknown model is detected for upload."""
        path = tmp_path / "cat.png"
        path.write_bytes(PNG)
        with pytest.warns(UnknownModelWarning):
            body, files = wire_body("image_to_video", gen45(model="gen5", prompt_image=path))
        [(token, file)] = files.items()
        assert body["promptImage"] == token
        assert (file.path, file.kind, file.field) == (path, "image", "prompt_image")

    def test_local_file_outside_media_is_still_refused(self, tmp_path: Path) -> None:
        """A local file in a member no model takes media in is refused, unknown model or not."""
        path = tmp_path / "cat.png"
        path.write_bytes(PNG)
        with (
            pytest.warns(UnknownModelWarning),
            pytest.raises(InvalidRequestError, match="takes no media"),
        ):
            wire_body("image_to_video", gen45(model="gen5", prompt_text=path))


class TestSendAnywayHint:
    def test_out_of_enum_ratio_is_refused_with_the_hint(self) -> None:
        """A ratio outside gen4.5's enum is refused; the message says how to send it anyway."""
        with pytest.raises(InvalidRequestError) as info:
            to_wire("image_to_video", gen45(ratio="999:999"))
        error = info.value
        assert str(error) == (
            "ratio must be one of '1280:720', '720:1280', '1104:832', '960:960', '832:1104', "
            f"'1584:672' for model 'gen4.5' (got '999:999'). {HINT}"
        )
        assert error.field == "ratio"
        assert error.allowed is not None
        assert "1280:720" in error.allowed

    def test_ranges_and_unknown_fields_get_the_hint(self) -> None:
        """Out-of-range numbers and unknown fields say how to send them anyway."""
        with pytest.raises(InvalidRequestError, match=r"extra_body=\{'duration': 60\}"):
            to_wire("image_to_video", gen45(duration=60))
        with pytest.raises(InvalidRequestError, match=r"extra_body=\{'fps': 24\}") as info:
            to_wire("image_to_video", gen45(fps=24))
        assert info.value.field == "fps"

    def test_a_nested_value_names_the_whole_member(self) -> None:
        """A nested value's hint asks for its whole top-level member, by wire name."""
        params = gen45(prompt_image=[{"uri": IMAGE, "position": "middle"}])
        with pytest.raises(InvalidRequestError) as info:
            to_wire("image_to_video", params)
        assert "extra_body={'promptImage': ...} (the whole member, with wire names)" in str(
            info.value
        )

    def test_no_hint_where_sending_anyway_cannot_help(self) -> None:
        """Missing members, wrong types and unsendable text get no hint."""
        missing = gen45()
        del missing["ratio"]
        for params in (missing, gen45(duration="5"), gen45(prompt_text="a\udc00")):
            with pytest.raises(InvalidRequestError) as info:
                to_wire("image_to_video", params)
            assert "To send it anyway" not in str(info.value)

    def test_audit_log_action_hint_uses_extra_query(self) -> None:
        """A new audit-log action is refused with an extra_query hint that then works."""
        params = {"limit": 5, "actions": ["UserLogin", "BrandNewAction"]}
        with pytest.raises(InvalidRequestError) as info:
            to_request("organization.webapp.audit_logs.list", params)
        assert info.value.field == "actions[1]"
        assert "extra_query={'actions': 'UserLogin,BrandNewAction'} for this call" in str(
            info.value
        )
        request = to_request(
            "organization.webapp.audit_logs.list",
            {"limit": 5},
            extra_query={"actions": "UserLogin,BrandNewAction"},
        )
        assert request.query == {"limit": "5", "actions": "UserLogin,BrandNewAction"}


class TestExtraBody:
    def test_out_of_enum_ratio_passes_in_extra_body(self) -> None:
        """The refused ratio is sent as given when it comes in extra_body."""
        body = to_wire("image_to_video", gen45(), extra_body={"ratio": "999:999"})
        assert body == to_wire("image_to_video", gen45()) | {"ratio": "999:999"}

    def test_extra_body_overrides_a_converted_member(self) -> None:
        """A key in extra_body wins over the converted parameter, and its issue is dropped."""
        body = to_wire("image_to_video", gen45(ratio="999:999"), extra_body={"ratio": "960:960"})
        assert body["ratio"] == "960:960"
        body = to_wire("image_to_video", gen45(ratio="960:960"), extra_body={"ratio": "1:2"})
        assert body["ratio"] == "1:2"

    def test_required_member_given_only_in_extra_body(self) -> None:
        """A required member missing from the parameters is present through extra_body."""
        params = gen45()
        del params["prompt_text"]
        with pytest.raises(InvalidRequestError, match="is required"):
            to_wire("image_to_video", params)
        body = to_wire("image_to_video", params, extra_body={"promptText": "a dog"})
        assert body["promptText"] == "a dog"

    def test_new_members_are_sent_as_given(self) -> None:
        """Keys are wire names, not converted; nested values and None (null) are kept."""
        extra = {"newOption": {"snake_key": (1, 2)}, "seed": None}
        body = to_wire("image_to_video", gen45(seed=3), extra_body=extra)
        assert body["newOption"] == {"snake_key": [1, 2]}
        assert "seed" in body
        assert body["seed"] is None

    def test_extra_body_model_chooses_the_variant(self) -> None:
        """A model in extra_body picks the variant the parameters convert and check by."""
        params = gen45(ratio="1920:1080", audio=True, duration=4)  # veo3.1's ratio and member
        with pytest.raises(InvalidRequestError):
            to_wire("image_to_video", params)
        body = to_wire("image_to_video", params, extra_body={"model": "veo3.1"})
        assert (body["model"], body["ratio"], body["audio"]) == ("veo3.1", "1920:1080", True)
        extra = {"model": "veo3.1"}
        with pytest.raises(InvalidRequestError, match=r"for model 'veo3\.1'") as info:
            to_wire("image_to_video", gen45(ratio="1584:672", duration=4), extra_body=extra)
        assert info.value.field == "ratio"

    def test_unknown_model_in_extra_body_warns(self) -> None:
        """An unknown model given in extra_body is an unknown model like any other."""
        with pytest.warns(UnknownModelWarning, match="'gen5'"):
            body = to_wire("image_to_video", gen45(ratio="999:999"), extra_body={"model": "gen5"})
        assert (body["model"], body["ratio"]) == ("gen5", "999:999")

    def test_unsendable_extra_values_are_refused(self) -> None:
        """extra_body values must still be JSON: NaN, bytes and surrogates are refused."""
        for value in (float("nan"), b"raw", "a\ud800", {1: "x"}):
            with pytest.raises(InvalidRequestError, match="newOption") as info:
                to_wire("image_to_video", gen45(), extra_body={"newOption": value})
            assert "To send it anyway" not in str(info.value)
        with pytest.raises(InvalidRequestError, match="key that is not a string") as info:
            to_wire("image_to_video", gen45(), extra_body={1: "x"})
        assert "To send it anyway" not in str(info.value)

    def test_extra_body_must_be_a_mapping(self) -> None:
        """A non-mapping extra_body is a TypeError naming it."""
        with pytest.raises(TypeError, match="extra_body"):
            to_wire("image_to_video", gen45(), extra_body=[("ratio", "1:1")])  # type: ignore[arg-type]


class TestValidateFalse:
    def test_out_of_enum_ratio_passes(self) -> None:
        """validate=False sends the refused ratio, keys still converted."""
        body = to_wire("image_to_video", gen45(ratio="999:999"), validate=False)
        assert body == to_wire("image_to_video", gen45()) | {"ratio": "999:999"}

    def test_nothing_of_the_spec_is_checked(self) -> None:
        """Missing members, wrong types and bad media URIs all pass under validate=False."""
        params = {"model": "gen4.5", "prompt_image": "ftp://x", "duration": "long"}
        body = to_wire("image_to_video", params, validate=False)
        assert body == {"model": "gen4.5", "promptImage": "ftp://x", "duration": "long"}

    def test_unknown_model_does_not_warn(self) -> None:
        """An unknown model under validate=False converts by every variant, silently."""
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            body = to_wire(
                "image_to_video", gen45(model="gen5", negative_prompt="x"), validate=False
            )
        assert unknown_model_warnings(record) == []
        assert body["negativePrompt"] == "x"

    def test_unsendable_values_are_still_refused(self) -> None:
        """JSON cannot carry NaN or a lone surrogate, so validate=False still refuses them."""
        with pytest.raises(InvalidRequestError, match="finite number"):
            to_wire("image_to_video", gen45(duration=float("nan")), validate=False)
        with pytest.raises(InvalidRequestError, match="lone surrogate"):
            to_wire("image_to_video", gen45(prompt_text="\ud800"), validate=False)

    def test_local_files_are_still_found(self, tmp_path: Path) -> None:
        """Local files are detected and checked under validate=False too."""
        path = tmp_path / "cat.png"
        path.write_bytes(PNG)
        body, files = wire_body("image_to_video", gen45(prompt_image=path), validate=False)
        [(token, file)] = files.items()
        assert body["promptImage"] == token
        assert file.kind == "image"


class TestPlainEndpoints:
    def test_extra_query_merges_as_the_official_sdk_writes_it(self) -> None:
        """extra_query keys are wire names; lists comma-join, bools lower-case, None removes."""
        request = to_request(
            "organization.webapp.audit_logs.list",
            {"limit": 5, "cursor": "c1"},
            extra_query={
                "cursor": None,
                "newFilter": True,
                "tags": ["a", None, "b"],
                "range": {"min": 1},
                "empty": "",
            },
        )
        assert request.query == {
            "limit": "5",
            "newFilter": "true",
            "tags": "a,b",
            "range[min]": "1",
        }

    def test_required_query_member_given_only_in_extra_query(self) -> None:
        """A required query parameter is present through extra_query, unchecked."""
        with pytest.raises(InvalidRequestError, match="limit is required"):
            to_request("organization.webapp.audit_logs.list", {})
        request = to_request("organization.webapp.audit_logs.list", {}, extra_query={"limit": 0})
        assert request.query == {"limit": "0"}

    def test_extra_body_on_a_plain_endpoint(self) -> None:
        """A too-short prompt is refused with the hint, and passes in extra_body."""
        params = {"model": "eleven_ttv_v3", "prompt": "short"}
        with pytest.raises(InvalidRequestError, match=r"extra_body=\{'prompt': 'short'\}"):
            to_request("voices.preview", params)
        request = to_request("voices.preview", {"model": "eleven_ttv_v3"}, extra_body=params)
        assert request.body == params

    def test_extra_body_makes_a_body_where_there_is_none(self) -> None:
        """On a GET without a body, extra_body becomes the JSON body, as the official SDK does."""
        request = to_request(
            "organization.webapp.audit_logs.list", {"limit": 1}, extra_body={"x": 1}
        )
        assert request.body == {"x": 1}

    def test_validate_false_skips_query_and_body_checks(self) -> None:
        """validate=False sends out-of-range and out-of-enum values of plain endpoints."""
        request = to_request(
            "organization.webapp.audit_logs.list",
            {"limit": 0, "actions": ["BrandNewAction"]},
            validate=False,
        )
        assert request.query == {"limit": "0", "actions": "BrandNewAction"}

    def test_unknown_voice_model_warns_and_is_sent(self) -> None:
        """A member named model takes a name released after the spec, with one warning."""
        params = {"model": "eleven_ttv_v4", "prompt": VOICE_PROMPT}
        with pytest.warns(UnknownModelWarning, match="'eleven_ttv_v4'") as record:
            request = to_request("voices.preview", params)
        assert request.body == params
        assert record[0].filename == __file__
        nested = {
            "name": "N",
            "from_": {"type": "text", "model": "eleven_ttv_v5", "prompt": VOICE_PROMPT},
        }
        with pytest.warns(UnknownModelWarning, match="'eleven_ttv_v5'"):
            request = to_request("voices.create", nested)
        assert request.body["from"]["model"] == "eleven_ttv_v5"

    def test_other_enums_stay_closed(self) -> None:
        """Enums that are not model names are still enforced on plain endpoints."""
        with pytest.raises(InvalidRequestError) as info:
            to_request("voices.preview", {"model": 5, "prompt": VOICE_PROMPT})
        assert info.value.field == "model"

    def test_extra_query_must_be_a_mapping(self) -> None:
        """A non-mapping extra_query (or extra_body) is a TypeError naming it."""
        with pytest.raises(TypeError, match="extra_query"):
            to_request("organization.webapp.audit_logs.list", {"limit": 1}, extra_query="a=1")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="extra_body"):
            to_request("voices.preview", {"model": "eleven_ttv_v3"}, extra_body=3)  # type: ignore[arg-type]


# -- the emulator -----------------------------------------------------------------------------


class Raw:
    """Raw JSON requests to one emulator, the way any client would send a body."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, self.url + path, json=body, headers=HEADERS) as resp:
            return resp.status, await resp.json()


@pytest_asyncio.fixture
async def stepped() -> AsyncIterator[tuple[Emulator, FakeClock, Raw]]:
    """Start an emulator accepting gen5 on image_to_video, its time moved by hand."""
    clock = FakeClock()
    config = EmulatorConfig(
        concurrency={"gen5": 2},
        extra_models={"image_to_video": ["gen5"]},
        jitter=0.0,
        seed=3,
    )
    emulator = Emulator.from_config(config, clock=clock)
    async with emulator, aiohttp.ClientSession() as http:
        yield emulator, clock, Raw(http, emulator.url)


def gen5_body(**extra: Any) -> dict[str, Any]:
    """Return the wire body the client sends for gen5 (no warning: validation is off)."""
    return to_wire("image_to_video", gen45(model="gen5", **extra), validate=False)


@pytest.mark.asyncio
class TestEmulatorUnknownModels:
    async def test_accepted_model_runs_the_normal_lifecycle(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """A create of the accepted model is taken, runs, and succeeds with an output."""
        emulator, clock, raw = stepped
        status, created = await raw("POST", "/v1/image_to_video", gen5_body(ratio="999:999"))
        assert status == 200, created
        status, task = await raw("GET", f"/v1/tasks/{created['id']}")
        assert (status, task["status"]) == (200, "PENDING")
        clock.tick(1_000)
        status, task = await raw("GET", f"/v1/tasks/{created['id']}")
        assert task["status"] == "SUCCEEDED"
        assert len(task["output"]) == 1
        assert emulator.metrics()["tasks_created"] == {"gen5": 1}

    async def test_tier_lists_the_accepted_model(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """The organization's tier gives the accepted model its configured limit."""
        _, _, raw = stepped
        status, org = await raw("GET", "/v1/organization")
        assert status == 200
        assert org["tier"]["models"]["gen5"] == {
            "maxConcurrentGenerations": 2,
            "maxDailyGenerations": 10_000,
        }

    async def test_accepted_model_still_gets_light_checks(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """Types of known members and media URIs are still checked for an accepted model."""
        _, _, raw = stepped
        for body in (gen5_body(seed="x"), gen5_body(prompt_image="ftp://example.com/a.png")):
            status, reply = await raw("POST", "/v1/image_to_video", body)
            assert status == 400, body
            assert "gen5" in reply["error"]

    async def test_other_unknown_models_are_refused(
        self, stepped: tuple[Emulator, FakeClock, Raw]
    ) -> None:
        """A model neither known nor accepted gets 400 naming model, and no task."""
        emulator, _, raw = stepped
        status, reply = await raw("POST", "/v1/image_to_video", gen5_body() | {"model": "gen6"})
        assert status == 400
        assert reply["issues"][0]["path"] == ["model"]
        status, _ = await raw("POST", "/v1/text_to_video", {"model": "gen5", "promptText": "x"})
        assert status == 400  # accepted on image_to_video only
        assert emulator.metrics()["tasks_created_total"] == 0

    async def test_accept_model_at_run_time(self, stepped: tuple[Emulator, FakeClock, Raw]) -> None:
        """accept_model opens a model from then on; the tier lists it with the default limit."""
        emulator, _, raw = stepped
        body = gen5_body() | {"model": "gen6"}
        assert (await raw("POST", "/v1/image_to_video", body))[0] == 400
        emulator.accept_model("image_to_video", "gen6")
        emulator.accept_model("image_to_video", "gen6")  # twice changes nothing
        status, created = await raw("POST", "/v1/image_to_video", body)
        assert status == 200, created
        _, org = await raw("GET", "/v1/organization")
        assert org["tier"]["models"]["gen6"]["maxConcurrentGenerations"] == 5
        emulator.reset()  # tasks go, accepted models stay
        assert (await raw("POST", "/v1/image_to_video", body))[0] == 200


class TestEmulatorSettings:
    def test_extra_models_must_name_endpoints_that_take_a_model(self) -> None:
        """A recipe, an unknown endpoint or a blank name is refused with ValueError."""
        for bad in (
            {"recipes.product_ad": ["x"]},
            {"image_to_vid": ["x"]},
            {"image_to_video": [""]},
        ):
            with pytest.raises(ValueError, match="extra_models"):
                EmulatorConfig(extra_models=bad)
        with pytest.raises(ValueError, match="accept_model: models are accepted on task"):
            Emulator().accept_model("recipes.product_ad", "x")

    def test_a_lone_name_is_not_a_list(self) -> None:
        """extra_models values are lists of names: a lone string is a TypeError."""
        with pytest.raises(TypeError, match="list of model names"):
            EmulatorConfig(extra_models={"image_to_video": "gen5"})

    def test_default_accepts_nothing_extra(self) -> None:
        """By default no model beyond the spec's is accepted."""
        assert EmulatorConfig().extra_models == {}
        assert Emulator(extra_models={"image_to_video": ("gen5",)}).config.extra_models == {
            "image_to_video": ("gen5",)
        }


# -- through the client -----------------------------------------------------------------------


@pytest_asyncio.fixture
async def accepting() -> AsyncIterator[tuple[Emulator, AsyncRunway]]:
    """Start an emulator accepting gen5 (two at a time) and our client pointed at it."""
    emulator = Emulator(
        time_scale=0.002, seed=5, concurrency={"gen5": 2}, extra_models={"image_to_video": ["gen5"]}
    )
    async with (
        emulator,
        AsyncRunway(
            emulator.api_key, base_url=emulator.url, poll=PollConfig(interval=0.005), timeout=5.0
        ) as client,
    ):
        yield emulator, client


def creates(emulator: Emulator) -> dict[str, int]:
    """Return the emulator's replies to image_to_video creates, by status."""
    counts: dict[str, int] = emulator.metrics()["requests"].get("POST /v1/image_to_video", {})
    return counts


@pytest.mark.asyncio
class TestThroughTheClient:
    async def test_unknown_model_reaches_the_emulator_and_runs(
        self, accepting: tuple[Emulator, AsyncRunway]
    ) -> None:
        """A new model's creates warn once, are sized by the organization's tier, and succeed."""
        emulator, client = accepting
        params = gen45(model="gen5", ratio="999:999")
        with pytest.warns(UnknownModelWarning, match="'gen5'") as record:
            handles = await asyncio.gather(
                *(client.image_to_video.create(**params) for _ in range(3))
            )
        assert len(unknown_model_warnings(list(record))) == 1
        for handle in handles:
            task = await handle.wait_for_task_output(timeout=30)
            assert task.status == "SUCCEEDED"
        assert emulator.metrics()["tasks_created"] == {"gen5": 3}
        # The limiter read gen5's limit from the tier (before that read it allows one).
        limiter = client.limiter
        assert isinstance(limiter, InProcessLimiter)
        assert limiter.limit_for("gen5") == 2

    async def test_out_of_enum_ratio_is_refused_before_sending(
        self, accepting: tuple[Emulator, AsyncRunway]
    ) -> None:
        """The client refuses gen4.5's unknown ratio with the hint; nothing reaches the server."""
        emulator, client = accepting
        with pytest.raises(InvalidRequestError) as info:
            await client.image_to_video.create(**gen45(ratio="999:999"))
        assert str(info.value).endswith(HINT)
        assert creates(emulator) == {}

    async def test_the_ratio_is_sent_with_extra_body_or_validate_false(
        self, accepting: tuple[Emulator, AsyncRunway]
    ) -> None:
        """extra_body and validate=False let the ratio through: the server judges it (400)."""
        emulator, client = accepting
        with pytest.raises(BadRequestError, match="ratio"):
            await client.image_to_video.create(**gen45(), extra_body={"ratio": "999:999"})
        with pytest.raises(BadRequestError, match="ratio"):
            await client.with_options(validate=False).image_to_video.create(
                **gen45(ratio="999:999")
            )
        assert creates(emulator) == {"400": 2}
        # With a model the server takes that ratio for, the same call goes through.
        with pytest.warns(UnknownModelWarning) as record:
            handle = await client.image_to_video.create(
                **gen45(), extra_body={"model": "gen5", "ratio": "999:999"}
            )
        assert record[0].filename == __file__  # an awaited call: the warning names this line
        assert (await handle.wait_for_task_output(timeout=30)).status == "SUCCEEDED"


@pytest.mark.asyncio
class TestEmulatorControlRoute:
    async def test_accept_a_model_over_http(self) -> None:
        """POST /_emulator/models accepts a model for an emulator in another process."""
        async with Emulator(time_scale=0.002) as emulator, aiohttp.ClientSession() as http:
            raw = Raw(http, emulator.url)
            assert (await raw("POST", "/v1/image_to_video", gen5_body()))[0] == 400
            status, reply = await raw(
                "POST", "/_emulator/models", {"endpoint": "image_to_video", "model": "gen5"}
            )
            assert (status, reply) == (200, {"endpoint": "image_to_video", "models": ["gen5"]})
            assert (await raw("POST", "/v1/image_to_video", gen5_body()))[0] == 200
            status, reply = await raw(
                "POST", "/_emulator/models", {"endpoint": "recipes.product_ad", "model": "x"}
            )
            assert status == 400
            assert "accept_model" in reply["error"]
