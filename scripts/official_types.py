"""The official SDK's type names in ``runway_async.types``: which of ours each one is.

``scripts/gen_endpoints.py`` calls this module to write the last section of
``runway_async/types.py`` and ``docs/official-names.md``. The input is the committed table
``scripts/official_names.json`` (every public type name of ``runwayml.types`` and
``runwayml.lib.polling``, by module; ``scripts/extract_official_names.py`` writes it), the
generator's model of the spec, and the hand-written resources' signatures (read with ``ast``).

The namespace is flat: every official name imports from ``runway_async.types``. What each one
is comes from the rules below (a name in a module -> one of ours), so
``from runwayml.types.character_performance_create_params import CharacterImage`` becomes
``from runway_async.types import CharacterImage``. When one name means different things in
different official modules:

* when all of them are TypedDicts (or unions of TypedDicts), the flat name is one TypedDict
  accepting every one of them: one of ours that covers the others, or a merged TypedDict (every
  key of each, required only when all require it), since TypedDicts are plain dicts at run time;
* otherwise (response classes) the flat name goes to the TypedDict meaning or to ``PRIMARY``,
  and each other module's meaning is importable as ``<Module><Name>`` (``VoiceRetrieveResponse``
  + ``Failed`` = ``VoiceRetrieveResponseFailed``), listed in the docs;
* a name that ``types`` already defines from the spec keeps its meaning when it accepts the
  official one; otherwise the official meaning also gets the ``<Module><Name>`` spelling.

Every rule must match something and every official name must match a rule, so the mapping
cannot silently rot when the SDK changes: the generator fails instead.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "scripts" / "official_names.json"
RESOURCES = ROOT / "runway_async" / "_resources"
TYPES = "runwayml.types"
PARAMS = "@params"  # target: the TypedDict of the call's keywords, named as the official one
OPTIONS = {"extra_headers", "extra_query", "extra_body", "timeout"}  # per-call, not parameters

# --------------------------------------------------------------------------------------------
# Which call each official params module describes
# --------------------------------------------------------------------------------------------

# Official params module (below runwayml.types) -> the client call whose keywords it lists.
CALLS = {
    "avatar_conversation_list_params": "avatar_conversations.list",
    "avatar_create_params": "avatars.create",
    "avatar_get_usage_params": "avatars.get_usage",
    "avatar_list_params": "avatars.list",
    "avatar_update_params": "avatars.update",
    "avatar_video_create_params": "avatar_videos.create",
    "character_performance_create_params": "character_performance.create",
    "document_create_params": "documents.create",
    "document_list_params": "documents.list",
    "document_update_params": "documents.update",
    "generate.audio_create_params": "generate.audio.create",
    "generate.image_create_params": "generate.image.create",
    "generate.video_create_params": "generate.video.create",
    "image_to_video_create_params": "image_to_video.create",
    "image_upscale_create_params": "image_upscale.create",
    "organization.webapp.audit_log_list_params": "organization.webapp.audit_logs.list",
    "organization.webapp.audit_log_retrieve_params": "organization.webapp.audit_logs.retrieve",
    "organization.webapp_list_usage_params": "organization.webapp.list_usage",
    "organization_retrieve_usage_params": "organization.retrieve_usage",
    "realtime_session_create_params": "realtime_sessions.create",
    "recipe_ad_localization_params": "recipes.ad_localization",
    "recipe_marketing_stock_image_params": "recipes.marketing_stock_image",
    "recipe_multi_shot_video_params": "recipes.multi_shot_video",
    "recipe_product_ad_params": "recipes.product_ad",
    "recipe_product_campaign_image_params": "recipes.product_campaign_image",
    "recipe_product_swap_params": "recipes.product_swap",
    "recipe_product_ugc_params": "recipes.product_ugc",
    "router_create_params": "routers.create",
    "router_list_params": "routers.list",
    "router_list_requests_params": "routers.list_requests",
    "router_update_params": "routers.update",
    "sound_effect_create_params": "sound_effect.create",
    "speech_to_speech_create_params": "speech_to_speech.create",
    "text_to_image_create_params": "text_to_image.create",
    "text_to_speech_create_params": "text_to_speech.create",
    "text_to_video_create_params": "text_to_video.create",
    "video_to_audio_create_params": "video_to_audio.create",
    "video_to_hdr_create_params": "video_to_hdr.create",
    "video_to_video_create_params": "video_to_video.create",
    "video_upscale_create_params": "video_upscale.create",
    "voice_create_params": "voices.create",
    "voice_dubbing_create_params": "voice_dubbing.create",
    "voice_isolation_create_params": "voice_isolation.create",
    "voice_list_params": "voices.list",
    "voice_preview_params": "voices.preview",
    "voice_update_params": "voices.update",
    "workflow_run_params": "workflows.run",
}

# The hand-written resources (client attribute path -> file of _resources, class).
PLAIN_RESOURCES = {
    "avatar_conversations": ("avatar_conversations.py", "AvatarConversations"),
    "avatars": ("avatars.py", "Avatars"),
    "documents": ("documents.py", "Documents"),
    "organization": ("organization.py", "Organization"),
    "organization.webapp": ("webapp.py", "Webapp"),
    "organization.webapp.audit_logs": ("webapp.py", "AuditLogs"),
    "realtime_sessions": ("realtime_sessions.py", "RealtimeSessions"),
    "routers": ("routers.py", "Routers"),
    "voices": ("voices.py", "Voices"),
    "workflows": ("workflows.py", "Workflows"),
}

# --------------------------------------------------------------------------------------------
# Rules: (official module pattern, name pattern, target); the first match wins
# --------------------------------------------------------------------------------------------

# A target is an expression in types.py: one of its names, ``A | B``, ``_models.X``
# (``runway_async.X``), ``_handles.X``, ``_exceptions.X``, or PARAMS.
TASK_CREATES = (
    "*_to_*_create_params",
    "character_performance_create_params",
    "image_upscale_create_params",
    "sound_effect_create_params",
    "video_upscale_create_params",
    "voice_dubbing_create_params",
    "voice_isolation_create_params",
)
TOOL_PARAMETERS = (
    "StringToolParameter | IntegerToolParameter | NumberToolParameter | BooleanToolParameter"
    " | ArrayToolParameter | ObjectToolParameter"
)
RULES: list[tuple[str, str, str]] = [
    # Shapes shared by the task-creating endpoints.
    ("*_create_params", "*ContentModeration", "ContentModeration"),
    ("*_create_params", "*PromptImagePromptImage", "PositionedImage"),
    ("*_create_params", "*ReferencesReferenceImage", "PositionedImage"),
    ("video_to_video_create_params", "*ReferencesPromptImage", "Reference"),
    ("*_create_params", "*ProviderSettingsMultiPrompt", "MultiPromptSegment"),
    ("video_to_video_create_params", "*ProviderSettings", "VideoToVideoProviderSettings"),
    ("*_to_video_create_params", "*ProviderSettings", "ProviderSettings"),
    ("*_to_video_create_params", "*ReferenceAudio", "AudioMedia"),
    ("text_to_video_create_params", "*ReferenceVideo", "ReferenceVideo"),
    ("*_to_video_create_params", "*ReferenceVideo", "VideoMedia"),
    ("image_to_video_create_params", "*Reference", "PositionedImage"),
    ("text_to_video_create_params", "*Reference", "ImageInput"),
    ("video_to_video_create_params", "*Reference", "Reference"),
    ("video_to_video_create_params", "*KeyframeUnionMember[01]Range", "KeyframeRange"),
    ("video_to_video_create_params", "*Keyframe*", "Keyframe"),
    ("text_to_image_create_params", "*ReferenceImage", "ReferenceImage"),
    ("character_performance_create_params", "Character", "ImageMedia | VideoMedia"),
    ("character_performance_create_params", "CharacterImage", "ImageMedia"),
    ("character_performance_create_params", "CharacterVideo", "VideoMedia"),
    ("character_performance_create_params", "Reference", "VideoMedia"),
    ("text_to_speech_create_params", "SeedAudioVoice", "ReferenceAudioVoice"),
    ("text_to_speech_create_params", "*Voice", "RunwayPresetVoice"),
    ("speech_to_speech_create_params", "Media", "AudioMedia | VideoMedia"),
    ("speech_to_speech_create_params", "MediaAudio", "AudioMedia"),
    ("speech_to_speech_create_params", "MediaVideo", "VideoMedia"),
    ("speech_to_speech_create_params", "Voice", "RunwayPresetVoice"),
    ("avatar_video_create_params", "Avatar", "RunwayPresetAvatar | CustomAvatar"),
    ("avatar_video_create_params", "AvatarRunwayPreset", "RunwayPresetAvatar"),
    ("avatar_video_create_params", "AvatarCustom", "CustomAvatar"),
    ("avatar_video_create_params", "Speech", "AudioSpeech | TextSpeech"),
    ("avatar_video_create_params", "SpeechAudio", "AudioSpeech"),
    ("avatar_video_create_params", "SpeechText", "TextSpeech"),
    ("avatar_video_create_params", "SpeechTextVoice", "PresetVoice | CustomVoice"),
    ("avatar_video_create_params", "SpeechTextVoicePreset", "PresetVoice"),
    ("avatar_video_create_params", "SpeechTextVoiceCustom", "CustomVoice"),
    # Every other name of a task create's params module: one model's (or mode's) parameters.
    *((module, "*", PARAMS) for module in TASK_CREATES),
    ("avatar_video_create_params", "AvatarVideoCreateParams", PARAMS),
    # Recipes.
    ("recipe_multi_shot_video_params", "*FirstFrame", "ImageInput"),
    ("recipe_multi_shot_video_params", "Variant1Shot", "Shot"),
    ("recipe_product_swap_params", "NewProductImage", "NewProductImage"),
    ("recipe_product_swap_params", "ReferenceVideo", "VideoInput"),
    ("recipe_*_params", "Recipe*Params", PARAMS),
    ("recipe_multi_shot_video_params", "Variant[01]", PARAMS),
    ("recipe_*_params", "*", "ImageInput"),
    # Model-agnostic generation.
    ("generate.audio_create_params", "Input", "GenerateAudioInput"),
    (
        "generate.audio_create_params",
        "InputVoice",
        "GenerateAudioPresetVoice | ReferenceAudioVoice",
    ),
    ("generate.audio_create_params", "InputVoicePreset", "GenerateAudioPresetVoice"),
    ("generate.image_create_params", "Input", "GenerateImageInput"),
    ("generate.image_create_params", "InputReferenceImage", "ImageInput"),
    ("generate.video_create_params", "Input", "GenerateVideoInput"),
    ("generate.video_create_params", "InputKeyframeUnionMember[01]Range", "KeyframeRange"),
    ("generate.video_create_params", "InputKeyframe*", "Keyframe"),
    ("generate.video_create_params", "InputReferenceAudio", "AudioInput"),
    ("generate.video_create_params", "InputReferenceImage", "GenerateVideoReferenceImage"),
    ("generate.video_create_params", "InputReferenceVideo", "GenerateVideoReferenceVideo"),
    ("generate.*_create_params", "*CreateParams", PARAMS),
    ("generate.reference_audio_param", "ReferenceAudioParam", "AudioInput"),
    ("generate.reference_voice_param", "ReferenceVoiceParam", "ReferenceAudioVoice"),
    # Plain endpoints' parameters.
    ("deprecated_livekit_param", "DeprecatedLivekitParam", "DeprecatedLivekit"),
    ("avatar_*_params", "Voice", "RunwayLivePresetVoice | CustomVoice"),
    ("avatar_*_params", "VoiceRunwayLivePreset", "RunwayLivePresetVoice"),
    ("avatar_*_params", "VoiceCustom", "CustomVoice"),
    ("realtime_session_create_params", "Avatar", "RunwayPresetAvatar | CustomAvatar"),
    ("realtime_session_create_params", "AvatarRunwayPreset", "RunwayPresetAvatar"),
    ("realtime_session_create_params", "AvatarCustom", "CustomAvatar"),
    ("realtime_session_create_params", "Integration", "ElevenlabsIntegration | LivekitIntegration"),
    ("realtime_session_create_params", "IntegrationElevenlabs", "ElevenlabsIntegration"),
    ("realtime_session_create_params", "IntegrationLivekit", "LivekitIntegration"),
    ("realtime_session_create_params", "Tool", "ClientEventTool | BackendRpcTool"),
    ("realtime_session_create_params", "ToolClientEvent", "ClientEventTool"),
    ("realtime_session_create_params", "ToolBackendRpc", "BackendRpcTool"),
    ("realtime_session_create_params", "Tool*ParameterString", "StringToolParameter"),
    ("realtime_session_create_params", "Tool*ParameterInteger", "IntegerToolParameter"),
    ("realtime_session_create_params", "Tool*ParameterNumber", "NumberToolParameter"),
    ("realtime_session_create_params", "Tool*ParameterBoolean", "BooleanToolParameter"),
    ("realtime_session_create_params", "Tool*ParameterArray", "ArrayToolParameter"),
    ("realtime_session_create_params", "Tool*ParameterArrayItems", "ToolParameterItems"),
    ("realtime_session_create_params", "Tool*ParameterObject", "ObjectToolParameter"),
    ("realtime_session_create_params", "Tool*Parameter", TOOL_PARAMETERS),
    ("router_create_params", "Settings", "RouterSettings"),
    ("router_update_params", "Settings", "RouterSettingsUpdate"),
    ("router_create_params", "SettingsMaxCreditsPerGeneration", "RouterCreditCaps"),
    ("router_update_params", "SettingsMaxCreditsPerGeneration", "RouterCreditCapsUpdate"),
    ("router_*_params", "SettingsFallback", "RouterFallback"),
    ("router_*_params", "SettingsModels", "RouterModels"),
    ("voice_create_params", "From", "AudioVoiceSource | TextVoiceSource"),
    ("voice_create_params", "FromAudio", "AudioVoiceSource"),
    ("voice_create_params", "FromText", "TextVoiceSource"),
    (
        "workflow_run_params",
        "NodeOutputsNodeOutputsItem",
        "PrimitiveNodeOutput | ImageMedia | VideoMedia | AudioMedia",
    ),
    ("workflow_run_params", "NodeOutputsNodeOutputsItemPrimitive", "PrimitiveNodeOutput"),
    ("workflow_run_params", "NodeOutputsNodeOutputsItemImage", "ImageMedia"),
    ("workflow_run_params", "NodeOutputsNodeOutputsItemVideo", "VideoMedia"),
    ("workflow_run_params", "NodeOutputsNodeOutputsItemAudio", "AudioMedia"),
    ("*_params", "*Params", PARAMS),
    # Responses of task creates: what the create call returns, on either client.
    ("*_response", "EstimatedCost", "_models.Cost"),
    ("generate.*_create_response", "Routing", "_models.Routing"),
    ("generate.*_create_response", "RoutingEstimatedCost", "_models.Cost"),
    ("generate.*_create_response", "RoutingResolvedInput", "Mapping[str, Any]"),
    ("generate.*_create_response", "RoutingResolvedSettings", "_models.ResolvedSettings"),
    ("generate.*_create_response", "RoutingCapacityFallback", "_models.CapacityFallback"),
    ("generate.*_create_response", "*CreateResponse", "TaskCreateResponse"),
    ("recipe_*_response", "Recipe*Response", "TaskCreateResponse"),
    *(
        (module.replace("_params", "_response"), "*CreateResponse", "TaskCreateResponse")
        for module in (*TASK_CREATES, "avatar_video_create_params")
    ),
    # Tasks and workflow invocations.
    ("task_retrieve_response", "TaskRetrieveResponse", "_models.Task"),
    ("task_retrieve_response", "*Cost", "_models.Cost"),
    ("task_retrieve_response", "Pending", "_models.PendingTask"),
    ("task_retrieve_response", "Throttled", "_models.ThrottledTask"),
    ("task_retrieve_response", "Running", "_models.RunningTask"),
    ("task_retrieve_response", "Succeeded", "_models.SucceededTask"),
    ("task_retrieve_response", "Failed", "_models.FailedTask"),
    ("task_retrieve_response", "Cancelled", "_models.CancelledTask"),
    ("workflow_invocation_retrieve_response", "*Response", "_models.WorkflowInvocation"),
    ("workflow_invocation_retrieve_response", "*Cost", "_models.Cost"),
    ("workflow_invocation_retrieve_response", "*NodeErrors", "_models.WorkflowNodeError"),
    ("workflow_invocation_retrieve_response", "*", "_models.{name}WorkflowInvocation"),
    ("workflow_run_response", "WorkflowRunResponse", "_models.WorkflowRunCreated"),
    ("workflow_list_response", "WorkflowListResponse", "_models.WorkflowList"),
    ("workflow_list_response", "Data", "_models.WorkflowListItem"),
    ("workflow_list_response", "DataVersion", "_models.WorkflowVersion"),
    ("workflow_retrieve_response", "WorkflowRetrieveResponse", "_models.Workflow"),
    ("workflow_retrieve_response", "Graph", "_models.WorkflowGraph"),
    # Avatars, conversations, realtime sessions, voices, documents.
    ("avatar_get_usage_response", "AvatarGetUsageResponse", "_models.AvatarUsage"),
    ("avatar_get_usage_response", "ByDay", "_models.AvatarUsageDay"),
    ("avatar_conversation_list_response", "*Response", "_models.AvatarConversationSummary"),
    ("avatar_conversation_retrieve_response", "*Response", "_models.AvatarConversation"),
    ("avatar_conversation_*_response", "*AvatarRunwayPreset", "_models.ConversationPresetAvatar"),
    ("avatar_conversation_*_response", "*AvatarCustom", "_models.ConversationCustomAvatar"),
    ("avatar_conversation_*_response", "*Avatar", "_models.ConversationAvatar"),
    ("avatar_conversation_retrieve_response", "*Tool", "_models.ConversationTool"),
    ("avatar_conversation_retrieve_response", "*TranscriptToolCall", "_models.TranscriptToolCall"),
    (
        "avatar_conversation_retrieve_response",
        "*TranscriptToolResult",
        "_models.TranscriptToolResult",
    ),
    ("avatar_conversation_retrieve_response", "*Transcript", "_models.TranscriptEntry"),
    ("avatar_conversation_retrieve_response", "*", "_models.{name}Conversation"),
    ("avatar_*_response", "Avatar*Response", "_models.Avatar"),
    ("avatar_*_response", "*VoiceRunwayLivePreset", "_models.AvatarPresetVoice"),
    ("avatar_*_response", "*VoiceCustom", "_models.AvatarCustomVoice"),
    ("avatar_*_response", "*Voice", "_models.AvatarVoice"),
    ("avatar_*_response", "*", "_models.{name}Avatar"),
    ("realtime_session_create_response", "*", "_models.RealtimeSessionCreated"),
    ("realtime_session_retrieve_response", "*Response", "_models.RealtimeSession"),
    ("realtime_session_retrieve_response", "*", "_models.{name}RealtimeSession"),
    ("voice_create_response", "*", "_models.VoiceCreated"),
    ("voice_preview_response", "*", "_models.VoicePreview"),
    ("voice_*_response", "Voice*Response", "_models.Voice"),
    ("voice_*_response", "*", "_models.{name}Voice"),
    ("document_*_response", "UsedBy", "_models.DocumentUser"),
    ("document_list_response", "*", "_models.DocumentSummary"),
    ("document_*_response", "*", "_models.Document"),
    # Organization, usage, audit log, routers, uploads.
    ("organization_retrieve_response", "OrganizationRetrieveResponse", "_models.Organization"),
    ("organization_retrieve_response", "TierModels", "_models.ModelLimits"),
    ("organization_retrieve_response", "UsageModels", "_models.ModelUsage"),
    ("organization_retrieve_response", "*", "_models.{name}"),
    ("organization_retrieve_usage_response", "*Response", "_models.OrganizationUsage"),
    ("organization_retrieve_usage_response", "Result", "_models.UsageDay"),
    ("organization_retrieve_usage_response", "ResultUsedCredit", "_models.UsedCredit"),
    ("organization_retrieve_usage_response", "ResultsByAPIKey", "_models.ApiKeyUsageDay"),
    (
        "organization_retrieve_usage_response",
        "ResultsByAPIKeyUsedCredit",
        "_models.ApiKeyUsedCredit",
    ),
    ("organization.webapp_list_usage_response", "*", "_models.WebappUsageRow"),
    ("organization.webapp.audit_log_list_response", "*", "_models.AuditLogItem"),
    ("organization.webapp.audit_log_retrieve_response", "Metadata", "Mapping[str, Any]"),
    ("organization.webapp.audit_log_retrieve_response", "*", "_models.AuditLogEntry"),
    ("router_list_requests_response", "*Response", "_models.RoutingRequest"),
    ("router_list_requests_response", "Pipeline", "_models.RoutingStep"),
    ("router_list_requests_response", "PipelineFilter", "_models.FilterStep"),
    ("router_list_requests_response", "PipelineCapacity", "_models.CapacityStep"),
    ("router_list_requests_response", "PipelineRank", "_models.RankStep"),
    ("router_*_response", "Router*Response", "_models.Router"),
    ("router_*_response", "Settings", "_models.RouterSettings"),
    ("router_*_response", "SettingsFallback", "_models.RouterFallback"),
    ("router_*_response", "SettingsMaxCreditsPerGeneration", "_models.RouterMaxCredits"),
    ("router_*_response", "SettingsModels", "_models.RouterModels"),
    ("upload_create_ephemeral_response", "*", "_models.UploadCreateEphemeralResponse"),
    # lib.polling: the sync names are the async classes (the sync client's tasks subclass them)
    # or protocols both clients' objects match.
    ("lib.polling", "AsyncNewTaskCreatedResponse", "_handles.TaskHandle"),
    ("lib.polling", "NewTaskCreatedResponse", "NewTaskCreatedResponse"),
    ("lib.polling", "*ResponseMixin", "{name}"),
    ("lib.polling", "*TaskRetrieveResponse", "_models.Task"),
    ("lib.polling", "*WorkflowInvocationRetrieveResponse", "_models.WorkflowInvocation"),
    ("lib.polling", "*AwaitableWI*", "_models.{status}WorkflowInvocation"),
    ("lib.polling", "*Awaitable*", "_models.{status}Task"),
    ("lib.polling", "*FailedError", "_exceptions.TaskFailedError"),
    ("lib.polling", "*TimeoutError", "_exceptions.TaskTimeoutError"),
]

# Response class names several official modules use, each for its own class: the module whose
# meaning the flat name takes (the others get ``<Module><Name>``).
PRIMARY = {
    "Cancelled": "task_retrieve_response",
    "Failed": "task_retrieve_response",
    "Pending": "task_retrieve_response",
    "Running": "task_retrieve_response",
    "Succeeded": "task_retrieve_response",
    "Throttled": "task_retrieve_response",
    "Processing": "avatar_retrieve_response",
    "Ready": "avatar_retrieve_response",
}

# Names of TypedDicts merged from several of ours and shared by several official names (the
# model names of image_to_video, text_to_video and video_to_video); a merge only one official
# name needs takes that name.
MERGED_NAMES = {
    ("ImageToVideoCreateParams", "TextToVideoCreateParams"): "ImageOrTextToVideoParams",
    (
        "ImageToVideoCreateParams",
        "TextToVideoCreateParams",
        "VideoToVideoCreateParams",
    ): "AnyToVideoParams",
}

# Protocols defined here (the official SDK's wait mixins, and what a create returns on either
# client: the async ``TaskHandle`` and the sync client's twin, which is no subclass of it).
PROTOCOLS = '''

@runtime_checkable
class TaskCreateResponse(Protocol):
    """What a create call returns on either client: a task handle's id, cost and routing.

    Both clients' ``TaskHandle`` match it (``isinstance`` checks the attributes). The official
    SDK's ``<Endpoint>CreateResponse`` names are this protocol, so code annotated with them
    type-checks with the async and the sync client.
    """

    @property
    def id(self) -> str:
        """The task id."""
        ...

    @property
    def estimated_cost(self) -> _models.Cost | None:
        """The most the task may charge, when the server said."""
        ...

    @property
    def routing(self) -> _models.Routing | None:
        """For ``generate.*``: the model the router picked."""
        ...


@runtime_checkable
class AwaitableTaskResponseMixin(Protocol):
    """Anything the sync client can wait for: its task handles and tasks."""

    def wait_for_task_output(
        self, timeout: float | None = _models.DEFAULT_WAIT_TIMEOUT
    ) -> _models.SucceededTask:
        """Wait until the task ends; return it when it succeeded."""
        ...


@runtime_checkable
class AsyncAwaitableTaskResponseMixin(Protocol):
    """Anything the async client can wait for: its task handles and tasks."""

    async def wait_for_task_output(
        self, timeout: float | None = _models.DEFAULT_WAIT_TIMEOUT
    ) -> _models.SucceededTask:
        """Wait until the task ends; return it when it succeeded."""
        ...


@runtime_checkable
class AwaitableWorkflowInvocationResponseMixin(Protocol):
    """A workflow run or invocation the sync client can wait for."""

    def wait_for_task_output(
        self, timeout: float | None = _models.DEFAULT_WAIT_TIMEOUT
    ) -> _models.SucceededWorkflowInvocation:
        """Wait until the invocation ends; return it when it succeeded."""
        ...


@runtime_checkable
class AsyncAwaitableWorkflowInvocationResponseMixin(Protocol):
    """A workflow run or invocation the async client can wait for."""

    async def wait_for_task_output(
        self, timeout: float | None = _models.DEFAULT_WAIT_TIMEOUT
    ) -> _models.SucceededWorkflowInvocation:
        """Wait until the invocation ends; return it when it succeeded."""
        ...


@runtime_checkable
class NewTaskCreatedResponse(TaskCreateResponse, AwaitableTaskResponseMixin, Protocol):
    """What a create call of the sync client returns (its ``TaskHandle`` matches it)."""
'''
PROTOCOL_NAMES = [
    "AsyncAwaitableTaskResponseMixin",
    "AsyncAwaitableWorkflowInvocationResponseMixin",
    "AwaitableTaskResponseMixin",
    "AwaitableWorkflowInvocationResponseMixin",
    "NewTaskCreatedResponse",
    "TaskCreateResponse",
]
# Module prefixes of the package-private targets -> where users find them.
PUBLIC_PREFIX = {
    "_models.": "runway_async.",
    "_handles.": "runway_async.",
    "_exceptions.": "runway_async.",
}
STATUS = re.compile(r"(Pending|Throttled|Cancelled|Running|Failed|Succeeded)$")


# --------------------------------------------------------------------------------------------
# TypedDict structure, for covering and merging
# --------------------------------------------------------------------------------------------


@dataclass
class Field:
    """One key of a TypedDict: its annotation (without ``Required``) and whether required."""

    annotation: str
    required: bool


Fields = dict[str, Field]


def members(annotation: str) -> list[str]:
    """Return the members of a top-level union (``A | B[C | D]`` -> ``A``, ``B[C | D]``)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(annotation):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(annotation[start:i].strip())
            start = i + 1
    parts.append(annotation[start:].strip())
    return [p for p in parts if p]


def union(annotations: Iterable[str]) -> str:
    """Return the union of annotations: members deduplicated, Literals joined, None last."""
    seen = list(dict.fromkeys(m for a in annotations for m in members(a)))
    literals = [m for m in seen if m.startswith("Literal[")]
    if len(literals) > 1:
        values: list[object] = []
        for member in literals:
            inner = ast.literal_eval("(" + member.removeprefix("Literal[")[:-1] + ",)")
            values += [v for v in inner if v not in values]
        joined = "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"
        seen = [joined if m == literals[0] else m for m in seen if m not in literals[1:]]
    return " | ".join([m for m in seen if m != "None"] + (["None"] if "None" in seen else []))


def covers(big: Fields, small: Fields) -> bool:
    """Whether every dict valid for ``small`` is valid for ``big`` (by keys and annotations)."""
    for key, entry in small.items():
        if key not in big or not set(members(entry.annotation)) <= set(
            members(big[key].annotation)
        ):
            return False
    return all(key in small and small[key].required for key, e in big.items() if e.required)


def merge(shapes: list[Fields]) -> Fields:
    """Return a TypedDict accepting each shape: every key, required only where all require it."""
    keys = list(dict.fromkeys(k for shape in shapes for k in shape))
    return {
        key: Field(
            union(s[key].annotation for s in shapes if key in s),
            all(key in s and s[key].required for s in shapes),
        )
        for key in keys
    }


# --------------------------------------------------------------------------------------------
# The TypedDicts of the calls' keywords
# --------------------------------------------------------------------------------------------


@dataclass
class CallParams:
    """A generated TypedDict: the keywords of one client call."""

    name: str
    call: str
    fields: Fields


def task_call_params(name: str, call: str, methods: dict[str, Any]) -> CallParams:
    """Return the params TypedDict of a generated (task-creating) method, from the spec model."""
    endpoint = call.removesuffix(".create")
    method = methods[endpoint]
    fields = {p.python: Field(p.annotation, p.required) for p in method.params}
    return CallParams(name, call, fields)


class SignatureReader:
    """Reads the keyword parameters of the hand-written resources' methods, with ``ast``."""

    BUILTINS = frozenset({"str", "int", "float", "bool", "object", "bytes"})
    FROM_TYPING = frozenset({"Sequence", "Iterable", "Mapping", "Literal", "Any"})

    def __init__(self, root: Path = RESOURCES) -> None:
        self.root = root
        self.trees: dict[str, ast.Module] = {}
        self.needed: set[str] = set()  # typing / abc names the annotations use

    def tree(self, filename: str) -> ast.Module:
        """Return the parsed resource module."""
        if filename not in self.trees:
            path = self.root / filename
            self.trees[filename] = ast.parse(path.read_text(encoding="utf-8"))
        return self.trees[filename]

    def call_params(self, name: str, call: str) -> CallParams:
        """Return the params TypedDict of ``client.<call>(...)``."""
        owner, _, method_name = call.rpartition(".")
        filename, cls_name = PLAIN_RESOURCES[owner]
        tree = self.tree(filename)
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name)
        function = next(
            n
            for n in cls.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == method_name
        )
        imports, aliases = self.namespace(tree)
        fields: Fields = {}
        defaults = function.args.kw_defaults
        for arg, default in zip(function.args.kwonlyargs, defaults, strict=True):
            if arg.arg in OPTIONS:
                continue
            if arg.annotation is None:
                raise SystemExit(f"error: {filename}: {cls_name}.{method_name}({arg.arg}) untyped")
            text = self.render(arg.annotation, imports, aliases, f"{cls_name}.{method_name}")
            parts = [m for m in members(text) if m != "NotGiven"]
            if isinstance(default, ast.Constant) and default.value is None:
                parts = [m for m in parts if m != "None"]  # None leaves the parameter out
            fields[arg.arg] = Field(" | ".join(parts), default is None)
        return CallParams(name, call, fields)

    @staticmethod
    def namespace(tree: ast.Module) -> tuple[dict[str, str], dict[str, ast.expr]]:
        """Return a module's imported names (-> ``module:attr``) and its type aliases."""
        imports: dict[str, str] = {}
        aliases: dict[str, ast.expr] = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                for alias in node.names:
                    imports[alias.asname or alias.name] = f"{module}:{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    imports[alias.asname or alias.name] = f"{alias.name}:"
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                aliases[node.targets[0].id] = node.value
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.value is not None
            ):
                aliases[node.target.id] = node.value
        return imports, aliases

    def render(
        self, node: ast.expr, imports: dict[str, str], aliases: dict[str, ast.expr], where: str
    ) -> str:
        """Return an annotation written with the names ``types.py`` has (strings in ``"``)."""
        text = ast.unparse(self.rewrite(node, imports, aliases, where))
        return re.sub(r"'([^'\"\\]*)'", r'"\1"', text)

    def rewrite(
        self, node: ast.expr, imports: dict[str, str], aliases: dict[str, ast.expr], where: str
    ) -> ast.expr:
        """Return ``node`` with each name replaced by its ``types.py`` spelling."""
        if isinstance(node, ast.Name):
            return self.rename(node.id, imports, aliases, where)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            origin = imports.get(node.value.id, "")
            if origin == "datetime:":
                return ast.Attribute(ast.Name("dt"), node.attr)
            if origin == "os:":
                return node
            raise SystemExit(f"error: {where}: cannot place {ast.unparse(node)} in types.py")
        if isinstance(node, ast.BinOp):
            left = self.rewrite(node.left, imports, aliases, where)
            right = self.rewrite(node.right, imports, aliases, where)
            return ast.BinOp(left, node.op, right)
        if isinstance(node, ast.Subscript):
            base = self.rewrite(node.value, imports, aliases, where)
            return ast.Subscript(base, self.rewrite(node.slice, imports, aliases, where))
        if isinstance(node, ast.Tuple):
            elements = [self.rewrite(e, imports, aliases, where) for e in node.elts]
            return ast.Tuple(elements)
        if isinstance(node, ast.List):
            return ast.List([self.rewrite(e, imports, aliases, where) for e in node.elts])
        if isinstance(node, ast.Constant):
            return node
        raise SystemExit(f"error: {where}: unexpected annotation {ast.unparse(node)}")

    def rename(
        self, name: str, imports: dict[str, str], aliases: dict[str, ast.expr], where: str
    ) -> ast.expr:
        """Return the ``types.py`` spelling of one name of a resource module."""
        if name in self.BUILTINS or name == "None":
            return ast.Name(name)
        if name in aliases:
            return self.rewrite(aliases[name], imports, aliases, where)
        module, _, attr = imports.get(name, ":").partition(":")
        if module == "..types":
            return ast.Name(attr)
        if module == "datetime":
            return ast.Attribute(ast.Name("dt"), attr)
        if module in ("typing", "collections.abc") and attr in self.FROM_TYPING:
            self.needed.add(attr)
            return ast.Name(attr)
        if module == ".._config" and attr == "NotGiven":
            return ast.Name("NotGiven")  # dropped by the caller: absent means not given
        raise SystemExit(f"error: {where}: cannot place {name} in types.py")


# --------------------------------------------------------------------------------------------
# Resolving every official name
# --------------------------------------------------------------------------------------------


@dataclass
class Meaning:
    """What one official name of one module is here."""

    module: str  # below runwayml (types.x or lib.polling)
    name: str
    target: str


@dataclass
class Resolution:
    """Everything the section and the docs are rendered from."""

    version: str
    params: list[CallParams]
    merged: dict[str, Fields]  # new TypedDicts: name -> fields
    merged_from: dict[str, list[str]]  # new TypedDict -> the ones it merges
    aliases: dict[str, str]  # name -> target expression
    spelled: dict[tuple[str, str], str]  # (module, official name) -> our name
    targets: dict[tuple[str, str], str]  # (module, official name) -> target expression
    left_out: dict[str, dict[str, str]]
    needed: set[str] = field(default_factory=set)


def short(module: str) -> str:
    """Return a module name below ``runwayml`` (``types.x`` -> ``x``; ``lib.polling``)."""
    return module.removeprefix(TYPES + ".").removeprefix("runwayml.")


def module_prefix(module: str) -> str:
    """Return the PascalCase prefix of a module's distinct names (``voice_list_response``)."""
    last = module.rpartition(".")[2]
    return "".join(p[:1].upper() + p[1:] for p in last.split("_"))


def target_of(module: str, name: str, used: set[int]) -> str:
    """Return the target of one official name by the first matching rule."""
    for index, (pattern, name_pattern, target) in enumerate(RULES):
        if fnmatch.fnmatchcase(module, pattern) and fnmatch.fnmatchcase(name, name_pattern):
            used.add(index)
            status = STATUS.search(name)
            return target.format(name=name, status=status.group(1) if status else "")
    raise SystemExit(f"error: no rule says what {module}.{name} is (scripts/official_types.py)")


def load_table(path: Path = TABLE) -> dict[str, Any]:
    """Return the committed table of official names."""
    return json.loads(path.read_text(encoding="utf-8"))


def resolve(
    table: dict[str, Any],
    typeddicts: dict[str, Fields],
    existing: set[str],
    methods: dict[str, Any],
    reader: SignatureReader | None = None,
) -> Resolution:
    """Decide what every official name is in ``runway_async.types``.

    Args:
        table: The committed table (``official_names.json``).
        typeddicts: The TypedDicts ``types.py`` defines from the spec, by name.
        existing: Every name ``types.py`` defines from the spec (TypedDicts and aliases).
        methods: The generated task-creating methods of the spec model, by endpoint.
        reader: Reads the hand-written resources' signatures (a default one if None).

    """
    reader = reader or SignatureReader()
    used: set[int] = set()
    params: list[CallParams] = []
    for module in sorted(CALLS):
        names = table["modules"].get(f"{TYPES}.{module}")
        if names is None:
            raise SystemExit(f"error: CALLS names {module}, which the table does not have")
        name = module_prefix(module)
        if name not in names:
            raise SystemExit(f"error: {module} has no {name}")
        call = CALLS[module]
        if call.removesuffix(".create") in methods:
            params.append(task_call_params(name, call, methods))
        else:
            params.append(reader.call_params(name, call))
    params_of = {p.name: p for p in params}
    clash = set(params_of) & existing
    if clash:
        raise SystemExit(f"error: params TypedDicts clash with types.py names: {sorted(clash)}")
    typeddicts = {**typeddicts, **{p.name: p.fields for p in params}}
    existing = existing | set(params_of)
    # Every (module, name) that a module defines, with its target.
    meanings: list[Meaning] = []
    targets: dict[tuple[str, str], str] = {}
    reexports = table.get("reexports", {})
    for full, names in table["modules"].items():
        module = short(full)
        sources = reexports.get(full, {})
        for name in names:
            if name in sources:
                continue
            target = target_of(module, name, used)
            if target == PARAMS:
                target = module_prefix(module)
                if target not in params_of:
                    raise SystemExit(f"error: {module} is not in CALLS")
            meanings.append(Meaning(module, name, target))
            targets[(module, name)] = target
    for full, sources in reexports.items():
        for name, source in sources.items():
            origin, _, original = source.partition(":")
            target = targets[(short(origin), original)]
            meanings.append(Meaning(short(full), name, target))
            targets[(short(full), name)] = target
    unused = [RULES[i] for i in range(len(RULES)) if i not in used]
    if unused:
        raise SystemExit(f"error: rules that match no official name: {unused}")
    return decide(table, meanings, targets, typeddicts, existing, params, reader)


def typeddict_members(target: str, typeddicts: dict[str, Fields]) -> list[str] | None:
    """Return the TypedDicts a target is made of, or None when it is not only TypedDicts."""
    parts = members(target)
    return parts if all(p in typeddicts for p in parts) else None


def decide(
    table: dict[str, Any],
    meanings: list[Meaning],
    targets: dict[tuple[str, str], str],
    typeddicts: dict[str, Fields],
    existing: set[str],
    params: list[CallParams],
    reader: SignatureReader,
) -> Resolution:
    """Give every official name its flat meaning, and the others their distinct spellings."""
    by_name: dict[str, list[Meaning]] = {}
    for meaning in meanings:
        by_name.setdefault(meaning.name, []).append(meaning)
    aliases: dict[str, str] = {}
    spelled: dict[tuple[str, str], str] = {}
    merged: dict[str, Fields] = {}
    merged_from: dict[str, list[str]] = {}
    merge_names: dict[tuple[str, ...], str] = {}
    wanted_merges: dict[tuple[str, ...], list[str]] = {}
    flat: dict[str, str] = {}
    distinct: list[Meaning] = []
    used_primary: set[str] = set()
    for name, group in sorted(by_name.items()):
        kinds = list(dict.fromkeys(m.target for m in group))
        if name in existing:
            for meaning in group:
                if meaning.target == name:
                    continue
                parts = typeddict_members(meaning.target, typeddicts)
                if parts is None or not all(covers(typeddicts[name], typeddicts[p]) for p in parts):
                    distinct.append(meaning)
            flat[name] = name
            continue
        if len(kinds) == 1:
            flat[name] = kinds[0]
            continue
        dicts = [k for k in kinds if typeddict_members(k, typeddicts) is not None]
        if dicts:
            parts = sorted({p for k in dicts for p in members(k)})
            if len(dicts) == 1:
                flat[name] = dicts[0]
            else:
                wanted_merges.setdefault(tuple(parts), []).append(name)
                flat[name] = "@merge:" + "|".join(parts)
            distinct += [m for m in group if m.target not in dicts]
            continue
        primary = PRIMARY.get(name)
        if primary is None:
            raise SystemExit(f"error: {name} means different classes; add it to PRIMARY")
        used_primary.add(name)
        flat[name] = targets[(primary, name)]
        distinct += [m for m in group if m.target != flat[name]]
    if set(PRIMARY) - used_primary:
        raise SystemExit(
            f"error: PRIMARY entries never used: {sorted(set(PRIMARY) - used_primary)}"
        )
    # Merged TypedDicts: one of the parts when it covers the others, else a new one.
    used_names: set[str] = set()
    for parts, names in wanted_merges.items():
        shapes = [typeddicts[p] for p in parts]
        covering = [p for p in parts if all(covers(typeddicts[p], s) for s in shapes)]
        if covering:
            merge_names[parts] = covering[0]
            continue
        if len(names) == 1:
            merge_names[parts] = names[0]
        elif parts in MERGED_NAMES:
            merge_names[parts] = MERGED_NAMES[parts]
            used_names.add(MERGED_NAMES[parts])
        else:
            raise SystemExit(f"error: name the merge of {parts} (for {names}) in MERGED_NAMES")
        merged[merge_names[parts]] = merge(shapes)
        merged_from[merge_names[parts]] = list(parts)
    unused_names = set(MERGED_NAMES.values()) - used_names
    if unused_names:
        raise SystemExit(f"error: MERGED_NAMES entries never used: {sorted(unused_names)}")
    for name, target in flat.items():
        if target.startswith("@merge:"):
            target = merge_names[tuple(target.removeprefix("@merge:").split("|"))]
        if target != name:
            aliases[name] = target
    for meaning in meanings:
        spelled[(meaning.module, meaning.name)] = meaning.name
    for meaning in distinct:
        own = module_prefix(meaning.module) + meaning.name
        if own in aliases or own in existing or own in merged:
            raise SystemExit(f"error: the distinct name {own} is taken")
        aliases[own] = meaning.target
        spelled[(meaning.module, meaning.name)] = own
    defined = existing | set(merged) | set(PROTOCOL_NAMES)
    clash = defined & set(aliases)
    if clash:
        raise SystemExit(f"error: official names clash with defined ones: {sorted(clash)}")
    return Resolution(
        version=table["source"],
        params=params,
        merged=merged,
        merged_from=merged_from,
        aliases=dict(sorted(aliases.items())),
        spelled=spelled,
        targets=targets,
        left_out=table.get("left_out", {}),
        needed=reader.needed,
    )


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def typeddict_lines(name: str, doc: list[str], fields: Fields) -> list[str]:
    """Return the lines of one TypedDict class."""
    lines = ["", "", f"class {name}(TypedDict, total=False):", *doc, ""]
    for key, entry in fields.items():
        annotation = f"Required[{entry.annotation}]" if entry.required else entry.annotation
        lines.append(f"    {key}: {annotation}")
    return lines


def section(resolution: Resolution) -> tuple[list[str], list[str], list[str]]:
    """Return the section of ``types.py``: its lines, the names it defines, its annotations."""
    lines = [
        "",
        "",
        "# " + "-" * 92,
        f"# The official SDK's type names ({resolution.version}), from scripts/official_names.json",
        "# " + "-" * 92,
        *PROTOCOLS.splitlines(),
    ]
    names = list(PROTOCOL_NAMES)
    annotations: list[str] = []
    for params in resolution.params:
        doc = [
            '    """The keyword arguments of one call as one dict (the official SDK\'s name).',
            "",
            f"    For ``client.{params.call}(**params)``.",
            '    """',
        ]
        lines += typeddict_lines(params.name, doc, params.fields)
        annotations += [f.annotation for f in params.fields.values()]
        names.append(params.name)
    for name, fields in resolution.merged.items():
        parts = ", ".join(f"``{p}``" for p in resolution.merged_from[name])
        body = (
            f"Merges {parts}. An official name that means a different TypedDict in different"
            " official modules is this one, so a dict built with it suits every one of them."
        )
        doc = [
            '    """Every key of several parameter TypedDicts, for a dict that suits any of them.',
            "",
            *textwrap.wrap(body, 96, initial_indent="    ", subsequent_indent="    "),
            '    """',
        ]
        lines += typeddict_lines(name, doc, fields)
        annotations += [f.annotation for f in fields.values()]
        names.append(name)
    lines += ["", ""]
    for name, target in resolution.aliases.items():
        lines.append(f"{name}: TypeAlias = {target}")
        annotations.append(target)
        names.append(name)
    return lines, names, annotations


def public(target: str) -> str:
    """Return a target as users import it (``_models.Task`` -> ``runway_async.Task``)."""
    for private, shown in PUBLIC_PREFIX.items():
        target = target.replace(private, shown)
    return target


def render_docs(resolution: Resolution, generated: str) -> str:
    """Return the text of ``docs/official-names.md``."""
    by_module: dict[str, list[tuple[str, str]]] = {}
    for (module, name), spelling in resolution.spelled.items():
        by_module.setdefault(module, []).append((name, spelling))
    renamed = sorted(
        (module, name, spelling)
        for (module, name), spelling in resolution.spelled.items()
        if spelling != name
    )
    total = len({name for _, name in resolution.spelled})
    out = [
        f"<!-- {generated} -->",
        "# The official SDK's type names",
        "",
        f"Every public type name of the official SDK ({resolution.version}): {total} names of"
        " `runwayml.types` (its top level, every submodule and subpackage) and"
        " `runwayml.lib.polling`, importable from `runway_async.types`. Change the module of"
        " the import and keep the name:",
        "",
        "```",
        "from runwayml.types.character_performance_create_params import CharacterImage",
        "from runway_async.types import CharacterImage",
        "```",
        "",
        f"except for the {len(renamed)} names below: their flat name means another class here"
        " (that of another official module), so they take their module's name as a prefix."
        " Request types (TypedDicts) are plain dicts at run time; where one official name"
        " means different TypedDicts in different modules, ours accepts every one of them"
        " (it merges their keys). Response types are our models (`runway_async.Task`, ...);"
        " the names of what a create call returns (`ImageToVideoCreateResponse`, ...) are"
        " `TaskCreateResponse`, a protocol both clients' task handles match. The sync names"
        " of `lib.polling` (`AwaitablePending`, ...) are the async classes, which the sync"
        " client's tasks subclass.",
        "",
        "## Names spelled differently",
        "",
        "| official | `runway_async.types` | is |",
        "|---|---|---|",
    ]
    for module, name, spelling in renamed:
        shown = f"`runwayml.{qualified(module)}.{name}`"
        out.append(f"| {shown} | `{spelling}` | {describe(resolution, spelling)} |")
    out += ["", "## Every module", ""]
    for module in sorted(by_module):
        out += [f"### `runwayml.{qualified(module)}`", "", "| name | is |", "|---|---|"]
        for name, spelling in sorted(by_module[module]):
            shown = f"`{name}`" if spelling == name else f"`{name}` as `{spelling}`"
            out.append(f"| {shown} | {describe(resolution, spelling)} |")
        out.append("")
    for module, names in resolution.left_out.items():
        out += [
            f"Not types, so not here: of `{module}`, "
            + ", ".join(f"`{n}` ({kind})" for n, kind in names.items())
            + ".",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def describe(resolution: Resolution, name: str) -> str:
    """Return what a name of ``runway_async.types`` is, for a docs table cell."""
    calls = {p.name: p.call for p in resolution.params}
    if name in resolution.aliases:
        text = f"`{public(resolution.aliases[name])}`"
    elif name in resolution.merged:
        parts = ", ".join(f"`{p}`" for p in resolution.merged_from[name])
        text = f"a TypedDict with the keys of {parts}"
    elif name in calls:
        text = f"the TypedDict of `client.{calls[name]}(...)`'s keywords"
    elif name in PROTOCOL_NAMES:
        text = "a protocol"
    else:
        text = f"`{name}` (a TypedDict or alias of the spec)"
    return text.replace("|", "\\|")


def qualified(module: str) -> str:
    """Return a short module name below ``runwayml`` again (``x`` -> ``types.x``)."""
    if module.startswith("lib.") or module == "types":
        return module
    return f"types.{module}" if module else "types"


def shape_fields(shape: Any, render: Any) -> Fields:
    """Return the fields of one of the generator's TypedDict shapes."""
    return {e.python: Field(render(e.merged), e.required) for e in shape.fields.values()}


def names_in(annotations: Iterable[str]) -> set[str]:
    """Return the typing / abc names some annotations use."""
    found: set[str] = set()
    for annotation in annotations:
        found |= set(re.findall(r"\b(Any|Iterable|Mapping|Sequence)\b", annotation))
    return found
