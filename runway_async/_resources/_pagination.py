"""Cursor pagination, as the official SDK's ``AsyncPaginator`` and ``AsyncCursorPage`` do it.

A paginated ``list(...)`` returns an ``AsyncPaginator`` right away (nothing is sent yet). It
is both awaitable, giving the first ``CursorPage``, and async-iterable over every item of
every page::

    page = await client.voices.list(limit=50)        # one page: .data, .next_cursor
    if page.has_next_page():
        page = await page.get_next_page()

    async for voice in client.voices.list(limit=50): # every voice, page after page
        ...

Pages follow the reference's cursor rules (section 14): each reply is
``{"data": [...], "nextCursor": str | null}``; the next page is asked for with the same
filters plus ``cursor``; a missing, null or empty ``nextCursor`` ends the listing. Only one
page is held in memory at a time while iterating.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Final, Generic, TypeVar

__all__ = ["MAX_PAGES", "AsyncPaginator", "CursorPage", "PageFetcher"]

T = TypeVar("T")

MAX_PAGES: Final = 100_000
"""Pages one iteration follows at most: a server that never ends a listing cannot loop us."""

PageFetcher = Callable[[str | None], Awaitable["CursorPage[T]"]]
"""Fetches the page at a cursor (``None``: the first page)."""


class CursorPage(Generic[T]):
    """One page of a cursor-paginated listing.

    Attributes:
        data: The items of this page, in the server's order.
        next_cursor: The cursor of the next page; ``None`` on the last page.

    Iterating it (``async for``) yields the items of this page and of every page after it.

    """

    __slots__ = ("_fetch", "data", "next_cursor")

    def __init__(
        self,
        data: tuple[T, ...] | list[T],
        next_cursor: str | None,
        fetch: PageFetcher[T] | None = None,
    ) -> None:
        self.data: tuple[T, ...] = tuple(data)
        self.next_cursor: str | None = next_cursor or None
        self._fetch = fetch

    def __repr__(self) -> str:
        return f"<CursorPage items={len(self.data)} next_cursor={self.next_cursor!r}>"

    def __len__(self) -> int:
        return len(self.data)

    def has_next_page(self) -> bool:
        """Whether a page follows this one (the server gave a non-empty ``nextCursor``)."""
        return self.next_cursor is not None and self._fetch is not None

    def next_page_info(self) -> dict[str, Any] | None:
        """Return the query of the next page (``{"cursor": ...}``); ``None`` on the last."""
        return {"cursor": self.next_cursor} if self.has_next_page() else None

    async def get_next_page(self) -> CursorPage[T]:
        """Fetch the page after this one, with the same filters.

        Raises:
            RuntimeError: This is the last page (check ``has_next_page()`` first).

        """
        if self._fetch is None or self.next_cursor is None:
            raise RuntimeError(
                "No next page: this is the last one; check has_next_page() before calling "
                "get_next_page()."
            )
        return await self._fetch(self.next_cursor)

    async def iter_pages(self) -> AsyncIterator[CursorPage[T]]:
        """Yield this page and every page after it."""
        page: CursorPage[T] = self
        seen = {page.next_cursor}
        for _ in range(MAX_PAGES):
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()
            if page.next_cursor is not None and page.next_cursor in seen:
                # A server handing out a cursor twice would make us loop forever.
                raise RuntimeError(f"The server repeated the cursor {page.next_cursor!r}.")
            seen.add(page.next_cursor)
        raise RuntimeError(f"Stopped after {MAX_PAGES} pages: the listing does not end.")

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator(Generic[T]):
    """What a paginated ``list(...)`` returns: await it for the first page, or iterate it.

    Awaiting sends the first request; ``async for`` walks every item of every page. Each
    await or iteration starts again from the first page.
    """

    __slots__ = ("_fetch",)

    def __init__(self, fetch: PageFetcher[T]) -> None:
        self._fetch = fetch

    def __repr__(self) -> str:
        return "<AsyncPaginator>"

    def __await__(self) -> Generator[Any, None, CursorPage[T]]:
        return self._fetch(None).__await__()

    async def first_page(self) -> CursorPage[T]:
        """Fetch the first page (the same as awaiting the paginator)."""
        return await self._fetch(None)

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._fetch(None)
        async for item in page:
            yield item
