"""The public namespace: complete, sorted, and matching the official SDK's names."""

from __future__ import annotations

import inspect

import runway_async
from runway_async import _exceptions, _models


class TestNamespace:
    """``runway_async.__all__`` is the public surface."""

    def test_all_is_sorted_and_unique(self) -> None:
        """__all__ is sorted as ruff sorts it (constants, classes, the rest), once each."""

        def group(name: str) -> int:
            if name.isupper():
                return 0  # NOT_GIVEN, SYSTEM_CLOCK
            return 1 if name[:1].isupper() else 2

        names = list(runway_async.__all__)
        assert names == sorted(set(names), key=lambda name: (group(name), name))

    def test_all_names_exist(self) -> None:
        """Every name in __all__ is importable."""
        for name in runway_async.__all__:
            assert hasattr(runway_async, name), name

    def test_every_exception_and_model_is_exported(self) -> None:
        """Every public exception and model class is re-exported at the top."""
        for module in (_exceptions, _models):
            for name in module.__all__:
                assert name in runway_async.__all__, name

    def test_official_error_names_exist(self) -> None:
        """The official SDK's error names exist for code that migrates."""
        for name in (
            "APIError",
            "APIConnectionError",
            "APITimeoutError",
            "APIStatusError",
            "BadRequestError",
            "AuthenticationError",
            "PermissionDeniedError",
            "NotFoundError",
            "ConflictError",
            "UnprocessableEntityError",
            "RateLimitError",
            "InternalServerError",
            "APIResponseValidationError",
            "RunwayMLError",
            "TaskFailedError",
            "TaskTimeoutError",
        ):
            assert inspect.isclass(getattr(runway_async, name)), name

    def test_one_exception_tree(self) -> None:
        """Every exception class derives from RunwayError; the one warning is a UserWarning."""
        for name in _exceptions.__all__:
            obj = getattr(_exceptions, name)
            if name == "UnknownModelWarning":
                assert issubclass(obj, UserWarning)
                assert not issubclass(obj, runway_async.RunwayError)
                continue
            assert issubclass(obj, runway_async.RunwayError), name
