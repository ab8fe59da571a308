"""Reading Tripletex lists: all pages, chosen fields, stable order, digests for change polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from connectors.http import Answer
from connectors.together import together

PAGE_SIZE = 1000
DIGEST_SEPARATOR = "|"
NO_DIGEST = "'If-None-Match' header not specified"

JsonDict = dict[str, Any]
Call = Callable[..., Awaitable[Answer]]


async def read_all_pages(
    call: Call,
    path: str,
    params: Mapping[str, Any],
    *,
    page_size: int = PAGE_SIZE,
    concurrency: int = 4,
    endpoint: str | None = None,
) -> list[JsonDict]:
    """Every value of a list endpoint, paged with ``from``/``count`` and sorted by id.

    The first page's ``fullResultSize`` says how many pages follow; they are fetched
    concurrently and trusted (Tripletex calls it "not exact"; our sandbox's is exact). Without
    it, or when it proves short, pages are read until a short one.
    """
    base = {"sorting": "id", **params, "count": page_size}
    first = (await call("GET", path, params={**base, "from": 0}, endpoint=endpoint)).json()
    values: list[JsonDict] = list(first.get("values") or [])
    if len(values) < page_size:
        return values
    total = first.get("fullResultSize")
    starts = list(range(page_size, int(total), page_size)) if isinstance(total, int) else []
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def page(start: int) -> list[JsonDict]:
        async with semaphore:
            response = await call("GET", path, params={**base, "from": start}, endpoint=endpoint)
            return list(response.json().get("values") or [])

    for chunk in await together(*(page(s) for s in starts)):
        values.extend(chunk)
    start = page_size * (len(starts) + 1)
    # Without fullResultSize, or when it fell short, keep going while pages come back full.
    while len(values) == start and not (isinstance(total, int) and len(values) >= total > 0):
        chunk = await page(start)
        values.extend(chunk)
        start += page_size
    return values


async def read_changed_pages(
    call: Call,
    path: str,
    params: Mapping[str, Any],
    digest: str | None,
    *,
    page_size: int = PAGE_SIZE,
    endpoint: str | None = None,
) -> tuple[list[JsonDict] | None, str]:
    """All values unless nothing changed since ``digest`` (then ``None``); returns a new digest.

    The digest is the ``versionDigest`` of each page, joined with ``|``: a quiet tick costs one
    request per page (one for lists under ``page_size`` records). A full last page is followed
    by a read of the (empty) next page, so records appended later are noticed too.
    """
    base = {"sorting": "id", **params, "count": page_size}
    changed: dict[int, JsonDict] = {}  # the first page that answered 200, kept (not re-read)
    if digest:
        for index, tag in enumerate(digest.split(DIGEST_SEPARATOR)):
            page = {**base, "from": index * page_size}
            headers = {"If-None-Match": tag}
            response = await call("GET", path, params=page, headers=headers, endpoint=endpoint)
            if response.status_code != 304:
                changed[index * page_size] = response.json()
                break
        else:
            return None, digest
    values: list[JsonDict] = []
    digests: list[str] = []
    start = 0
    while True:
        page = {**base, "from": start}
        headers = {"If-None-Match": "none"}
        body = (
            changed.pop(start, None)
            or (await call("GET", path, params=page, headers=headers, endpoint=endpoint)).json()
        )
        chunk = list(body.get("values") or [])
        values.extend(chunk)
        digests.append(str(body.get("versionDigest") or NO_DIGEST))
        if len(chunk) < page_size:
            return values, DIGEST_SEPARATOR.join(digests)
        start += page_size
