from __future__ import annotations

from typing import Any

import aiohttp


async def create_room(
    base_url: str, name: str = "Friday games", pack: str | None = None
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        body: dict[str, Any] = {"name": name}
        if pack:
            body["pack"] = pack
        async with http.post(base_url + "/api/rooms", json=body) as response:
            assert response.status == 201, await response.text()
            return dict(await response.json())
