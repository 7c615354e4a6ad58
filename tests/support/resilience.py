"""Helpers for the resilience and multi-process tests: small packs, uploads, checks."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
from ritrovo.client import RitrovoClient

ANSWER = "piano"


def small_pack(
    riddle_seconds: int = 6, *, pack_id: str = "resilience-test", turn_seconds: int = 10
) -> str:
    """One riddle of ``riddle_seconds`` (answer: piano), then a one-turn story round."""
    return f"""\
id: {pack_id}
title: Resilience test
language: en
rounds:
  - kind: riddles
    title: Quick one
    riddles:
      - text: What has keys but cannot open locks?
        answers: ["{ANSWER}"]
        time_limit: {riddle_seconds}
        points: 100
  - kind: story
    title: Short tale
    prompts:
      - opening: The server room went quiet.
      - opening: Somebody unplugged the lease.
    turns_per_player: 1
    seconds_per_turn: {turn_seconds}
"""


async def upload_pack(base_url: str, code: str, host_token: str, text: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack",
            params={"filename": "p.yaml"},
            data=text.encode(),
            headers={"Authorization": f"Bearer {host_token}"},
        ) as r,
    ):
        assert r.status == 201, await r.text()
        return dict(await r.json())


def state_seqs(client: RitrovoClient) -> list[int]:
    return [int(m["seq"]) for m in client.messages if m.get("type") == "state"]


def assert_seqs_increase(client: RitrovoClient) -> None:
    """A connection never sees a room's seq twice or go backwards."""
    seqs = state_seqs(client)
    assert all(a < b for a, b in itertools.pairwise(seqs)), seqs


def team_scores(state: dict[str, Any]) -> dict[str, int]:
    return {t["id"]: t["score"] for t in state["teams"]}
