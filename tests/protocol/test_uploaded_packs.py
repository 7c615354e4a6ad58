"""An uploaded pack belongs to the room it was uploaded to (issue 14's review).

Its id is public (``GET /api/rooms/{code}``, every player's ``state``); that
id must not let anyone else's room play it, nor its host read its answers.
Over both stores: the rule is kept by the store (the id names the room), so
it holds in every process and after a restart.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from ritrovo.client import ProtocolError, RitrovoClient
from support.protocol_helpers import create_room
from support.resilience import upload_pack
from support.servers import RunningServer

pytestmark = pytest.mark.timeout(60)

SECRET_PACK = """\
id: secret-pack
title: Secret
language: en
rounds:
  - kind: riddles
    title: R1
    riddles:
      - text: What is the secret?
        answers: [swordfish]
"""


async def _get(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
        return r.status, dict(await r.json())


async def test_another_room_cannot_use_or_read_an_uploaded_pack(server: RunningServer) -> None:
    base = server.base_url
    victim = await create_room(base, "Victim")
    await upload_pack(base, victim["code"], victim["host_token"], SECRET_PACK)
    status, info = await _get(f"{base}/api/rooms/{victim['code']}")
    pack_id = info["pack"]["id"]
    assert status == 200 and pack_id.startswith("upload:")

    # A new room cannot start with it: refused as an unknown pack is.
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/api/rooms", json={"name": "Thief", "pack": pack_id}) as r,
    ):
        assert (r.status, (await r.json())["error"]["code"]) == (404, "pack_not_found")

    # Nor can another room's host choose it, and so its source stays out of reach.
    thief = await create_room(base, "Thief")
    host = await RitrovoClient.connect(server.ws_url)
    try:
        await host.hello("host", room=thief["code"], token=thief["host_token"])
        with pytest.raises(ProtocolError) as err:
            await host.request("choose_pack", pack=pack_id)
        assert err.value.code == "pack_not_found"
        status, body = await _get(f"{base}/api/rooms/{thief['code']}/pack", thief["host_token"])
        assert (status, body["error"]["code"]) == (404, "no_pack")
        assert "swordfish" not in str(body)
    finally:
        await host.close()

    # The room it was uploaded to still chooses it again and reads it.
    owner = await RitrovoClient.connect(server.ws_url)
    try:
        await owner.hello("host", room=victim["code"], token=victim["host_token"])
        await owner.request("choose_pack", pack="office-riddles")
        await owner.request("choose_pack", pack=pack_id)
        state = await owner.wait_state(lambda s: s["pack"] and s["pack"]["id"] == pack_id)
        assert state["pack"]["title"] == "Secret"
    finally:
        await owner.close()
    status, body = await _get(f"{base}/api/rooms/{victim['code']}/pack", victim["host_token"])
    assert status == 200
    assert body["pack"]["rounds"][0]["riddles"][0]["answers"] == ["swordfish"]


async def test_the_same_file_uploaded_to_two_rooms_is_each_rooms_own(
    server: RunningServer,
) -> None:
    base = server.base_url
    first, second = await create_room(base, "First"), await create_room(base, "Second")
    one = await upload_pack(base, first["code"], first["host_token"], SECRET_PACK)
    two = await upload_pack(base, second["code"], second["host_token"], SECRET_PACK)
    assert one["pack"]["id"] != two["pack"]["id"]
    for room in (first, second):
        status, body = await _get(f"{base}/api/rooms/{room['code']}/pack", room["host_token"])
        assert status == 200 and body["pack"]["title"] == "Secret"
