"""The emulator's settings: one frozen, validated ``EmulatorConfig``."""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

import attrs

from .._spec import ENDPOINTS
from ._faults import FaultKind

__all__ = [
    "DEFAULT_DURATIONS",
    "KEEP",
    "EmulatorConfig",
    "Keep",
    "Limit",
    "LimitSetting",
    "check_extra_model",
    "check_limit",
]

Limit: TypeAlias = int | None
"""A per-model limit: a positive count, or ``None`` for unlimited."""

LimitSetting: TypeAlias = int | Mapping[str, int | None] | None
"""One limit for every model, or a mapping of model name to limit."""


class Keep(enum.Enum):
    """The type of ``KEEP``: a limit that ``set_limits`` leaves as it is."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP
"""Leave this limit as it is (the default of ``Emulator.set_limits``'s limits)."""

DEFAULT_DURATIONS: Final[Mapping[str, float]] = types.MappingProxyType(
    {"image": 2.0, "audio": 3.0, "video": 5.0}
)
"""Default generation time in API seconds by media kind: a 10-task demo takes seconds."""


def check_limit(name: str, value: object) -> None:
    """Check a per-model limit: an integer >= 0, or ``None`` for unlimited.

    Raises:
        ValueError: ``value`` is neither; the message names it ``name``.

    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0 or None, got {value!r}")


def _freeze_limits(value: Any) -> LimitSetting:
    if isinstance(value, Mapping):
        return types.MappingProxyType(dict(value))
    return value  # type: ignore[no-any-return]  # validated by _validate_limits


def _validate_limits(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, Mapping):
        for model, limit in value.items():
            if not isinstance(model, str) or not model:
                raise ValueError(f"{attribute.name} keys must be model names, got {model!r}")
            check_limit(f"{attribute.name}[{model!r}]", limit)
    else:
        check_limit(attribute.name, value)


def _freeze_durations(value: Any) -> Mapping[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(
            f"durations must be a mapping of model (or media kind) to seconds, got {value!r}"
        )
    return types.MappingProxyType(dict(value))


def _validate_durations(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    for key, seconds in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"durations keys must be model names or media kinds, got {key!r}")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"durations[{key!r}] must be a number of seconds > 0, got {seconds!r}")


def check_extra_model(endpoint: object, model: object, *, where: str = "extra_models") -> None:
    """Check a model the emulator is told to accept on top of the spec's.

    ``where`` names the setting in messages (``extra_models``, ``accept_model``).

    Raises:
        ValueError: ``endpoint`` is not a task endpoint told apart by ``model``, or
            ``model`` is not a non-blank string.

    """
    spec = ENDPOINTS.get(endpoint) if isinstance(endpoint, str) else None
    if spec is None or spec.discriminator != "model":
        names = sorted(n for n, e in ENDPOINTS.items() if e.discriminator == "model")
        raise ValueError(
            f"{where}: models are accepted on task endpoints that take one "
            f"({', '.join(names)}), got {endpoint!r}"
        )
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"{where}: a model name must be a non-blank string, got {model!r}")


def _freeze_extra_models(value: Any) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise TypeError(f"extra_models must be a mapping of endpoint to model names, got {value!r}")
    frozen: dict[str, tuple[str, ...]] = {}
    for endpoint, models in value.items():
        if isinstance(models, str):  # one name: a sequence of its characters otherwise
            raise TypeError(
                f"extra_models[{endpoint!r}] must be a list of model names, got {models!r}"
            )
        frozen[endpoint] = tuple(models)
    return types.MappingProxyType(frozen)


def _validate_extra_models(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    for endpoint, models in value.items():
        for model in models:
            check_extra_model(endpoint, model)


def _fraction(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{attribute.name} must be a number from 0 to 1, got {value!r}")


def _positive_number(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{attribute.name} must be a number > 0, got {value!r}")


def _non_negative_number(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{attribute.name} must be a number >= 0, got {value!r}")


def _freeze_rates(value: Any) -> Mapping[FaultKind, float]:
    if not isinstance(value, Mapping):
        raise TypeError(
            f"fault_rates must be a mapping of fault kind to probability, got {value!r}"
        )
    return types.MappingProxyType({FaultKind(kind): rate for kind, rate in value.items()})


def _validate_rates(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    for kind, rate in value.items():
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"fault_rates[{kind.value!r}] must be from 0 to 1, got {rate!r}")


def _optional_codes(value: Any) -> Any:
    # A lone string stays a string, which the validator refuses.
    if value is None or isinstance(value, str):
        return value
    return tuple(value)


def _validate_codes(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, str) or not value or not all(isinstance(c, str) and c for c in value):
        raise ValueError(
            f"failure_codes must be a non-empty sequence of failureCode strings, got {value!r}"
        )


def _optional_key(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError("api_key must be a non-empty string or None")


def _port(_inst: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError(f"port must be from 0 (any free port) to 65535, got {value!r}")


def _positive_int(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{attribute.name} must be an integer > 0, got {value!r}")


def _optional_int(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{attribute.name} must be an integer or None, got {value!r}")


@attrs.frozen(kw_only=True)
class EmulatorConfig:
    """How the emulator behaves. Every field has a default suited to a quick demo.

    Attributes:
        concurrency: Tasks per model that may run at once (more wait as ``THROTTLED``): one
            number for every model, or a mapping of model name to limit (models not in it get
            5). ``None`` means unlimited. Workflow invocations count against the
            pseudo-model ``"workflow"`` (here, in ``daily_limit`` and in ``durations``).
        daily_limit: Tasks per model that may be created in 24 hours (more get 429): one
            number or a per-model mapping like ``concurrency`` (default 10,000). Both limits
            can be changed per model while running (``Emulator.set_limits``).
        time_scale: Real seconds per API second: ``0.001`` makes a 30 s generation take
            30 ms. Task lifecycles run in API seconds.
        durations: Generation time in API seconds, by model name or by media kind
            (``image``, ``audio``, ``video``); the rest use ``DEFAULT_DURATIONS``.
        jitter: Each task's duration varies by up to this fraction either way.
        pending_seconds: How long (API seconds) a task reports ``PENDING`` before it runs.
        failure_rate: Probability that a task ends ``FAILED`` instead of ``SUCCEEDED``.
        failure_codes: The ``failureCode`` values a failing task draws from (each of the
            codes in ``FAILURE_CODES`` of ``_state``); ``None`` draws from all of them.
        fault_rates: Probability per task-creating POST of each fault kind (drawn in
            ``FaultKind`` order; the first hit applies).
        fault_delay: Seconds of ``latency``, or before a ``hold_after`` reply or the rest
            of a ``hold_body`` body, for faults drawn from ``fault_rates``.
        seed: Seed of every random choice (durations, failures, random faults, task ids);
            ``None`` draws one.
        api_key: The only bearer token accepted; ``None`` accepts any non-empty token.
        host: Interface to listen on.
        port: Port to listen on; 0 picks a free one.
        spec_mock: Stateless-mock compatibility for the official SDK's test suite: unknown
            task ids answer a synthetic SUCCEEDED task, every response carries every
            declared field, and no limits apply.
        credit_balance: Credits the organization starts with; charges are taken from it.
        max_monthly_credit_spend: What ``GET /v1/organization`` reports as the tier's cap.
        upload_max_bytes: The largest file the upload storage POST accepts (200 MB, as the
            API; set it lower to test the limit).
        upload_lifetime: API seconds an upload's ``runway://`` URI (and its storage URL)
            stays usable (24 hours).
        avatar_seconds: API seconds an avatar stays ``PROCESSING`` after a create or an
            image change.
        voice_seconds: API seconds a custom voice stays ``PROCESSING``.
        session_ready_seconds: API seconds a realtime session stays ``NOT_READY``.
        session_seconds: API seconds a consumed realtime session runs before it completes
            (at most its ``maxDuration``).
        extra_models: Model names the spec does not know, accepted anyway, by task endpoint
            (``{"image_to_video": ["gen5"]}``): what the API does the day it ships a model
            this package's spec lacks. Such a create is checked as the client checks it
            (JSON types of the members any model of the endpoint has, media URIs), then runs
            the normal lifecycle; the model gets the limits above (``concurrency``,
            ``daily_limit``, their defaults for unnamed models) and is listed in the
            organization's tier. Any other unknown model is refused with 400, as the API
            refuses a model it does not have.

    """

    concurrency: LimitSetting = attrs.field(
        default=5, converter=_freeze_limits, validator=_validate_limits
    )
    daily_limit: LimitSetting = attrs.field(
        default=10_000, converter=_freeze_limits, validator=_validate_limits
    )
    time_scale: float = attrs.field(default=1.0, validator=_positive_number)
    durations: Mapping[str, float] | None = attrs.field(
        default=None, converter=_freeze_durations, validator=_validate_durations
    )
    jitter: float = attrs.field(default=0.1, validator=_fraction)
    pending_seconds: float = attrs.field(default=0.5, validator=_non_negative_number)
    failure_rate: float = attrs.field(default=0.0, validator=_fraction)
    failure_codes: tuple[str, ...] | None = attrs.field(
        default=None, converter=_optional_codes, validator=_validate_codes
    )
    fault_rates: Mapping[FaultKind, float] = attrs.field(
        factory=dict, converter=_freeze_rates, validator=_validate_rates
    )
    fault_delay: float = attrs.field(default=1.0, validator=_non_negative_number)
    seed: int | None = attrs.field(default=None, validator=_optional_int)
    api_key: str | None = attrs.field(default=None, validator=_optional_key)
    host: str = attrs.field(default="127.0.0.1", validator=attrs.validators.instance_of(str))
    port: int = attrs.field(default=0, validator=_port)
    spec_mock: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    credit_balance: int = attrs.field(default=1_000_000, validator=_non_negative_number)
    max_monthly_credit_spend: int = attrs.field(default=2_000_000, validator=_non_negative_number)
    upload_max_bytes: int = attrs.field(default=200 * 1024 * 1024, validator=_positive_int)
    upload_lifetime: float = attrs.field(default=86_400.0, validator=_positive_number)
    avatar_seconds: float = attrs.field(default=5.0, validator=_non_negative_number)
    voice_seconds: float = attrs.field(default=3.0, validator=_non_negative_number)
    session_ready_seconds: float = attrs.field(default=2.0, validator=_non_negative_number)
    session_seconds: float = attrs.field(default=30.0, validator=_positive_number)
    extra_models: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=dict, converter=_freeze_extra_models, validator=_validate_extra_models
    )

    def __attrs_post_init__(self) -> None:
        if self.jitter >= 1:
            raise ValueError(
                f"jitter must be below 1 (durations stay positive), got {self.jitter!r}"
            )

    def concurrency_for(self, model: str) -> Limit:
        """Return how many tasks of ``model`` may run at once (``None``: unlimited)."""
        if self.spec_mock:
            return None
        return _limit_for(self.concurrency, model, 5)

    def daily_limit_for(self, model: str) -> Limit:
        """Return how many tasks of ``model`` may be created per 24 h (``None``: unlimited)."""
        if self.spec_mock:
            return None
        return _limit_for(self.daily_limit, model, 10_000)

    def duration_for(self, model: str, kind: str) -> float:
        """Return the base generation time of ``model`` (of media ``kind``) in API seconds."""
        if self.durations is not None:
            if model in self.durations:
                return float(self.durations[model])
            if kind in self.durations:
                return float(self.durations[kind])
        return DEFAULT_DURATIONS.get(kind, DEFAULT_DURATIONS["video"])


def _limit_for(setting: LimitSetting, model: str, default: int) -> Limit:
    if isinstance(setting, Mapping):
        return setting.get(model, default)
    return setting
