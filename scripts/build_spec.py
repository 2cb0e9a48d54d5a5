"""Build ``runway_async/_spec/api.json``: the one declarative spec of the task-creating endpoints.

Inputs: the JSON-schema dump of the official SDK's request types (``../shared/runway-schema.json``
by default, or the path given as argument) plus the overlay below, which adds the facts of the
API reference that the schema lacks: item counts, numeric ranges, UTF-16 length counting, which
strings are media URIs and of what kind, unconfirmed constraints, and a short description of
every field. The output is written deterministically (sorted keys, indented).

Usage::

    python scripts/build_spec.py [SCHEMA] [--check]

``--check`` rebuilds in memory and exits 1 with a diff when ``api.json`` is stale. When the
schema is absent (the package never needs it: only this developer script reads it), ``--check``
says so and exits 0.

Every overlay entry must match something; a rule that matches nothing fails the build, so the
overlay cannot silently rot when the schema changes.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "runway_async" / "_spec" / "api.json"
DEFAULT_SCHEMA = ROOT.parent / "shared" / "runway-schema.json"
FORMAT_VERSION = 2

Node = dict[str, Any]
Models = str | tuple[str, ...]  # "*" = every variant of the endpoint that has the field

# --------------------------------------------------------------------------------------------
# Overlay: endpoints
# --------------------------------------------------------------------------------------------

# Endpoint name (the client resource path) -> summary (imperative, for docstrings) and notes.
ENDPOINTS: dict[str, dict[str, str]] = {
    "image_to_video": {"summary": "Create a video from an image and an optional text prompt."},
    "text_to_video": {"summary": "Create a video from a text prompt."},
    "video_to_video": {
        "summary": "Transform, extend or edit a video guided by a prompt and references.",
        "notes": "The input video field is videoUri for aleph2, the gemini_omni_flash models "
        "and kling_4, and promptVideo for the Kling O3, Hailuo and Seedance models.",
    },
    "text_to_image": {
        "summary": "Create images from a text prompt and optional reference images.",
        "notes": "outputCount above 1 gives several URLs in the task output; "
        "recraft_v4_1_vector produces SVG.",
    },
    "character_performance": {
        "summary": "Animate a character with the performance of a reference video.",
    },
    "image_upscale": {
        "summary": "Upscale an image.",
        "notes": "The input image must measure 300-8000 px per side; the output (input times "
        "scaleFactor) must stay within 25,300,000 pixels.",
    },
    "video_upscale": {"summary": "Upscale a video or raise its frame rate."},
    "video_to_hdr": {
        "summary": "Convert an SDR video to HDR at its source resolution.",
        "notes": "No re-synthesis: the pixels are up-converted. Billed per second of output, "
        "more when the source exceeds 4 MP.",
    },
    "video_to_audio": {
        "summary": "Create sound effects synchronised to a video.",
        "notes": "The output is audio only, not a re-muxed video.",
    },
    "sound_effect": {"summary": "Create a sound effect from a text description."},
    "text_to_speech": {"summary": "Speak a text with a preset or cloned voice."},
    "speech_to_speech": {"summary": "Re-voice the speech of an audio or video clip."},
    "voice_dubbing": {"summary": "Dub the speech of an audio clip into another language."},
    "voice_isolation": {
        "summary": "Isolate the voice of an audio clip from its background.",
        "notes": "The input audio must last more than 4.6 s and less than 3600 s.",
    },
    "avatar_videos": {
        "summary": "Create a video of an avatar speaking a text or an audio clip.",
        "notes": "The reply carries only the task id, no cost estimate.",
    },
    "recipes.ad_localization": {"summary": "Localise an ad image into another language."},
    "recipes.marketing_stock_image": {"summary": "Create marketing stock images from a prompt."},
    "recipes.multi_shot_video": {
        "summary": "Create a multi-shot video from a prompt or from a shot list.",
        "discriminator_description": "auto plans the shots from one prompt; custom takes your "
        "shot list.",
    },
    "recipes.product_ad": {"summary": "Create a product ad video from product photos."},
    "recipes.product_campaign_image": {
        "summary": "Create four campaign images of a product.",
    },
    "recipes.product_swap": {"summary": "Swap the product shown in a video for another one."},
    "recipes.product_ugc": {
        "summary": "Create a vertical UGC-style ad of a person presenting a product.",
    },
    "generate.video": {
        "summary": "Create a video through a model router, which picks the model.",
        "notes": "The reply carries the router's choice (routing) with the cost estimate.",
    },
    "generate.image": {
        "summary": "Create images through a model router, which picks the model.",
        "notes": "The reply carries the router's choice (routing) with the cost estimate.",
    },
    "generate.audio": {
        "summary": "Create speech or sound through a model router, which picks the model.",
        "notes": "The reply carries the router's choice (routing) with the cost estimate.",
    },
}

RESPONSES = {
    "avatar_videos": "id_only",
    "generate.video": "routed",
    "generate.image": "routed",
    "generate.audio": "routed",
}

# Endpoint kinds of the schema that are not task endpoints: the workflow run's body is taken
# by the plain endpoint workflows.run (see PLAIN).
SKIPPED_KINDS = {"workflow"}
WORKFLOW_PATH = "/v1/workflows/{id}"

# --------------------------------------------------------------------------------------------
# Overlay: named enums (reference section 2), named once in the generated types
# --------------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """Return the whitespace-separated words of ``text``."""
    return text.split()


ENUMS: dict[str, tuple[str, list[str]]] = {
    "ElevenVoiceId": (
        "Preset voices of the Eleven models (text_to_speech, speech_to_speech, generate.audio); "
        "case-sensitive.",
        words("""
            Maya Arjun Serene Bernard Billy Mark Clint Mabel Chad Leslie Eleanor Elias Elliot
            Grungle Brodie Sandra Kirk Kylie Lara Lisa Malachi Marlene Martin Miriam Monster
            Paula Pip Rusty Ragnar Xylar Maggie Jack Katie Noah James Rina Ella Mariah Frank
            Claudia Niki Vincent Kendrick Myrna Tom Wanda Benjamin Kiana Rachel
        """),
    ),
    "LiveVoiceId": (
        "Preset voices of live avatars (avatars voice, avatar_videos speech voice); lower-case.",
        words("""
            victoria vincent clara drew skye max morgan felix mia marcus summer ruby aurora
            jasper leo adrian nina emma blake david maya nathan sam georgia petra adam zach
            violet roman luna
        """),
    ),
    "AvatarPresetId": (
        "Runway's preset avatars.",
        words("""
            game-character music-superstar game-character-man cat-character influencer
            tennis-coach human-resource fashion-designer cooking-teacher
        """),
    ),
    "VideoOutputFormat": (
        "Video output formats of gen4.5: mp4 (H.264, default), prores (.mov), png_sequence "
        "(zip of PNGs), HDR and 10/12-bit profiles, and EXR sequences. Non-mp4 formats cost "
        "extra and may produce several output files.",
        words("""
            mp4 prores png_sequence hdr10 hlg sdr_rec709_10bit hdr_pq_12bit_master hdr_prores
            hdr_png_sequence hdr_exr_sequence hdr_exr_acescg_sequence_1_3
            hdr_exr_acescg_sequence_2_0
        """),
    ),
    "ProresProfile": (
        "ProRes profiles (subsets per model and format).",
        ["422", "4444", "422 Proxy", "422 LT", "422 HQ", "4444 XQ"],
    ),
    "AuditAction": (
        "Actions recorded in the web-app audit log (organization.webapp.audit_logs).",
        words("""
            UserLogin PasswordChanged EmailChangeRequested EmailChanged UserRegistered
            UserAccountDeleted WorkspaceCreated WorkspaceDeleted MemberInvited
            MemberInviteReminderSent MemberRemoved MemberRoleChanged InviteAccepted
            MemberJoinedViaDomain TeamSettingsUpdated InviteLinkToggled UserGroupCreated
            UserGroupUpdated UserGroupDeleted UserGroupArchived UserGroupRestored
            UserGroupMemberAdded UserGroupMemberRemoved UserGroupCreditCapUpdated
            UserGroupVisibilityUpdated SSOLogin SSOUserProvisioned SSOConfigCreated
            SSOUserAutoAddedToTeam SSODomainRegistrationCloned AssetCreated AssetUpdated
            AssetDeleted AssetDownloaded AssetShared AssetUnshared CommentCreated CommentEdited
            CommentDeleted CommentAgentCallRun CommentRemovedByModerator
            CommentRestoredByModerator CommentRemovalReasonChanged PermissionGranted
            PermissionUpdated PermissionRevoked PermissionAccepted SubscriptionCancelled
            SubscriptionReactivatedWithOffer SubscriptionPlanSwitched CreditsTransferred
            SeatsTransferred SessionShared SessionUnshared VideoProjectShared
            VideoProjectUnshared BrandKitShared BrandKitUnshared AgentCustomSkillCreated
            AgentCustomSkillDeleted AgentCustomSkillShared AgentCustomSkillUnshared
            AgentSessionShared AgentSessionUnshared AgentConnectorLinkTokenCreated
            AgentConnectorConnected AgentConnectorDisconnected AgentConnectorAssetExported
            AgentConnectorSessionEnabled AgentConnectorSessionDisabled GenerationCreated
            StudioSessionOpened AppStudioAiRunOpened AccountLinkCreated AccountLinkDeleted
            AdConnectionAuthorizationStarted AdConnectionConnected AdAccountSelectionUpdated
            AdAccountSyncRequested AdConnectionDisconnected AdWorkspaceOnboardingUpdated
            AdCreativeReviewSubmitted AdCreativeReviewCancelled AdCreativeReviewDecided
            AdCreativeApprovalRevoked AdCreativeArchived AdCreativeUnarchived
            AdPublishBatchQueued AdPublishBatchCancelled AdPublishBatchRetried
            OrganizationSettingsUpdated OrganizationDisabledModelsUpdated
            OrganizationAgentSandboxUpdated OrganizationApiAccountReleased
            OrganizationApiAccountMemberInvited OrganizationApiAccountMemberRoleChanged
            OrganizationApiAccountMemberRemoved WorkspaceCountryLockUpdated WorkspaceTagCreated
            WorkspaceTagUpdated WorkspaceTagDeleted WorkspaceTagAssigned WorkspaceTagUnassigned
            MeteredBillingConfigUpdated MeteredBillingRefillTriggered
            MeteredBillingRetryTriggered EnterpriseSpendCapEnforcementUpdated
            OnboardingBonusGranted AwsMarketplaceEnterpriseSubscriptionLinked
        """),
    ),
    "RecipeVersion": (
        "Recipe versions: a dated pin, or unsafe-latest, which may change without notice.",
        ["2026-06", "unsafe-latest"],
    ),
}

# --------------------------------------------------------------------------------------------
# Overlay: which strings are media URIs, and of which kind
# --------------------------------------------------------------------------------------------

MEDIA_KINDS = ("image", "video", "audio")

# String-valued fields that are media URIs themselves.
MEDIA_FIELDS = {
    "promptImage": "image",
    "references": "image",  # the single-string form of the Kling O3 references
    "imageUri": "image",
    "maskUri": "image",
    "promptVideo": "video",
    "videoUri": "video",
    "audioUri": "audio",
    "audio": "audio",  # avatar_videos speech.audio (elsewhere audio is a boolean)
    "referenceAudios": "audio",  # seed_audio: an array of URI strings
}

# Fields holding objects (or arrays of objects) whose ``uri`` is a media URI of this kind,
# unless the object's own ``type`` tag names the kind.
URI_HOLDERS = {
    "promptImage": "image",
    "references": "image",
    "referenceImages": "image",
    "referenceImage": "image",
    "firstFrame": "image",
    "productImages": "image",
    "styleImages": "image",
    "image": "image",
    "characterImage": "image",
    "productImage": "image",
    "originalProductImage": "image",
    "newProductImages": "image",
    "keyframes": "image",
    "referenceVideos": "video",
    "referenceVideo": "video",
    "referenceAudio": "audio",
    "referenceAudios": "audio",
}

# --------------------------------------------------------------------------------------------
# Overlay: constraints the schema lacks, stated as facts in the reference
# (endpoint, models, field path, constraints). Paths use wire names, "[]" steps into array
# items; union branches are crossed automatically and each constraint lands on the nodes of
# the matching kind (item counts on arrays, ranges on numbers, lengths on strings).
# "unconfirmed": True records a constraint the reference marks unconfirmed: kept for the docs,
# never enforced.
# --------------------------------------------------------------------------------------------

UTF16 = {"length_unit": "utf16"}
TAG = {"min_length": 3, "max_length": 16, "pattern": "^[A-Za-z][A-Za-z0-9_]*$"}
UNIT = {"minimum": 0, "maximum": 1}
PERCENT = {"minimum": 0, "maximum": 100}
SEED32 = {"minimum": 0, "maximum": 4294967295}
KLING_CFG = ("kling3.0_4k", "kling3.0_pro", "kling3.0_standard", "kling2.5_turbo_pro")
KLING_O3 = ("klingO3_4k", "klingO3_pro", "klingO3_standard")
SEEDANCE2 = ("seedance2", "seedance2_fast", "seedance2_mini")
# Models whose reference-image tags the reference constrains (gemini_image3.1_flash_lite's are
# not described).
TAGGED = (
    "gen4_image_turbo",
    "gen4_image",
    "gpt_image_2",
    "gemini_image3.1_flash",
    "gemini_image3_pro",
    "gpt_image_2_5_flare",
    "gpt_image_2_5_sunburst",
    "nano_banana_2.1",
    "gemini_2.5_flash",
)
UTF16_PROMPTS = ("gen4.5", "gen4_turbo", "veo3.1", "veo3.1_fast", "happyhorse_1_0")

CONSTRAINTS: list[tuple[str, Models, str, dict[str, Any]]] = [
    # image_to_video
    ("image_to_video", UTF16_PROMPTS, "promptText", UTF16),
    (
        "image_to_video",
        ("gen4_turbo",),
        "duration",
        {"minimum": 2, "maximum": 10, "unconfirmed": True},
    ),
    ("image_to_video", KLING_O3, "references", {"max_items": 7}),
    ("image_to_video", ("kling_4",), "references", {"max_items": 10}),
    ("image_to_video", ("kling_4",), "referenceVideos", {"max_items": 5}),
    ("image_to_video", KLING_CFG, "cfgScale", UNIT),
    # text_to_video
    ("text_to_video", ("gen4.5", "veo3.1", "veo3.1_fast", "happyhorse_1_0"), "promptText", UTF16),
    ("text_to_video", ("hailuo3", *SEEDANCE2), "references", {"max_items": 9}),
    ("text_to_video", ("wan3", "wan3_prime", "kling_4"), "references", {"max_items": 10}),
    ("text_to_video", ("seedance2_5",), "references", {"max_items": 30}),
    ("text_to_video", ("kling_4",), "referenceVideos", {"max_items": 5}),
    ("text_to_video", KLING_CFG, "cfgScale", UNIT),
    # video_to_video
    ("video_to_video", ("aleph2",), "keyframes", {"max_items": 5}),
    ("video_to_video", ("aleph2",), "keyframes[].at", UNIT),
    ("video_to_video", KLING_O3, "references", {"max_items": 4}),
    ("video_to_video", ("hailuo3", *SEEDANCE2), "references", {"max_items": 9}),
    ("video_to_video", ("seedance2_5",), "references", {"max_items": 30}),
    ("video_to_video", ("kling_4",), "references", {"max_items": 10}),
    # text_to_image
    ("text_to_image", ("gen4_image_turbo", "gen4_image"), "promptText", UTF16),
    ("text_to_image", ("gen4_image_turbo",), "referenceImages", {"min_items": 1, "max_items": 3}),
    (
        "text_to_image",
        ("gen4_image", "grok_imagine_image_2", "gemini_2.5_flash"),
        "referenceImages",
        {"max_items": 3},
    ),
    (
        "text_to_image",
        ("gpt_image_2", "gpt_image_2_5_flare", "gpt_image_2_5_sunburst"),
        "referenceImages",
        {"max_items": 16},
    ),
    (
        "text_to_image",
        (
            "gemini_image3.1_flash",
            "gemini_image3.1_flash_lite",
            "gemini_image3_pro",
            "nano_banana_2.1",
        ),
        "referenceImages",
        {"max_items": 14},
    ),
    ("text_to_image", ("muse_image",), "referenceImages", {"max_items": 10}),
    ("text_to_image", ("bria_fibo_1_5",), "referenceImages", {"max_items": 1}),
    ("text_to_image", ("bria_fibo_edit_1_5",), "referenceImages", {"min_items": 1, "max_items": 4}),
    ("text_to_image", ("ideogram_4_5",), "referenceImages", {"max_items": 5}),
    ("text_to_image", TAGGED, "referenceImages[].tag", TAG),
    (
        "text_to_image",
        ("gpt_image_2", "gpt_image_2_5_flare", "gpt_image_2_5_sunburst"),
        "outputCount",
        {"minimum": 1, "maximum": 10},
    ),
    (
        "text_to_image",
        (
            "muse_image",
            "seedream5_pro",
            "seedream5_lite",
            "grok_imagine_image_2",
            "ideogram_4_0",
            "ideogram_4_5",
            "seedream5_flash",
            "nano_banana_2.1",
            "recraft_v4_1_flash",
        ),
        "outputCount",
        {"unconfirmed": True},
    ),
    # character_performance
    ("character_performance", "*", "expressionIntensity", {"minimum": 1, "maximum": 5}),
    ("character_performance", "*", "seed", SEED32),
    # upscalers
    ("image_upscale", "*", "sharpen", PERCENT),
    ("video_upscale", ("magnific_video_upscaler_creative",), "creativity", PERCENT),
    ("video_upscale", ("magnific_video_upscaler_creative",), "sharpen", PERCENT),
    # audio
    ("sound_effect", ("seed_audio",), "referenceAudios", {"max_items": 3}),
    ("text_to_speech", ("eleven_multilingual_v2",), "promptText", UTF16),
    ("text_to_speech", ("eleven_v3",), "seed", SEED32),
    ("text_to_speech", ("eleven_v3",), "similarityBoost", UNIT),
    ("text_to_speech", ("eleven_v3",), "stability", UNIT),
    ("text_to_speech", ("eleven_v3",), "style", UNIT),
    ("text_to_speech", ("eleven_v3",), "speed", {"minimum": 0.7, "maximum": 1.2}),
    ("text_to_speech", ("eleven_v4",), "speed", {"exclusive_minimum": 0, "unconfirmed": True}),
    ("avatar_videos", "*", "speech.text", {"min_length": 1, "max_length": 1000}),
    # recipes
    ("recipes.marketing_stock_image", "*", "outputCount", {"minimum": 1, "maximum": 4}),
    ("recipes.multi_shot_video", ("custom",), "shots", {"min_items": 3, "max_items": 5}),
    ("recipes.product_ad", "*", "productImages", {"min_items": 1, "max_items": 10}),
    ("recipes.product_ad", "*", "styleImages", {"max_items": 4}),
    ("recipes.product_ad", "*", "duration", {"minimum": 4, "maximum": 15}),
    ("recipes.product_swap", "*", "newProductImages", {"min_items": 1, "max_items": 10}),
    ("recipes.product_swap", "*", "duration", {"minimum": 4, "maximum": 15}),
    ("recipes.product_ugc", "*", "duration", {"minimum": 4, "maximum": 15}),
    # router-driven generation
    ("generate.video", "*", "input.keyframes[].at", UNIT),
    ("generate.image", "*", "input.outputCount", {"minimum": 1, "maximum": 10}),
    # "cite as @Audio1..@Audio3" implies at most three, but no count is stated.
    ("generate.audio", "*", "input.referenceAudios", {"max_items": 3, "unconfirmed": True}),
]

# --------------------------------------------------------------------------------------------
# Overlay: descriptions. DESCRIPTIONS gives the generic meaning of a field by its wire name;
# DESCRIBE overrides it where an endpoint uses the name differently (fnmatch patterns on the
# endpoint and the field path).
# --------------------------------------------------------------------------------------------

DESCRIPTIONS: dict[str, str] = {
    "applyTextNormalization": "Whether to spell out numbers and the like before speaking.",
    "aspectRatio": "Wanted aspect ratio; only models that support it are eligible.",
    "at": "Time of the keyframe as a fraction of the input's duration (0 = start, 1 = end).",
    "audio": "Whether to generate an audio track.",
    "audioUri": "The input audio.",
    "avatar": "The avatar: a Runway preset or one of your custom avatars.",
    "avatarId": "ID of your custom avatar.",
    "background": "Background of the image; transparent gives a PNG with alpha.",
    "backgroundColor": "Preferred background colour as a 6-digit hex code (a hint only).",
    "bodyControl": "Also transfer body and gesture motion, not just the face.",
    "cfgScale": "How strictly to follow the prompt, from 0 (free) to 1 (strict); default 0.5.",
    "character": "The character to animate, an image or a video; a face must stay in frame.",
    "characterImage": "Image of the person presenting the product.",
    "colors": "Preferred palette as 6-digit hex colour codes.",
    "configId": "Slug of the model router to use.",
    "contentModeration": "Content moderation settings.",
    "creativity": "How freely the upscaler may invent detail.",
    "disableVoiceCloning": "Use a generic voice instead of cloning the original speakers.",
    "draft": "Render a cheap 480p draft that draftTaskId can enhance later (default false).",
    "draftTaskId": "ID of a SUCCEEDED draft task to re-render at 1080p.",
    "dropBackgroundAudio": "Leave the background audio out of the result.",
    "duration": "Length of the output in seconds.",
    "edit": "Edit the reference image rather than generate from scratch.",
    "end_seconds": "End of the window in seconds (exclusive).",
    "expressionIntensity": "Strength of the transferred facial expressions (default 3).",
    "firstFrame": "Image the video starts from.",
    "flavor": "Style of the upscale.",
    "format": "Audio file format of the output.",
    "fpsBoost": "Also raise the frame rate.",
    "grounding": "Ground the prompt with a web search (default false).",
    "id": "ID of your custom voice.",
    "image": "Image of the product.",
    "imageUri": "The image to upscale.",
    "input": "What to generate; the router picks a model able to do it.",
    "keepOriginalSound": "Keep the sound of the input video (default true).",
    "keyframes": "Images pinned at given times of the video.",
    "languageCode": "Language of the text as an ISO 639-1 code; a region suffix is ignored.",
    "loop": "Make the sound loop seamlessly.",
    "loudnessRate": "Loudness change: 0 is normal, negative is quieter, positive is louder.",
    "maskUri": "Mask marking the area of the first reference image to edit.",
    "media": "The audio or video clip whose speech to convert.",
    "mode": "How the input video is used: as a reference, extended, or edited.",
    "model": "The model to run.",
    "multiPrompt": "Prompts of the successive segments of a multi-shot video.",
    "negativePrompt": "What the output should not contain.",
    "newProductImages": "Photos of the new product, optionally labelled by the side shown.",
    "nextText": "Text that follows, for continuity of intonation.",
    "numSpeakers": "Number of speakers; detected automatically when omitted.",
    "numVariants": "Number of variants to generate.",
    "originalProductImage": "Image of the product to replace.",
    "outputCount": "Number of images to generate; the cost scales with it.",
    "outputFormat": "File format of the output.",
    "pitchRate": "Pitch change in semitones; 0 leaves it unchanged.",
    "position": "Use the image as the first or last frame; omit it for a plain reference.",
    "preciseEdit": "Edit the first reference image precisely.",
    "presetId": "Name of the preset voice.",
    "preserveSpeech": "Keep the speech of the video's sound; its removal is not guaranteed.",
    "previousText": "Text that precedes, for continuity of intonation.",
    "productImage": "Image of the product.",
    "productImages": "Photos of the product; the first is the main one.",
    "productInfo": "Facts about the product to weave into the ad.",
    "prompt": "Description of what to create.",
    "promptExpansionMode": "How much the model rewrites the prompt (default balanced).",
    "promptImage": "The input image: one image URI, or a list of images with their roles.",
    "promptText": "Text prompt describing what to create.",
    "promptVideo": "The input video.",
    "proresProfile": "ProRes profile of a ProRes output.",
    "providerSettings": "Multi-shot settings of the Kling models.",
    "publicFigureThreshold": "low relaxes the blocking of recognisable public figures "
    "(default auto).",
    "quality": "Quality tier; higher tiers cost more.",
    "range": "Time window the keyframe applies to; the keyframe's time must lie inside it.",
    "ratio": "Size of the output as width:height in pixels, or an aspect preset.",
    "reference": "Video whose performance is transferred to the character.",
    "referenceAudio": "Reference audio clips.",
    "referenceAudios": "Reference audio clips, cited in the prompt as @Audio1 to @Audio3.",
    "referenceImage": "Reference image.",
    "referenceImages": "Reference images.",
    "referenceVideo": "Video to put the new product into.",
    "referenceVideos": "Reference video clips.",
    "references": "Reference images.",
    "removeBackgroundNoise": "Remove background noise from the input first.",
    "resolution": "Output resolution.",
    "role": "What the media is for.",
    "sampleRate": "Sample rate of the output in Hz.",
    "scaleFactor": "Upscale factor (default 2).",
    "seconds": "Time of the keyframe in seconds from the start.",
    "seed": "Random seed, random when omitted; the same seed and inputs give similar output.",
    "sharpen": "Amount of sharpening.",
    "shotType": "customize follows your multiPrompt segments; intelligence lets the model plan "
    "the shots.",
    "shots": "The shot list; shot durations must add up to the video's duration.",
    "similarityBoost": "How closely to stick to the original voice.",
    "smartGrain": "Amount of grain added to keep textures natural.",
    "speech": "What the avatar says: an audio clip or a text to speak.",
    "speechRate": "Speaking speed change: 0 is normal, negative is slower, positive faster.",
    "speed": "Speaking speed; 1 is normal.",
    "stability": "Stability of the voice; lower is more expressive.",
    "start_seconds": "Start of the window in seconds.",
    "style": "Amount of style exaggeration.",
    "styleImages": "Moodboard images setting the look.",
    "subject": "What the image shows: an object or a human.",
    "tag": "Name by which the prompt refers to this image.",
    "targetAspectRatio": "Outpaint to this aspect ratio, letterboxing the input and keyframes.",
    "targetFramerate": "Frame rate of the output; 23_98 means 23.976, and so on.",
    "targetLang": "Language to dub into.",
    "targetLanguage": "Language to localise the ad into.",
    "text": "Text for the avatar to speak.",
    "thinkingLevel": "How much the model reasons before drawing (default medium).",
    "ultraDetail": "Amount of fine detail added.",
    "uri": "URI of the media: https://, runway:// (an upload) or data:.",
    "useSpeakerBoost": "Boost the similarity to the original speaker.",
    "userConcept": "Your idea for the ad.",
    "version": "Recipe version: a dated pin, or unsafe-latest, which may change without notice.",
    "videoUri": "The input video.",
    "view": "Which side of the product the photo shows.",
    "voice": "The voice to speak with.",
}

DESCRIBE: list[tuple[str, str, str]] = [
    ("generate.audio", "input.duration", "Wanted length in seconds; filters the eligible models."),
    ("generate.audio", "input.loop", "Whether the sound must loop; filters the eligible models."),
    (
        "generate.audio",
        "input.promptText",
        "The script to speak (type speech) or a description of the sound (type audio).",
    ),
    (
        "generate.audio",
        "input.type",
        "speech speaks promptText verbatim; audio treats it as a description of the sound.",
    ),
    (
        "generate.audio",
        "input.voice",
        "A preset voice, or a reference audio to clone; a preset "
        "restricts the router to preset-voice models.",
    ),
    ("generate.audio", "input.voice.audioUri", "Audio sample of the voice to clone."),
    (
        "generate.image",
        "input.outputCount",
        "Number of images; filters the eligible models and scales the cost.",
    ),
    (
        "generate.image",
        "input.seed",
        "Random seed; only gen4_image and gen4_image_turbo honour it.",
    ),
    (
        "generate.*",
        "input.resolution",
        "Wanted resolution; only models that support it are eligible.",
    ),
    (
        "generate.video",
        "input.audio",
        "true: only models that make audio; false: silent models "
        "or models where audio can be turned off.",
    ),
    ("generate.video", "input.duration", "Wanted length in seconds; filters the eligible models."),
    ("generate.video", "input.keyframes", "Images pinned at given times; needs a source video."),
    (
        "generate.video",
        "input.referenceImages",
        "Images with their role: first frame, last frame, or plain reference.",
    ),
    (
        "generate.video",
        "input.referenceImages[].role",
        "first or last frame, or a plain reference.",
    ),
    (
        "generate.video",
        "input.referenceVideos",
        "Videos with their role: the source to edit, or a reference.",
    ),
    ("generate.video", "input.referenceVideos[].role", "source (the video to edit) or reference."),
    (
        "image_upscale",
        "flavor",
        "Kind of input: sublime (illustration), photo, or photo_denoiser (noisy photos).",
    ),
    ("video_upscale", "flavor", "Look of the upscale: vivid or natural."),
    ("video_upscale", "resolution", "Output resolution (default 2k)."),
    (
        "video_to_video",
        "duration",
        "Length of the video in seconds; with mode extend, the length added.",
    ),
    ("*_to_video", "duration", "Length of the video in seconds."),
    ("*", "*multiPrompt[].duration", "Length of this segment in seconds."),
    ("*", "*multiPrompt[].prompt", "Prompt of this segment."),
    ("recipes.multi_shot_video", "shots[].duration", "Length of this shot in seconds."),
    ("recipes.multi_shot_video", "shots[].prompt", "What happens in this shot."),
    ("recipes.multi_shot_video", "duration", "Length of the video in seconds (default 10)."),
    ("recipes.multi_shot_video", "prompt", "Description of the video."),
    ("recipes.marketing_stock_image", "prompt", "Description of the image."),
    ("recipes.marketing_stock_image", "referenceImage", "Image guiding the result."),
    ("recipes.marketing_stock_image", "quality", "Quality tier (default high)."),
    ("recipes.product_campaign_image", "prompt", "Description of the campaign."),
    ("recipes.ad_localization", "referenceImage", "The ad image to localise."),
    ("recipes.*", "duration", "Length of the video in seconds."),
    ("recipes.*", "audio", "Whether the video gets an audio track."),
    ("recipes.*", "ratio", "Size of the video as width:height in pixels."),
    ("recipes.product_swap", "resolution", "Resolution of the video (default 720p)."),
    (
        "recipes.product_swap",
        "newProductImages[].view",
        "Which side of the product the photo shows.",
    ),
    ("sound_effect", "duration", "Length of the sound in seconds."),
    ("sound_effect", "promptText", "Description of the sound."),
    ("sound_effect", "outputFormat", "Audio file format of the output."),
    ("sound_effect", "seed", "Random seed."),
    ("video_to_audio", "duration", "Length of the audio in seconds."),
    ("video_to_audio", "promptText", "Description of the sound to create."),
    ("video_to_audio", "seed", "Random seed."),
    ("text_to_speech", "promptText", "The text to speak."),
    ("text_to_speech", "outputFormat", "Audio file format of the output."),
    ("text_to_speech", "seed", "Random seed; determinism is best effort."),
    (
        "text_to_speech",
        "voice",
        "The voice: a preset voice for the Eleven models, or a voice "
        "cloned from an audio sample for seed_audio.",
    ),
    ("text_to_speech", "voice.audioUri", "Audio sample of the voice to clone."),
    ("speech_to_speech", "voice", "The preset voice to convert the speech to."),
    ("voice_dubbing", "audioUri", "The audio to dub."),
    ("voice_isolation", "audioUri", "The audio to isolate the voice from."),
    ("video_to_hdr", "outputFormat", "HDR format of the output (default hdr10)."),
    ("video_to_hdr", "videoUri", "The SDR video to convert."),
    ("video_upscale", "videoUri", "The video to upscale."),
    ("text_to_image", "outputFormat", "Image file format of the output."),
    (
        "text_to_image",
        "referenceImages",
        "Reference images, optionally tagged so that the prompt can refer to them.",
    ),
    ("text_to_image", "ratio", "Size of the image as width:height in pixels, or a preset."),
    (
        "text_to_image",
        "edit",
        "Edit the reference image rather than generate from scratch; "
        "needs at least one reference image.",
    ),
    (
        "text_to_image",
        "preciseEdit",
        "Edit the first reference image precisely; needs at least one reference image.",
    ),
    ("text_to_image", "seed", "Random seed; the same seed and request reproduce the image."),
    ("avatar_videos", "avatar.presetId", "Name of the preset avatar."),
    ("avatar_videos", "speech.audio", "The audio the avatar lip-syncs to."),
    (
        "avatar_videos",
        "speech.voice",
        "Voice that speaks the text; the avatar's own voice when omitted.",
    ),
    ("avatar_videos", "speech.voice.presetId", "Name of the preset live voice."),
    ("video_to_video", "references", "Reference images."),
    ("video_to_video", "ratio", "Size of the output as width:height in pixels."),
    ("*", "*.uri", "URI of the media: https://, runway:// (an upload) or data:."),
]

# Model-specific notes: (endpoint pattern, models, field path, text).
SEEDANCE = (*SEEDANCE2, "seedance2_5")
KEYFRAMES_OR_REFS = (
    "Items with a position (first/last) are keyframes, items without are references; the two "
    "can't be mixed."
)
FIRST_OR_FIRST_LAST = "A first frame, or a first and an optional last frame."
MULTI_PROMPT = (
    "The segment durations must total 3-15 s; with shotType intelligence promptText is still "
    "needed; shotType defaults to customize when multiPrompt is given."
)
NOTES: list[tuple[str, Models, str, str]] = [
    # image_to_video
    (
        "image_to_video",
        ("gen4.5", "gen4_turbo", "happyhorse_1_0"),
        "promptImage",
        "The first frame.",
    ),
    (
        "image_to_video",
        ("veo3.1", "veo3.1_fast"),
        "promptImage",
        FIRST_OR_FIRST_LAST + " A last frame alone is not allowed.",
    ),
    (
        "image_to_video",
        (*KLING_O3, "kling3.0_4k", "kling3.0_pro", "kling3.0_standard"),
        "promptImage",
        FIRST_OR_FIRST_LAST + " With both, the aspect follows the first.",
    ),
    (
        "image_to_video",
        ("kling2.5_turbo_pro",),
        "promptImage",
        FIRST_OR_FIRST_LAST + " The aspect follows the image (there is no ratio).",
    ),
    (
        "image_to_video",
        ("hailuo3", "wan3", "wan3_prime", *SEEDANCE),
        "promptImage",
        KEYFRAMES_OR_REFS,
    ),
    (
        "image_to_video",
        ("hailuo3", "wan3", "wan3_prime", "kling_4"),
        "promptImage",
        "The SDK leaves the item shape untyped ({uri, position?} per the reference).",
    ),
    ("image_to_video", ("gemini_omni_flash",), "promptImage", "The first frame only."),
    (
        "image_to_video",
        ("grok_imagine_1_5", "grok_imagine_1_5_lite"),
        "promptImage",
        "The start frame; its aspect (0.4-2.5) is kept in the output.",
    ),
    ("image_to_video", ("gemini_omni_flash_1.1",), "promptImage", FIRST_OR_FIRST_LAST),
    (
        "image_to_video",
        ("h3_max",),
        "promptImage",
        FIRST_OR_FIRST_LAST + " Each image at least 256 px per side.",
    ),
    (
        "image_to_video",
        ("kling_4",),
        "promptImage",
        "A first frame, or first, optional middle and optional last frames; the aspect "
        "follows the first.",
    ),
    ("image_to_video", ("kling_4",), "references", "At most 10 images counting the keyframes."),
    (
        "image_to_video",
        ("kling_4",),
        "referenceVideos",
        "Combined length at most 30 s; the SDK leaves the item shape untyped.",
    ),
    (
        "image_to_video",
        ("gen4_turbo",),
        "duration",
        "2-10 per the docs, unconfirmed for this model.",
    ),
    (
        "image_to_video",
        ("happyhorse_1_0", "grok_imagine_1_5"),
        "resolution",
        "The aspect follows the image.",
    ),
    (
        "image_to_video",
        ("grok_imagine_1_5_lite",),
        "ratio",
        "The aspect follows the input; auto_1080p is 720p upscaled.",
    ),
    ("image_to_video", ("kling_4",), "ratio", "The framing follows the input."),
    # image_to_video and text_to_video share most model notes
    ("*_to_video", ("veo3.1", "veo3.1_fast"), "audio", "Audio changes the price."),
    ("*_to_video", "*", "providerSettings", MULTI_PROMPT),
    (
        "*_to_video",
        ("hailuo3",),
        "ratio",
        "adaptive only with image or video references; text alone needs a fixed ratio.",
    ),
    (
        "*_to_video",
        ("hailuo3", "happyhorse_1_0"),
        "resolution",
        "The upper-case values are deprecated aliases.",
    ),
    (
        "*_to_video",
        ("hailuo3",),
        "referenceAudio",
        "Needs promptText; combined length at most 15 s.",
    ),
    (
        "*_to_video",
        (*SEEDANCE2, "wan3", "wan3_prime"),
        "referenceAudio",
        "Combined length at most 15 s.",
    ),
    ("*_to_video", ("seedance2_5",), "referenceAudio", "Combined length under 30 s."),
    (
        "*_to_video",
        ("hailuo3", *SEEDANCE2, "wan3", "wan3_prime"),
        "referenceVideos",
        "Combined length at most 15 s.",
    ),
    ("*_to_video", ("seedance2_5",), "referenceVideos", "Combined length at most 30 s."),
    ("*_to_video", ("kling2.5_turbo_pro",), "duration", "Default 5."),
    (
        "*_to_video",
        SEEDANCE,
        "duration",
        "auto lets the model choose; the maximum is billed up front and the unused part refunded.",
    ),
    (
        "*_to_video",
        ("seedance2_5",),
        "draft",
        "Enhance the draft within 7 days through text_to_video with draftTaskId.",
    ),
    ("*_to_video", ("seedance2_5",), "outputFormat", "Default mp4; drafts are mp4 only."),
    ("*_to_video", ("seedance2_fast", "seedance2_mini"), "ratio", "480p and 720p sizes only."),
    (
        "*_to_video",
        ("wan3", "wan3_prime"),
        "ratio",
        "Keyframe image-to-video must use auto_480p, auto_720p or auto_1080p.",
    ),
    ("*_to_video", ("h3_max",), "seed", "Repeatable only with promptExpansionMode disabled."),
    ("*_to_video", ("gen4.5",), "outputFormat", "Default mp4; other formats cost extra."),
    (
        "*_to_video",
        ("gen4.5",),
        "proresProfile",
        "Only with outputFormat prores (any profile, default 4444) or hdr_prores (422, 422 HQ "
        "or 4444; default 422 HQ).",
    ),
    ("*_to_video", ("gemini_omni_flash_1.1",), "duration", "auto, or a number of seconds."),
    # text_to_video
    (
        "text_to_video",
        ("seedance2_5",),
        "draftTaskId",
        "Send no other generation fields with it; the draft must be at most 7 days old.",
    ),
    ("text_to_video", ("seedance2_5",), "ratio", "Default 1280:720."),
    ("text_to_video", ("seedance2_5",), "duration", "Default 5."),
    (
        "text_to_video",
        ("grok_imagine_1_5",),
        "referenceAudio",
        "Needs at least one image reference; each clip 3-15 s.",
    ),
    ("text_to_video", ("grok_imagine_1_5",), "resolution", "At most 720p with image references."),
    ("text_to_video", ("grok_imagine_1_5_lite",), "ratio", "The 1080p sizes are 720p upscaled."),
    (
        "text_to_video",
        ("kling_4",),
        "ratio",
        "A fixed size, or auto_720p/auto_1080p adaptive framing.",
    ),
    ("text_to_video", ("kling_4",), "references", "At most 10 images counting the keyframes."),
    (
        "text_to_video",
        ("kling_4",),
        "referenceVideos",
        "Combined length at most 30 s; the SDK leaves the item shape untyped.",
    ),
    # video_to_video
    (
        "video_to_video",
        ("aleph2",),
        "keyframes",
        "Each keyframe gives seconds (absolute) or at (a fraction); either every keyframe has a "
        "range or none does.",
    ),
    ("video_to_video", ("aleph2",), "outputFormat", "Default mp4; other formats cost extra."),
    (
        "video_to_video",
        ("aleph2",),
        "proresProfile",
        "Only with outputFormat prores; default 4444.",
    ),
    ("video_to_video", KLING_O3, "providerSettings.keepOriginalSound", "Video-to-video only."),
    (
        "video_to_video",
        ("seedance2_5",),
        "mode",
        "Default reference (takes duration and ratio); extend needs promptText and no ratio; "
        "edit needs promptText, duration auto and no ratio.",
    ),
    ("video_to_video", ("seedance2_5",), "duration", "Default 5."),
    ("video_to_video", ("kling_4",), "ratio", "The framing follows the input."),
    ("video_to_video", ("kling_4",), "references", "At most 10 images counting the keyframes."),
    # text_to_image
    (
        "text_to_image",
        TAGGED,
        "referenceImages[].tag",
        "3-16 characters: a letter, then letters, digits or underscores.",
    ),
    (
        "text_to_image",
        ("gpt_image_2", "gpt_image_2_5_flare", "gpt_image_2_5_sunburst"),
        "referenceImages",
        "Tags must be unique.",
    ),
    (
        "text_to_image",
        ("gpt_image_2_5_flare", "gpt_image_2_5_sunburst", "grok_imagine_image_2"),
        "referenceImages",
        "Each reference adds credits.",
    ),
    (
        "text_to_image",
        ("gemini_image3.1_flash", "gemini_image3.1_flash_lite", "gemini_image3_pro"),
        "referenceImages",
        "At most 5 with subject human and 9 with subject object.",
    ),
    (
        "text_to_image",
        ("muse_image",),
        "referenceImages",
        "References switch to edit/combine mode.",
    ),
    (
        "text_to_image",
        ("seedream5_pro", "seedream5_lite", "seedream5_flash"),
        "referenceImages",
        "Refer to them as Figure 1, 2, ... in the prompt.",
    ),
    ("text_to_image", ("ideogram_4_0",), "referenceImages", "The image to remix."),
    (
        "text_to_image",
        ("ideogram_4_5",),
        "referenceImages",
        "With maskUri or preciseEdit the first one is edited.",
    ),
    ("text_to_image", ("gpt_image_2", "gpt_image_2_5_sunburst"), "background", "Default auto."),
    ("text_to_image", ("gpt_image_2_5_flare",), "background", "Default auto."),
    (
        "text_to_image",
        ("gpt_image_2", "gpt_image_2_5_flare", "gpt_image_2_5_sunburst"),
        "quality",
        "Default high.",
    ),
    ("text_to_image", ("grok_imagine_image_2",), "quality", "Default medium; low costs less."),
    (
        "text_to_image",
        ("ideogram_4_0",),
        "quality",
        "low, medium and high cost 4, 7 and 11 credits per image.",
    ),
    (
        "text_to_image",
        ("ideogram_4_5",),
        "quality",
        "Default medium with references, high otherwise; very_low needs references and "
        "excludes preciseEdit.",
    ),
    (
        "text_to_image",
        ("gemini_image3.1_flash", "gemini_image3.1_flash_lite", "gemini_image3_pro"),
        "outputCount",
        "1 or 4.",
    ),
    (
        "text_to_image",
        (
            "muse_image",
            "seedream5_pro",
            "seedream5_lite",
            "grok_imagine_image_2",
            "ideogram_4_0",
            "ideogram_4_5",
            "seedream5_flash",
            "nano_banana_2.1",
            "recraft_v4_1_flash",
        ),
        "outputCount",
        "The allowed range is unconfirmed.",
    ),
    (
        "text_to_image",
        ("gpt_image_2", "gpt_image_2_5_flare", "gpt_image_2_5_sunburst", "muse_image"),
        "ratio",
        "auto lets the model choose.",
    ),
    (
        "text_to_image",
        ("seedream5_pro", "seedream5_flash", "grok_imagine_image_2"),
        "ratio",
        "auto_1k/auto_2k fix the size tier and let the model pick the aspect.",
    ),
    (
        "text_to_image",
        ("seedream5_lite",),
        "ratio",
        "Any W:H with 3,686,400 <= W*H <= 16,777,216 is accepted too.",
    ),
    (
        "text_to_image",
        ("bria_fibo_edit_1_5",),
        "ratio",
        "Omit or auto to keep the first image's framing; an explicit size needs at least 2 "
        "references.",
    ),
    (
        "text_to_image",
        ("ideogram_4_5",),
        "ratio",
        "With references use 1024:576, 576:1024, 1408:704 or 704:1408 instead of the 16:9 and "
        "2:1 sizes; not allowed with maskUri or preciseEdit.",
    ),
    ("text_to_image", ("recraft_v4_1_vector",), "ratio", "Declared size of the SVG."),
    ("text_to_image", ("ideogram_4_5",), "quality", "very_low is not allowed with preciseEdit."),
    (
        "text_to_image",
        ("muse_image", "recraft_v4_1_flash"),
        "outputFormat",
        "Default png for muse_image, webp for recraft_v4_1_flash.",
    ),
    (
        "text_to_image",
        (
            "bria_fibo_1_5",
            "bria_fibo_edit_1_5",
            "seedream5_pro",
            "seedream5_lite",
            "seedream5_flash",
        ),
        "outputFormat",
        "Default png.",
    ),
    # character_performance
    ("character_performance", "*", "reference", "3-30 s long."),
    # text_to_speech
    (
        "text_to_speech",
        ("eleven_v4", "eleven_v3"),
        "promptText",
        "May include tags such as [laughs] or [whispers].",
    ),
    ("text_to_speech", ("seed_audio",), "voice", "Optional: the default voice when omitted."),
    ("text_to_speech", ("eleven_v3",), "speed", "Default 1.0."),
    ("text_to_speech", ("eleven_v4",), "speed", "Above 0; the range is unconfirmed."),
    # sound_effect
    (
        "sound_effect",
        ("eleven_text_to_sound_v2",),
        "duration",
        "Chosen automatically when omitted.",
    ),
    # recipes
    ("recipes.product_ad", "*", "duration", "Default 10."),
    ("recipes.product_swap", "*", "duration", "Default 10."),
    ("recipes.product_ugc", "*", "duration", "Default 15."),
    ("recipes.product_swap", "*", "referenceVideo", "1.8-15 s long."),
    ("recipes.product_ugc", "*", "characterImage", "Aspect (width/height) 0.4-4."),
    ("recipes.product_ugc", "*", "productImage", "Aspect (width/height) 0.4-4."),
    (
        "recipes.multi_shot_video",
        "*",
        "ratio",
        "720p sizes use the standard tier, 1080p sizes the pro tier; default 1280:720.",
    ),
    ("recipes.marketing_stock_image", "*", "outputCount", "Default 4."),
    (
        "generate.audio",
        "*",
        "input.referenceAudios",
        "At most 3 (implied by the citation names; unconfirmed).",
    ),
    ("generate.video", "*", "input.referenceImages", "At most one first and one last frame."),
    ("generate.video", "*", "input.referenceVideos", "At most one source video."),
]


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


class SpecBuildError(Exception):
    """The schema or the overlay is inconsistent; the message says where."""


def python_name(wire: str) -> str:
    """Return the Python name of a wire name: ``_`` before each capital, then lower-case."""
    return re.sub(r"([A-Z])", r"_\1", wire).lower()


def endpoint_name(path: str) -> str:
    """Return the client resource path of an API path (``/v1/recipes/x`` -> ``recipes.x``)."""
    parts = path.removeprefix("/v1/").split("/")
    return ".".join(parts)


def convert(schema: Node, where: str) -> Node:
    """Convert one JSON-schema node into a spec node (fields get their extras later)."""
    known = {"type", "properties", "required", "enum", "anyOf", "items", "values", "title"}
    known |= {"minimum", "maximum", "minLength", "maxLength"}
    unknown = set(schema) - known
    if unknown:
        raise SpecBuildError(f"{where}: schema keys not understood: {sorted(unknown)}")
    if "anyOf" in schema:
        branches = [convert(b, f"{where}|{i}") for i, b in enumerate(schema["anyOf"])]
        node: Node = {"type": "union", "any_of": branches}
        tag = union_tag(branches)
        if tag:
            node["tag"] = tag
        return node
    kind = schema.get("type")
    enum = schema.get("enum")
    if kind is None:
        if enum is None:
            return {"type": "any"}
        kind = enum_type(enum, where)
    if kind not in {"string", "integer", "number", "boolean", "array", "object", "map"}:
        raise SpecBuildError(f"{where}: type {kind!r} not understood")
    node = {"type": kind}
    if enum is not None:
        node["enum"] = list(enum)
    for src, dst in (
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("minLength", "min_length"),
        ("maxLength", "max_length"),
    ):
        if src in schema:
            node[dst] = schema[src]
    if kind == "object":
        required = set(schema.get("required", ()))
        node["fields"] = {
            wire: field(sub, wire, wire in required, f"{where}.{wire}")
            for wire, sub in schema.get("properties", {}).items()
        }
        if schema.get("title"):
            node["title"] = schema["title"]
    elif kind == "array":
        node["items"] = convert(schema["items"], f"{where}[]")
    elif kind == "map":
        node["values"] = convert(schema["values"], f"{where}{{}}")
    return node


def field(schema: Node, wire: str, required: bool, where: str) -> Node:
    """Convert an object member: its node plus the Python name and whether it is required."""
    node = convert(schema, where)
    node["python_name"] = python_name(wire)
    node["required"] = required
    return node


def enum_type(values: list[Any], where: str) -> str:
    """Return the JSON type shared by an enum's values."""
    if all(isinstance(v, str) for v in values):
        return "string"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    raise SpecBuildError(f"{where}: enum mixes types: {values!r}")


def union_tag(branches: list[Node]) -> str | None:
    """Return the member that tells the object branches of a union apart, if there is one."""
    if len(branches) < 2 or any(b["type"] != "object" for b in branches):
        return None
    candidates = set.intersection(*(set(b["fields"]) for b in branches))
    for name in sorted(candidates, key=lambda n: (n != "type", n)):
        members = [b["fields"][name] for b in branches]
        if all(m.get("required") and len(m.get("enum") or ()) == 1 for m in members):
            values = [m["enum"][0] for m in members]
            if len(set(values)) == len(values):
                return name
    return None


def walk(fields: dict[str, Node], path: str = "") -> Iterator[tuple[str, Node, Node]]:
    """Yield ``(path, field, node)`` for every node below ``fields``, union branches included."""
    for wire, member in fields.items():
        yield from walk_node(member, f"{path}.{wire}" if path else wire, member)


def walk_node(node: Node, path: str, member: Node) -> Iterator[tuple[str, Node, Node]]:
    """Yield ``(path, field, node)`` for ``node`` and everything below it."""
    yield path, member, node
    kind = node["type"]
    if kind == "union":
        for branch in node["any_of"]:
            yield from walk_node(branch, path, member)
    elif kind == "array":
        yield from walk_node(node["items"], path + "[]", member)
    elif kind == "map":
        yield from walk_node(node["values"], path + "{}", member)
    elif kind == "object":
        yield from walk(node["fields"], path)


def assign_media(fields: dict[str, Node], holder: str | None, where: str) -> None:
    """Mark every media-URI string below ``fields`` with its media kind."""
    tag = fields.get("type", {}).get("enum") or []
    kind_tag = tag[0] if len(tag) == 1 and tag[0] in MEDIA_KINDS else None
    for wire, member in fields.items():
        _assign_media(member, wire, holder, kind_tag, f"{where}.{wire}")


def _assign_media(node: Node, wire: str, holder: str | None, tag: str | None, where: str) -> None:
    kind = node["type"]
    if kind == "string" and "enum" not in node:
        if wire == "uri":
            media = tag or URI_HOLDERS.get(holder or "")
            if media is None:
                raise SpecBuildError(f"{where}: no media kind known for a uri under {holder!r}")
            node["media"] = media
        elif wire in MEDIA_FIELDS:
            node["media"] = MEDIA_FIELDS[wire]
    elif kind == "union":
        for branch in node["any_of"]:
            _assign_media(branch, wire, holder, tag, where)
    elif kind == "array":
        _assign_media(node["items"], wire, holder, tag, where + "[]")
    elif kind == "map":
        _assign_media(node["values"], wire, holder, tag, where + "{}")
    elif kind == "object":
        assign_media(node["fields"], wire, where)


def constraint_targets(keys: set[str]) -> set[str]:
    """Return the node types a set of constraint keys applies to."""
    if keys & {"min_items", "max_items"}:
        return {"array"}
    if keys & {"minimum", "maximum", "exclusive_minimum"}:
        return {"integer", "number"}
    if keys & {"min_length", "max_length", "length_unit", "pattern"}:
        return {"string"}
    return {"integer", "number", "string", "array"}


def model_matches(models: Models, value: str | None) -> bool:
    """Return whether an overlay entry's model selector covers a variant."""
    return models == "*" or value in models


def apply_overlay(endpoints: dict[str, Node], plain: dict[str, Node] | None = None) -> None:
    """Apply media kinds, constraints, descriptions, notes and enum names; fail on unused rules.

    The plain endpoints (written whole in PLAIN) only get their enums named.
    """
    used: dict[tuple[str, int], int] = {}
    for entry in (plain or {}).values():
        for part in ("path_params", "query", "body"):
            for _, _, node in walk(entry[part] or {}):
                tag_enum(node, used)

    for name, endpoint in endpoints.items():
        for variant in endpoint["variants"]:
            value = variant.get("value")
            assign_media(variant["fields"], None, f"{name}:{value}")
            nodes = list(walk(variant["fields"]))
            for i, (ep, models, path, constraints) in enumerate(CONSTRAINTS):
                if not fnmatch.fnmatchcase(name, ep) or not model_matches(models, value):
                    continue
                targets = constraint_targets(set(constraints))
                hits = [n for p, _, n in nodes if p == path and n["type"] in targets]
                hits = [n for n in hits if "enum" not in n]
                if not hits:
                    continue
                used[("constraint", i)] = used.get(("constraint", i), 0) + 1
                for node in hits:
                    for key, val in constraints.items():
                        if key in node and node[key] != val:
                            raise SpecBuildError(
                                f"{name}:{value}:{path}: overlay {key}={val!r} contradicts the "
                                f"schema's {node[key]!r}"
                            )
                        node[key] = val
            for path, member, node in nodes:
                if node is not member:
                    continue
                member["description"] = describe(name, path, used)
                notes = []
                for i, (ep, models, note_path, text) in enumerate(NOTES):
                    matches = note_path == path and fnmatch.fnmatchcase(name, ep)
                    if matches and model_matches(models, value):
                        used[("note", i)] = used.get(("note", i), 0) + 1
                        notes.append(text)
                if notes:
                    member["notes"] = " ".join(notes)
            for _, _, node in nodes:
                tag_enum(node, used)

    unused = [
        ("constraint", i, r) for i, r in enumerate(CONSTRAINTS) if ("constraint", i) not in used
    ]
    unused += [("note", i, r) for i, r in enumerate(NOTES) if ("note", i) not in used]
    unused += [("describe", i, r) for i, r in enumerate(DESCRIBE) if ("describe", i) not in used]
    unused += [("enum", 0, e) for e in ENUMS if ("enum", e) not in used]
    if unused:
        lines = "\n".join(f"  {kind} {rule!r}" for kind, _, rule in unused)
        raise SpecBuildError(f"overlay rules that matched nothing:\n{lines}")


def describe(endpoint: str, path: str, used: dict[Any, int]) -> str:
    """Return the description of the field at ``path``: the first override, else the generic."""
    for i, (ep, pattern, text) in enumerate(DESCRIBE):
        if fnmatch.fnmatchcase(endpoint, ep) and fnmatch.fnmatchcase(path, pattern):
            used[("describe", i)] = used.get(("describe", i), 0) + 1
            return text
    wire = path.rsplit(".", 1)[-1].removesuffix("[]")
    if wire == "type":
        return "Tag telling which kind of object this is."
    try:
        return DESCRIPTIONS[wire]
    except KeyError:
        raise SpecBuildError(f"{endpoint}:{path}: no description") from None


def tag_enum(node: Node, used: dict[Any, int]) -> None:
    """Name a node's enum when it is exactly one of the named enums."""
    values = node.get("enum")
    if not values:
        return
    for enum_name, (_, named) in ENUMS.items():
        if values == named:
            node["enum_name"] = enum_name
            used[("enum", enum_name)] = 1


def discriminator_of(variants: list[Node], name: str) -> str | None:
    """Return the member the variants of an endpoint are told apart by."""
    if all(v.get("models") for v in variants):
        return "model"
    if len(variants) == 1:
        return None
    schemas = [v["schema"] for v in variants]
    common = set.intersection(*(set(s.get("properties", {})) for s in schemas))
    for key in sorted(common):
        enums = [s["properties"][key].get("enum") or [] for s in schemas]
        if all(len(e) == 1 for e in enums) and len({e[0] for e in enums}) == len(enums):
            return key
    raise SpecBuildError(f"{name}: cannot tell its variants apart")


# ============================================================================================
# Overlay: the plain endpoints (reference sections 3, 6-9, 11, 12.5, 14)
#
# The resource calls that create no task. The schema covers none of them but the body of
# workflows.run (taken from it, see WORKFLOW_RUN); everything else is written here whole, one
# entry per endpoint: method, path, a one-line summary (used in docs), the reply in words,
# and the members of its path, query and body, each with its type, whether it is required
# (the official SDK's types decide), its constraints and a description. Python names are
# derived from wire names (PYTHON_NAMES lists the exceptions).
# ============================================================================================

PYTHON_NAMES = {"from": "from_"}  # Python keywords: the official SDK's trailing underscore


def string(**extra: Any) -> Node:
    """Return a string node."""
    return {"type": "string", **extra}


def integer(**extra: Any) -> Node:
    """Return an integer node."""
    return {"type": "integer", **extra}


def number(**extra: Any) -> Node:
    """Return a number node."""
    return {"type": "number", **extra}


def boolean() -> Node:
    """Return a boolean node."""
    return {"type": "boolean"}


def untyped() -> Node:
    """Return a node of any JSON value."""
    return {"type": "any"}


def one_of(*values: Any) -> Node:
    """Return a closed enum node (string or integer values)."""
    return {"type": enum_type(list(values), "plain enum"), "enum": list(values)}


def array(items: Node, **extra: Any) -> Node:
    """Return an array node."""
    return {"type": "array", "items": items, **extra}


def csv(items: Node, **extra: Any) -> Node:
    """Return a query list, sent as one comma-separated string."""
    return {"type": "array", "items": items, "csv": True, **extra}


def obj(fields: dict[str, Node], title: str | None = None) -> Node:
    """Return an object node; its members get their Python names."""
    for wire, member in fields.items():
        member.setdefault("python_name", PYTHON_NAMES.get(wire, python_name(wire)))
    node: Node = {"type": "object", "fields": fields}
    if title:
        node["title"] = title
    return node


def union(*branches: Node) -> Node:
    """Return a union node, tagged when its object branches have a constant tag member."""
    node: Node = {"type": "union", "any_of": list(branches)}
    tag = union_tag(list(branches))
    if tag:
        node["tag"] = tag
    return node


def req(node: Node, description: str, **extra: Any) -> Node:
    """Return a required member."""
    return {**node, "required": True, "description": description, **extra}


def opt(node: Node, description: str, **extra: Any) -> Node:
    """Return an optional member."""
    return {**node, "required": False, "description": description, **extra}


def nullable(node: Node) -> Node:
    """Return the node accepting null too (null clears the member on updates)."""
    return {**node, "nullable": True}


def tag(value: str) -> Node:
    """Return the required constant ``type`` member of a tagged object."""
    return req(one_of(value), "Tag telling which kind of object this is.")


def path_id(what: str) -> dict[str, Node]:
    """Return the ``{id}`` path parameter of one object."""
    return {"id": req(string(min_length=1), f"ID of the {what}.")}


PAGE: dict[str, Node] = {
    "limit": req(integer(minimum=1), "Most items per page."),
    "cursor": opt(string(), "Where the page starts: the nextCursor of the previous page."),
}
ISO_DATETIME = string(format="date-time")
ISO_DATETIME_OR_DATE = string(format="date-time-or-date")
ORGANIZATION_ID = opt(
    string(),
    "Organization to report on; needed only when the API project is linked to several.",
)
TOOL_NAME = string(pattern="^[A-Za-z_][A-Za-z0-9_]*$")


def live_voice() -> Node:
    """Return the voice of an avatar: a live preset or a custom voice."""
    return union(
        obj(
            {
                "presetId": req(one_of(*ENUMS["LiveVoiceId"][1]), "Name of the preset voice."),
                "type": tag("runway-live-preset"),
            }
        ),
        obj(
            {
                "id": req(string(min_length=1), "ID of your custom voice."),
                "type": tag("custom"),
            }
        ),
    )


def voice_design(prompt_text: str) -> dict[str, Node]:
    """Return the members of a voice design: model and prompt."""
    return {
        "model": req(
            one_of("eleven_ttv_v3", "eleven_multilingual_ttv_v2"),
            "Voice design model; eleven_ttv_v3 is the newest.",
        ),
        "prompt": req(string(min_length=20), prompt_text),
    }


def tool_parameter() -> Node:
    """Return one parameter of a realtime tool (tagged by its JSON type)."""

    def param(kind: str, **more: Node) -> Node:
        return obj(
            {
                "description": req(string(), "What the parameter means."),
                "name": req(string(), "Name of the parameter."),
                "type": tag(kind),
                **more,
                "required": opt(boolean(), "Whether the parameter is required."),
            }
        )

    return union(
        param("string", enum=opt(array(string()), "Allowed values of the parameter.")),
        param("integer"),
        param("number"),
        param("boolean"),
        param(
            "array",
            items=req(
                obj(
                    {
                        "type": req(
                            one_of("string", "integer", "number", "boolean"),
                            "JSON type of each item.",
                        )
                    }
                ),
                "The type of the items.",
            ),
        ),
        param("object", properties=req(array(untyped()), "The properties of the object.")),
    )


def tool(kind: str, **more: Node) -> Node:
    """Return a realtime tool of one kind."""
    return obj(
        {
            "description": req(string(), "When and how the avatar should use the tool."),
            "name": req(
                TOOL_NAME,
                "Name of the tool: a letter or underscore, then letters, digits or underscores.",
            ),
            "type": tag(kind),
            "parameters": opt(array(tool_parameter()), "The tool's parameters."),
            **more,
        }
    )


def router_settings(*, update: bool) -> Node:
    """Return the settings of a model router (``update``: caps may be null, to remove them)."""
    cap = nullable(integer()) if update else integer()

    def caps(modality: str) -> Node:
        text = f"Most credits per generated {modality}"
        return opt(cap, text + ("; null removes the cap." if update else "."))

    max_credits = obj({m: caps(m) for m in ("audio", "image", "video")})
    return obj(
        {
            "fallback": opt(
                obj(
                    {
                        "onCapacity": opt(
                            boolean(),
                            "Skip models at their concurrency limit instead of queueing.",
                        )
                    }
                ),
                "What routing does when the preferred model cannot start at once.",
            ),
            "maxCreditsPerGeneration": opt(
                nullable(max_credits) if update else max_credits,
                "Per-modality credit caps per generated output; models above them are "
                "excluded" + ("; null removes every cap." if update else "."),
            ),
            "models": opt(
                obj(
                    {
                        "ids": req(array(string()), "Model names."),
                        "mode": req(
                            one_of("allow_new_except", "allowlist_only"),
                            "allowlist_only: only these models; allow_new_except: all but these.",
                        ),
                    }
                ),
                "Which models the router may pick.",
            ),
            "optimizeFor": opt(
                one_of("cost", "latency", "quality"),
                "Soft preference among eligible models (default cost).",
            ),
            "schemaVersion": opt(one_of(1), "Settings schema version; omit it on writes."),
        }
    )


# Descriptions of the workflows.run body (its shape comes from the schema), by field path.
WORKFLOW_RUN = {
    "nodeOutputs": "Values overriding node outputs: node id -> output key -> typed value.",
    "nodeOutputs{}{}.type": "Tag telling which kind of object this is.",
    "nodeOutputs{}{}.value": "The value: a string, number or boolean.",
    "nodeOutputs{}{}.uri": "URI of the media: https://, runway:// (an upload) or data:.",
}

NO_PARAMS: dict[str, Node] = {}
FROM_SCHEMA = "from the schema"  # a body taken from the schema (workflows.run)

# Endpoint name (the client method path) -> its entry. Keys of an entry: method, path,
# call? (the public method, when it is not the endpoint name), summary, reply, notes?,
# paginated?, path_params, query, body (None: no body), min_body_fields?, date_range?
# ({start, end, max_days?}, wire names).
PLAIN: dict[str, dict[str, Any]] = {
    "uploads.create": {
        "method": "POST",
        "path": "/v1/uploads",
        "call": "uploads.create_ephemeral(file=...)",
        "summary": "Start an ephemeral upload: get a runway:// URI and where to send the file.",
        "reply": "{runwayUri, uploadUrl, fields}",
        "notes": "The file then goes to uploadUrl as a multipart POST of the fields plus the "
        "file (no Runway credentials); uploads.create_ephemeral does both steps.",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": {
            "filename": req(
                string(min_length=1),
                "Name of the file, with its extension (the type is guessed from it).",
            ),
            "type": req(one_of("ephemeral"), "Kind of upload; ephemeral is the only one."),
        },
    },
    "workflows.list": {
        "method": "GET",
        "path": "/v1/workflows",
        "summary": "List the published workflows, grouped by source workflow with their versions.",
        "reply": "{data: Workflow[]} (not paginated)",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": None,
    },
    "workflows.retrieve": {
        "method": "GET",
        "path": "/v1/workflows/{id}",
        "summary": "Get one published workflow version with its graph.",
        "reply": "Workflow",
        "path_params": path_id("published workflow version"),
        "query": NO_PARAMS,
        "body": None,
    },
    "workflows.run": {
        "method": "POST",
        "path": "/v1/workflows/{id}",
        "summary": "Run a published workflow, optionally overriding node outputs.",
        "reply": "{id} of the workflow invocation",
        "notes": "Poll the invocation with workflow_invocations.retrieve, not tasks.",
        "path_params": path_id("published workflow version"),
        "query": NO_PARAMS,
        "body": FROM_SCHEMA,
    },
    "workflow_invocations.retrieve": {
        "method": "GET",
        "path": "/v1/workflow_invocations/{id}",
        "summary": "Get a workflow invocation: its status, progress and outputs.",
        "reply": "WorkflowInvocation",
        "path_params": path_id("workflow invocation"),
        "query": NO_PARAMS,
        "body": None,
    },
    "organization.webapp.list_usage": {
        "method": "GET",
        "path": "/v1/organization/webapp/usage",
        "summary": "List the credit usage of the linked web-app workspaces, newest first.",
        "reply": "CursorPage of usage rows",
        "notes": "A cursor can only narrow the from/to window.",
        "paginated": True,
        "path_params": NO_PARAMS,
        "query": {
            "from": req(
                ISO_DATETIME_OR_DATE,
                "Start of the window (inclusive): an ISO-8601 datetime or date (a date means "
                "midnight UTC).",
            ),
            "to": req(
                ISO_DATETIME_OR_DATE,
                "End of the window (exclusive): an ISO-8601 datetime or date (a date means "
                "midnight UTC).",
            ),
            **PAGE,
            "organizationId": ORGANIZATION_ID,
            "workspaceIds": opt(
                csv(string(min_length=1)),
                "Only these workspaces (sent comma-separated); default: every workspace you "
                "administer.",
            ),
        },
        "body": None,
    },
    "organization.webapp.audit_logs.list": {
        "method": "GET",
        "path": "/v1/organization/webapp/audit_logs",
        "summary": "List the audit log entries of the linked web-app workspaces, newest first.",
        "reply": "CursorPage of audit log entries",
        "paginated": True,
        "path_params": NO_PARAMS,
        "query": {
            **PAGE,
            "actions": opt(
                csv(one_of(*ENUMS["AuditAction"][1]), max_items=50),
                "Only these actions (sent comma-separated).",
            ),
            "actorEmails": opt(
                csv(string(min_length=1), max_items=50),
                "Only entries by users with these emails (sent comma-separated).",
            ),
            "from": opt(ISO_DATETIME, "Start of the window (inclusive), an ISO-8601 datetime."),
            "to": opt(ISO_DATETIME, "End of the window (exclusive), an ISO-8601 datetime."),
            "organizationId": ORGANIZATION_ID,
            "workspaceIds": opt(
                csv(string(min_length=1), max_items=50),
                "Only these workspaces (sent comma-separated); default: every workspace you "
                "administer.",
            ),
        },
        "body": None,
    },
    "organization.webapp.audit_logs.retrieve": {
        "method": "GET",
        "path": "/v1/organization/webapp/audit_logs/{event_id}",
        "summary": "Get one audit log entry with its details.",
        "reply": "audit log entry",
        "path_params": {"event_id": req(string(min_length=1), "ID of the audit log event.")},
        "query": {"organizationId": ORGANIZATION_ID},
        "body": None,
    },
    "avatars.create": {
        "method": "POST",
        "path": "/v1/avatars",
        "summary": "Create a custom avatar from a reference image, a personality and a voice.",
        "reply": "Avatar (PROCESSING until it is READY)",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": {
            "name": req(string(), "Name of the character."),
            "personality": req(string(), "System prompt: how the avatar behaves in conversations."),
            "referenceImage": req(string(media="image"), "Image of the avatar's appearance."),
            "voice": req(live_voice(), "The avatar's voice: a live preset or a custom voice."),
            "documentIds": opt(array(string()), "Knowledge documents to attach."),
            "imageProcessing": opt(
                one_of("optimize", "none"),
                "optimize improves the image for avatar use; none uses it as it is.",
            ),
            "startScript": opt(string(), "What the avatar says when a session starts."),
        },
    },
    "avatars.retrieve": {
        "method": "GET",
        "path": "/v1/avatars/{id}",
        "summary": "Get an avatar.",
        "reply": "Avatar",
        "path_params": path_id("avatar"),
        "query": NO_PARAMS,
        "body": None,
    },
    "avatars.update": {
        "method": "PATCH",
        "path": "/v1/avatars/{id}",
        "summary": "Change an avatar's name, personality, image, voice, script or documents.",
        "reply": "Avatar",
        "path_params": path_id("avatar"),
        "query": NO_PARAMS,
        "min_body_fields": 1,
        "body": {
            "documentIds": opt(
                array(string()), "Knowledge documents to attach, replacing the current ones."
            ),
            "imageProcessing": opt(
                one_of("optimize", "none"),
                "optimize improves the image for avatar use; none uses it as it is.",
            ),
            "name": opt(string(), "Name of the character."),
            "personality": opt(string(), "System prompt: how the avatar behaves in conversations."),
            "referenceImage": opt(string(media="image"), "Image of the avatar's appearance."),
            "startScript": opt(
                nullable(string()), "What the avatar says when a session starts; null clears it."
            ),
            "voice": opt(live_voice(), "The avatar's voice: a live preset or a custom voice."),
        },
    },
    "avatars.list": {
        "method": "GET",
        "path": "/v1/avatars",
        "summary": "List your avatars.",
        "reply": "CursorPage of Avatar",
        "paginated": True,
        "path_params": NO_PARAMS,
        "query": dict(PAGE),
        "body": None,
    },
    "avatars.delete": {
        "method": "DELETE",
        "path": "/v1/avatars/{id}",
        "summary": "Delete an avatar.",
        "reply": "nothing",
        "path_params": path_id("avatar"),
        "query": NO_PARAMS,
        "body": None,
    },
    "avatars.get_usage": {
        "method": "GET",
        "path": "/v1/avatar_usage",
        "summary": "Get the avatar session usage of a period: totals and per day.",
        "reply": "{totalSessions, totalSeconds, avgDurationSeconds, byDay}",
        "notes": "The period is at most 90 days.",
        "path_params": NO_PARAMS,
        "query": {
            "startDate": req(ISO_DATETIME, "Start of the period in UTC (inclusive)."),
            "endDate": req(ISO_DATETIME, "End of the period in UTC (exclusive)."),
        },
        "date_range": {"start": "startDate", "end": "endDate", "max_days": 90},
        "body": None,
    },
    "avatar_conversations.list": {
        "method": "GET",
        "path": "/v1/avatar_conversations",
        "summary": "List the conversations held with avatars.",
        "reply": "CursorPage of conversations",
        "paginated": True,
        "path_params": NO_PARAMS,
        "query": {
            **PAGE,
            "avatar": opt(string(), "Only conversations with this custom avatar."),
            "startDate": opt(ISO_DATETIME, "Only conversations created at or after this time."),
            "endDate": opt(ISO_DATETIME, "Only conversations created before this time."),
        },
        "body": None,
    },
    "avatar_conversations.retrieve": {
        "method": "GET",
        "path": "/v1/avatar_conversations/{id}",
        "summary": "Get a conversation with its transcript and recording.",
        "reply": "Conversation",
        "path_params": path_id("conversation (the realtime session's id)"),
        "query": NO_PARAMS,
        "body": None,
    },
    "avatar_conversations.delete": {
        "method": "DELETE",
        "path": "/v1/avatar_conversations/{id}",
        "summary": "Delete a conversation's transcript and recording for good.",
        "reply": "nothing",
        "path_params": path_id("conversation (the realtime session's id)"),
        "query": NO_PARAMS,
        "body": None,
    },
    "realtime_sessions.create": {
        "method": "POST",
        "path": "/v1/realtime_sessions",
        "summary": "Start a realtime conversation session with an avatar.",
        "reply": "{id} (also the conversation's id)",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": {
            "avatar": req(
                union(
                    obj(
                        {
                            "presetId": req(
                                one_of(*ENUMS["AvatarPresetId"][1]), "Name of the preset avatar."
                            ),
                            "type": tag("runway-preset"),
                        }
                    ),
                    obj(
                        {
                            "avatarId": req(string(min_length=1), "ID of your custom avatar."),
                            "type": tag("custom"),
                        }
                    ),
                ),
                "The avatar: a Runway preset or one of your custom avatars.",
            ),
            "model": req(one_of("gwm1_avatars"), "The realtime model."),
            "integration": opt(
                union(
                    obj(
                        {
                            "signedUrl": req(
                                string(pattern="^(?:wss|https)://"),
                                "ElevenLabs signed conversation URL (wss:// or https://, "
                                "public host; about 15 minutes of lifetime).",
                            ),
                            "type": tag("elevenlabs"),
                        }
                    ),
                    obj(
                        {
                            "roomName": req(string(), "Name of the LiveKit room."),
                            "token": req(string(), "LiveKit token letting the avatar publish."),
                            "type": tag("livekit"),
                            "url": req(
                                string(pattern="^(?:wss|https)://"),
                                "URL of the LiveKit server (wss:// or https://, public host).",
                            ),
                            "agentIdentity": opt(
                                string(),
                                "Identity of your agent in the room, whose audio is trusted.",
                            ),
                        }
                    ),
                ),
                "External integration owning the conversation or the audio; Runway renders "
                "the avatar.",
            ),
            "livekit": opt(
                obj(
                    {
                        "roomName": req(string(), "Name of the LiveKit room."),
                        "token": req(string(), "LiveKit token letting the avatar publish."),
                        "url": req(
                            string(pattern="^(?:wss|https)://"),
                            "URL of the LiveKit server (wss:// or https://, public host).",
                        ),
                        "agentIdentity": opt(
                            string(), "Identity of your agent in the room, whose audio is trusted."
                        ),
                    }
                ),
                "Deprecated: use integration with type livekit.",
            ),
            "maxDuration": opt(integer(), "Longest duration of the session in seconds."),
            "personality": opt(string(), "Personality for this session instead of the avatar's."),
            "startScript": opt(string(), "Opening line for this session instead of the avatar's."),
            "tools": opt(
                array(
                    union(
                        tool("client_event"),
                        tool(
                            "backend_rpc",
                            timeoutSeconds=opt(
                                number(), "Longest wait for your backend's answer, in seconds."
                            ),
                        ),
                    )
                ),
                "Tools the avatar may call: client_event (fire-and-forget to your front end) "
                "or backend_rpc (a round trip to your server).",
            ),
        },
    },
    "realtime_sessions.retrieve": {
        "method": "GET",
        "path": "/v1/realtime_sessions/{id}",
        "summary": "Get a realtime session: its status, and its key once READY.",
        "reply": "RealtimeSession",
        "path_params": path_id("realtime session"),
        "query": NO_PARAMS,
        "body": None,
    },
    "realtime_sessions.delete": {
        "method": "DELETE",
        "path": "/v1/realtime_sessions/{id}",
        "summary": "Cancel an active realtime session.",
        "reply": "nothing",
        "path_params": path_id("realtime session"),
        "query": NO_PARAMS,
        "body": None,
    },
    "documents.create": {
        "method": "POST",
        "path": "/v1/documents",
        "summary": "Create a knowledge document for avatars.",
        "reply": "Document",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": {
            "content": req(string(), "The document's text, markdown or plain."),
            "name": req(string(), "Name of the document."),
        },
    },
    "documents.retrieve": {
        "method": "GET",
        "path": "/v1/documents/{id}",
        "summary": "Get a knowledge document with its content.",
        "reply": "Document",
        "path_params": path_id("document"),
        "query": NO_PARAMS,
        "body": None,
    },
    "documents.update": {
        "method": "PATCH",
        "path": "/v1/documents/{id}",
        "summary": "Rename a knowledge document or replace its content.",
        "reply": "nothing",
        "path_params": path_id("document"),
        "query": NO_PARAMS,
        "min_body_fields": 1,
        "body": {
            "content": opt(string(), "The new text, markdown or plain."),
            "name": opt(string(), "The new name."),
        },
    },
    "documents.list": {
        "method": "GET",
        "path": "/v1/documents",
        "summary": "List your knowledge documents (without their content).",
        "reply": "CursorPage of documents",
        "paginated": True,
        "path_params": NO_PARAMS,
        "query": {
            "limit": PAGE["limit"],
            "order": req(one_of("asc", "desc"), "Sort direction."),
            "sort": req(one_of("createdAt", "updatedAt"), "Field to sort by."),
            "cursor": PAGE["cursor"],
        },
        "body": None,
    },
    "documents.delete": {
        "method": "DELETE",
        "path": "/v1/documents/{id}",
        "summary": "Delete a knowledge document, detaching it from every avatar.",
        "reply": "nothing",
        "path_params": path_id("document"),
        "query": NO_PARAMS,
        "body": None,
    },
    "voices.create": {
        "method": "POST",
        "path": "/v1/voices",
        "summary": "Create a custom voice from an audio sample or a text description.",
        "reply": "{id} (the voice is PROCESSING until it is READY)",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": {
            "from": req(
                union(
                    obj(
                        {
                            "audio": req(string(media="audio"), "Audio sample of the voice."),
                            "type": tag("audio"),
                        }
                    ),
                    obj(
                        {
                            **voice_design("Description of the voice, at least 20 characters."),
                            "type": tag("text"),
                        }
                    ),
                ),
                "Where the voice comes from: an audio sample, or a text description.",
            ),
            "name": req(string(), "Name of the voice."),
            "description": opt(nullable(string()), "Description of the voice."),
        },
    },
    "voices.retrieve": {
        "method": "GET",
        "path": "/v1/voices/{id}",
        "summary": "Get a custom voice.",
        "reply": "Voice",
        "path_params": path_id("voice"),
        "query": NO_PARAMS,
        "body": None,
    },
    "voices.update": {
        "method": "PATCH",
        "path": "/v1/voices/{id}",
        "summary": "Rename a custom voice or change its description.",
        "reply": "Voice",
        "path_params": path_id("voice"),
        "query": NO_PARAMS,
        "body": {
            "description": opt(nullable(string()), "Description of the voice; null clears it."),
            "name": opt(string(), "Name of the voice."),
        },
    },
    "voices.list": {
        "method": "GET",
        "path": "/v1/voices",
        "summary": "List your custom voices.",
        "reply": "CursorPage of Voice",
        "paginated": True,
        "path_params": NO_PARAMS,
        "query": dict(PAGE),
        "body": None,
    },
    "voices.delete": {
        "method": "DELETE",
        "path": "/v1/voices/{id}",
        "summary": "Delete a custom voice.",
        "reply": "nothing",
        "path_params": path_id("voice"),
        "query": NO_PARAMS,
        "body": None,
    },
    "voices.preview": {
        "method": "POST",
        "path": "/v1/voices/preview",
        "summary": "Hear a voice designed from a description before creating it.",
        "reply": "{url, durationSecs} (the URL expires in 24 h)",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": voice_design("Description of the voice, at least 20 characters."),
    },
    "routers.create": {
        "method": "POST",
        "path": "/v1/routers",
        "summary": "Create a model router, which picks the model of generate calls.",
        "reply": "Router",
        "path_params": NO_PARAMS,
        "query": NO_PARAMS,
        "body": {
            "slug": req(
                string(min_length=1),
                "Immutable name of the router, unique in the project; generate calls pass it "
                "as configId.",
            ),
            "description": opt(string(), "Description of the router."),
            "name": opt(string(), "Display name (default: the slug)."),
            "settings": opt(
                router_settings(update=False),
                "Routing preferences (default: cheapest of all models).",
            ),
        },
    },
    "routers.retrieve": {
        "method": "GET",
        "path": "/v1/routers/{id}",
        "summary": "Get a model router.",
        "reply": "Router",
        "path_params": path_id("router (its UUID, not the slug)"),
        "query": NO_PARAMS,
        "body": None,
    },
    "routers.update": {
        "method": "PATCH",
        "path": "/v1/routers/{id}",
        "summary": "Change a model router's name, description or settings.",
        "reply": "Router",
        "notes": "Settings are merged into the current ones; a settings change bumps the version.",
        "path_params": path_id("router (its UUID, not the slug)"),
        "query": NO_PARAMS,
        "body": {
            "description": opt(nullable(string()), "Description of the router; null clears it."),
            "name": opt(string(), "Display name."),
            "settings": opt(
                router_settings(update=True),
                "Routing preferences to change; omitted members keep their values.",
            ),
        },
    },
    "routers.list": {
        "method": "GET",
        "path": "/v1/routers",
        "summary": "List your model routers.",
        "reply": "CursorPage of Router",
        "paginated": True,
        "path_params": NO_PARAMS,
        "query": dict(PAGE),
        "body": None,
    },
    "routers.delete": {
        "method": "DELETE",
        "path": "/v1/routers/{id}",
        "summary": "Delete a model router; generate calls can no longer use it.",
        "reply": "nothing",
        "path_params": path_id("router (its UUID, not the slug)"),
        "query": NO_PARAMS,
        "body": None,
    },
    "routers.list_requests": {
        "method": "GET",
        "path": "/v1/routers/{id}/requests",
        "summary": "List a model router's routing history: which model each request got, and why.",
        "reply": "CursorPage of routing requests",
        "paginated": True,
        "path_params": path_id("router (its UUID, not the slug)"),
        "query": dict(PAGE),
        "body": None,
    },
}


def build_plain(schema: Node) -> dict[str, Node]:
    """Return the plain endpoints' entries: PLAIN with Python names, order and the run body."""
    plain: dict[str, Node] = {}
    for order, (name, entry) in enumerate(PLAIN.items()):
        out: Node = {**entry, "order": order, "paginated": entry.get("paginated", False)}
        for part in ("path_params", "query", "body"):
            if entry[part] == FROM_SCHEMA:
                out[part] = workflow_run_body(schema)
            elif entry[part] is not None:
                out[part] = obj(dict(entry[part]))["fields"]
        placeholders = re.findall(r"{(\w+)}", entry["path"])
        if sorted(placeholders) != sorted(out["path_params"]):
            raise SpecBuildError(f"{name}: path parameters do not match {entry['path']}")
        if out["method"] not in ("GET", "POST", "PATCH", "DELETE"):
            raise SpecBuildError(f"{name}: method {out['method']!r} not understood")
        if (out["body"] is None) != (out["method"] in ("GET", "DELETE")):
            raise SpecBuildError(f"{name}: only GET and DELETE requests have no body")
        plain[name] = out
    return plain


def workflow_run_body(schema: Node) -> dict[str, Node]:
    """Return the body members of workflows.run, from the schema plus WORKFLOW_RUN."""
    raw = schema["endpoints"].get(WORKFLOW_PATH)
    if raw is None or raw["kind"] != "workflow" or len(raw["variants"]) != 1:
        raise SpecBuildError(f"{WORKFLOW_PATH}: expected one workflow variant in the schema")
    fields: dict[str, Node] = convert(raw["variants"][0]["schema"], "workflows.run")["fields"]
    assign_media(fields, None, "workflows.run")
    described = set()
    for path, member, node in walk(fields):
        if node is member:
            if path not in WORKFLOW_RUN:
                raise SpecBuildError(f"workflows.run:{path}: no description in WORKFLOW_RUN")
            member["description"] = WORKFLOW_RUN[path]
            described.add(path)
    unused = set(WORKFLOW_RUN) - described
    if unused:
        raise SpecBuildError(f"WORKFLOW_RUN entries that matched nothing: {sorted(unused)}")
    return fields


def build(schema: Node) -> Node:
    """Return the spec (a JSON-ready dict) built from the schema and the overlay."""
    endpoints: dict[str, Node] = {}
    for path, raw in schema["endpoints"].items():
        if raw["kind"] in SKIPPED_KINDS:
            continue
        if raw["kind"] != "task":
            raise SpecBuildError(f"{path}: endpoint kind {raw['kind']!r} not understood")
        name = endpoint_name(path)
        if name not in ENDPOINTS:
            raise SpecBuildError(f"{path}: new endpoint {name!r}; add it to ENDPOINTS")
        disc = discriminator_of(raw["variants"], name)
        variants = []
        for raw_variant in raw["variants"]:
            body = convert(raw_variant["schema"], f"{name}:{raw_variant['name']}")
            fields = body["fields"]
            variant: Node = {"title": raw_variant["name"], "fields": fields}
            if disc is not None:
                member = fields.pop(disc)
                if len(member.get("enum") or ()) != 1 or not member["required"]:
                    raise SpecBuildError(f"{name}:{raw_variant['name']}: bad {disc}")
                variant["value"] = member["enum"][0]
                models = raw_variant.get("models")
                if models is not None and models != [variant["value"]]:
                    raise SpecBuildError(f"{name}: models {models} != {variant['value']!r}")
            if raw_variant.get("legacy"):
                variant["legacy"] = raw_variant["legacy"]
            variants.append(variant)
        endpoint: Node = {
            "method": "POST",
            "path": path,
            "discriminator": disc,
            "response": RESPONSES.get(name, "task_created"),
            "variants": variants,
            "order": list(ENDPOINTS).index(name),
            **ENDPOINTS[name],
        }
        if disc is not None:
            endpoint.setdefault("discriminator_description", "The model to run.")
        endpoints[name] = endpoint
    missing = set(ENDPOINTS) - set(endpoints)
    if missing:
        raise SpecBuildError(f"endpoints gone from the schema: {sorted(missing)}")
    plain = build_plain(schema)
    apply_overlay(endpoints, plain)
    return {
        "format_version": FORMAT_VERSION,
        "generated_by": "scripts/build_spec.py",
        "source": schema.get("generated_from", "unknown"),
        "enums": {
            name: {"description": text, "values": values} for name, (text, values) in ENUMS.items()
        },
        "endpoints": endpoints,
        "plain": plain,
    }


def render(spec: Node) -> str:
    """Return the spec as the exact text of ``api.json``."""
    return json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Build or check ``api.json``; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", nargs="?", type=Path, default=DEFAULT_SCHEMA)
    parser.add_argument("--check", action="store_true", help="fail if api.json is stale")
    args = parser.parse_args(argv)
    if not args.schema.is_file():
        if args.check:
            print(f"{args.schema} not found: skipping the spec check (only developers have it).")
            return 0
        print(f"error: {args.schema} not found", file=sys.stderr)
        return 2
    try:
        text = render(build(json.loads(args.schema.read_text(encoding="utf-8"))))
    except SpecBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
    if args.check:
        if current == text:
            print(f"{OUTPUT.relative_to(ROOT)} is up to date.")
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{OUTPUT.relative_to(ROOT)} (committed)",
            f"{OUTPUT.relative_to(ROOT)} (rebuilt)",
        )
        sys.stdout.writelines(diff)
        print(f"\n{OUTPUT.relative_to(ROOT)} is stale: run python scripts/build_spec.py")
        return 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    if current != text:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    else:
        print(f"{OUTPUT.relative_to(ROOT)} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
