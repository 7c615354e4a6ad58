from __future__ import annotations

from typing import Any

import aiohttp
from ritrovo.client import RitrovoClient


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


async def hosted_room(
    base_url: str, ws_url: str, name: str = "Friday games", pack: str | None = None
) -> tuple[str, str, RitrovoClient]:
    """A new room's code and host token, and its host connected (its welcome state in)."""
    room = await create_room(base_url, name, pack)
    code, token = room["code"], room["host_token"]
    host = await RitrovoClient.connect(ws_url)
    await host.hello("host", room=code, token=token)
    assert host.state is not None
    return code, token, host
