"""The code generated from the spec: resource classes, types module, docs."""

from __future__ import annotations

import importlib.util
import inspect
import shutil
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest

from runway_async import NOT_GIVEN, TaskCreation, Timeout, types
from runway_async._options import CallOptions
from runway_async._resources import generation
from runway_async._resources._base import Resource, TaskCreatingResource
from runway_async._resources.generation import TextToImage
from runway_async._spec import ENDPOINTS, EndpointSpec, get_endpoint

from .test_spec import minimal_params

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "scripts" / "gen_endpoints.py"
GENERATED = [
    ROOT / "runway_async" / "_resources" / "generation.py",
    ROOT / "runway_async" / "types.py",
    ROOT / "docs" / "endpoints.md",
]

# The official Python SDK's resource classes and method names.
OFFICIAL_METHODS: dict[str, list[str]] = {
    "ImageToVideo": ["create"],
    "TextToVideo": ["create"],
    "VideoToVideo": ["create"],
    "TextToImage": ["create"],
    "CharacterPerformance": ["create"],
    "ImageUpscale": ["create"],
    "VideoUpscale": ["create"],
    "VideoToHdr": ["create"],
    "VideoToAudio": ["create"],
    "SoundEffect": ["create"],
    "TextToSpeech": ["create"],
    "SpeechToSpeech": ["create"],
    "VoiceDubbing": ["create"],
    "VoiceIsolation": ["create"],
    "AvatarVideos": ["create"],
    "Recipes": [
        "ad_localization",
        "marketing_stock_image",
        "multi_shot_video",
        "product_ad",
        "product_campaign_image",
        "product_swap",
        "product_ugc",
    ],
    "GenerateVideo": ["create"],
    "GenerateImage": ["create"],
    "GenerateAudio": ["create"],
}


def load_script(path: Path, name: str) -> ModuleType:
    """Import a script of scripts/ (not a package module) by path, as module ``name``."""
    if not path.is_file():
        pytest.skip(f"{path.name} is not in this source tree")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_generator() -> ModuleType:
    """Import scripts/gen_endpoints.py by path."""
    return load_script(GENERATOR, "gen_endpoints_under_test")


def ruff_available() -> bool:
    """Return whether a ruff the generator can run is installed."""
    beside = Path(sys.executable).with_name("ruff")
    return (
        beside.is_file()
        or importlib.util.find_spec("ruff") is not None
        or shutil.which("ruff") is not None
    )


def method_of(endpoint: str) -> tuple[type[Resource], str]:
    """Return the resource class and method name that call an endpoint."""
    if endpoint.startswith("recipes."):
        return generation.Recipes, endpoint.removeprefix("recipes.")
    if endpoint.startswith("generate."):
        kind = endpoint.removeprefix("generate.")
        return getattr(generation, f"Generate{kind.title()}"), "create"
    return generation.TASK_RESOURCES[endpoint], "create"


def expected_params(spec: EndpointSpec) -> dict[str, bool]:
    """Return the keyword names a method must take -> whether each is required."""
    stable = [v for v in spec.variants if not v.legacy]
    names: dict[str, bool] = {}
    if spec.discriminator is not None:
        names[spec.discriminator] = True
    for variant in spec.variants:
        for member in variant.fields.values():
            names[member.python_name] = all(
                (f := v.field(member.wire_name)) is not None and f.required for v in stable
            )
    return names


OPTION_NAMES = ("extra_headers", "extra_query", "extra_body", "timeout")


class RecordingCore:
    """Stands in for the core: records what the resources ask it to create."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.options: list[CallOptions | None] = []

    async def create_task(
        self, endpoint: str, params: dict[str, Any], *, options: CallOptions | None = None
    ) -> str:
        self.calls.append((endpoint, dict(params)))
        self.options.append(options)
        return f"handle-of-{endpoint}"


class TestGeneratedFiles:
    def test_generated_files_are_up_to_date(self) -> None:
        """Regenerating from api.json in memory reproduces the committed files exactly."""
        generator = load_generator()
        if not ruff_available():
            pytest.skip("ruff is needed to format the generated code")
        assert generator.check() == []

    @pytest.mark.parametrize("path", GENERATED, ids=lambda p: p.name)
    def test_files_say_they_are_generated(self, path: Path) -> None:
        """Each generated file's first line names the generator and the spec."""
        if not path.is_file() and path.suffix == ".md":
            pytest.skip("docs/ is not in this source tree")
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert "GENERATED by scripts/gen_endpoints.py" in first
        assert "runway_async/_spec/api.json" in first

    def test_docs_cover_every_endpoint_and_model(self) -> None:
        """docs/endpoints.md has a section per endpoint and per model."""
        if not GENERATED[2].is_file():
            pytest.skip("docs/ is not in this source tree")
        text = GENERATED[2].read_text(encoding="utf-8")
        for name, spec in ENDPOINTS.items():
            assert f"## `{name}`" in text
            assert f"`{spec.method} {spec.path}`" in text
            for value in spec.models:
                assert f"### `{name}` · {spec.discriminator} `{value}`" in text


class TestResourceClasses:
    def test_method_names_match_the_official_sdk(self) -> None:
        """Every resource class has exactly the official SDK's public method names."""
        for cls_name, methods in OFFICIAL_METHODS.items():
            cls = getattr(generation, cls_name)
            assert issubclass(cls, TaskCreatingResource)
            public = sorted(
                name
                for name, member in vars(cls).items()
                if not name.startswith("_") and inspect.isfunction(member)
            )
            assert public == sorted(methods), cls_name

    def test_task_resources_maps_client_attributes_to_classes(self) -> None:
        """TASK_RESOURCES names every client namespace, recipes and generate included."""
        expected = [n for n in ENDPOINTS if "." not in n] + ["recipes", "generate"]
        assert sorted(generation.TASK_RESOURCES) == sorted(expected)
        assert generation.TASK_RESOURCES["recipes"] is generation.Recipes
        assert generation.TASK_RESOURCES["generate"] is generation.Generate
        assert all(issubclass(c, Resource) for c in generation.TASK_RESOURCES.values())

    def test_generate_namespace_has_video_image_audio(self) -> None:
        """client.generate has video, image and audio namespaces, each with create()."""
        client = RecordingCore()
        namespace = generation.Generate(client)  # type: ignore[arg-type]
        assert isinstance(namespace.video, generation.GenerateVideo)
        assert isinstance(namespace.image, generation.GenerateImage)
        assert isinstance(namespace.audio, generation.GenerateAudio)

    @pytest.mark.parametrize("endpoint", list(ENDPOINTS))
    def test_parameters_match_the_spec(self, endpoint: str) -> None:
        """Parameters are keyword-only, named as in the spec, required only when all need them."""
        spec = get_endpoint(endpoint)
        cls, name = method_of(endpoint)
        signature = inspect.signature(getattr(cls, name))
        params = [p for p in signature.parameters.values() if p.name != "self"]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
        # The official SDK's per-call options come last, in its order, after the spec's own.
        assert [p.name for p in params[-len(OPTION_NAMES) :]] == list(OPTION_NAMES)
        assert [p.default for p in params[-len(OPTION_NAMES) :]] == [None, None, None, NOT_GIVEN]
        params = params[: -len(OPTION_NAMES)]
        expected = expected_params(spec)
        assert {p.name: p.default is inspect.Parameter.empty for p in params} == expected
        assert all(p.default is None for p in params if not expected[p.name])
        if spec.discriminator is not None:
            assert params[0].name == spec.discriminator

    @pytest.mark.parametrize("endpoint", list(ENDPOINTS))
    def test_annotations_resolve(self, endpoint: str) -> None:
        """Every annotation of a generated method resolves at run time."""
        cls, name = method_of(endpoint)
        hints = typing.get_type_hints(getattr(cls, name))
        assert hints["return"] is TaskCreation

    @pytest.mark.parametrize("endpoint", list(ENDPOINTS))
    def test_docstrings_document_every_parameter(self, endpoint: str) -> None:
        """Each method's docstring has a summary, every parameter under Args, Returns, Raises."""
        spec = get_endpoint(endpoint)
        cls, name = method_of(endpoint)
        doc = inspect.getdoc(getattr(cls, name))
        assert doc is not None
        assert doc.splitlines()[0] == spec.summary
        for parameter in expected_params(spec):
            assert f"\n    {parameter}: " in doc
        assert "\nReturns:\n" in doc
        assert "\nRaises:\n" in doc
        assert "InvalidRequestError" in doc

    @pytest.mark.asyncio
    @pytest.mark.parametrize("endpoint", list(ENDPOINTS))
    async def test_methods_pass_their_endpoint_and_parameters(self, endpoint: str) -> None:
        """A call hands its endpoint name and every keyword (None when omitted) to the client."""
        spec = get_endpoint(endpoint)
        client = RecordingCore()
        cls, name = method_of(endpoint)
        resource = cls(client)  # type: ignore[arg-type]
        params = minimal_params(spec, spec.variants[0])
        creation = getattr(resource, name)(**params)
        assert isinstance(creation, TaskCreation)
        assert client.calls == []  # nothing is sent before it is awaited
        result = await creation
        assert result == f"handle-of-{endpoint}"
        [(sent_endpoint, sent)] = client.calls
        assert sent_endpoint == endpoint
        assert set(sent) == set(expected_params(spec))
        assert {k: v for k, v in sent.items() if v is not None} == params
        assert client.options == [None]  # no option given: nothing extra travels

    async def test_options_reach_the_core(self) -> None:
        """The per-call options travel to the core as one ``CallOptions``."""
        client = RecordingCore()
        resource = TextToImage(client)  # type: ignore[arg-type]
        await resource.create(
            model="gen4_image",
            prompt_text="x",
            ratio="1920:1080",
            extra_headers={"X-A": "1"},
            extra_query={"q": 1},
            extra_body={"seed": 3},
            timeout=4.0,
        )
        assert client.options == [
            CallOptions(
                extra_headers={"X-A": "1"},
                extra_query={"q": 1},
                extra_body={"seed": 3},
                timeout=Timeout(total=4.0, connect=4.0),
            )
        ]


class TestTypesModule:
    def test_all_is_sorted_and_complete(self) -> None:
        """types.__all__ is sorted and lists every public alias and TypedDict."""
        public = {
            name
            for name, value in vars(types).items()
            if not name.startswith("_")
            and (typing.is_typeddict(value) or typing.get_origin(value) is not None)
            and getattr(value, "__module__", types.__name__) == types.__name__
        }
        assert public <= set(types.__all__)
        assert set(types.__all__) <= set(vars(types))
        assert list(types.__all__) == sorted(types.__all__)

    def test_model_aliases_list_the_spec_models(self) -> None:
        """Each endpoint's model Literal holds its models, legacy ones included."""
        assert get_args(types.ImageToVideoModel) == get_endpoint("image_to_video").models
        assert get_args(types.TextToImageModel) == get_endpoint("text_to_image").models
        assert get_args(types.MultiShotVideoMode) == ("auto", "custom")

    def test_shared_enums_are_named_once(self) -> None:
        """The reference's named enums are aliases reused where the values appear."""
        assert len(get_args(types.ElevenVoiceId)) == 49
        assert len(get_args(types.LiveVoiceId)) == 30
        assert len(get_args(types.AvatarPresetId)) == 9
        assert len(get_args(types.VideoOutputFormat)) == 12
        hints = typing.get_type_hints(types.RunwayPresetVoice, include_extras=True)
        assert get_args(hints["preset_id"]) == (types.ElevenVoiceId,)

    def test_typeddicts_use_snake_case_keys(self) -> None:
        """TypedDict keys are the official SDK's snake_case names; required keys are marked."""
        assert types.RunwayPresetVoice.__required_keys__ == {"type", "preset_id"}
        assert types.KeyframeRange.__required_keys__ == {"start_seconds", "end_seconds"}
        assert types.ContentModeration.__optional_keys__ == {"public_figure_threshold"}
        assert set(types.GenerateVideoInput.__annotations__) >= {
            "prompt_text",
            "reference_images",
            "aspect_ratio",
        }

    def test_variant_shapes_are_merged_into_unions(self) -> None:
        """A field shaped differently by different models gets one union type."""
        hints = typing.get_type_hints(generation.TextToSpeech.create)
        voice = set(get_args(hints["voice"]))
        assert {types.RunwayPresetVoice, types.ReferenceAudioVoice} <= voice
        hints = typing.get_type_hints(generation.ImageToVideo.create)
        assert str in get_args(hints["prompt_image"])
