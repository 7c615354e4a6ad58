"""The pack editor's HTTP endpoints (issue 14): source, validate, try, and the page.

A real server on port 0 with real pack workers. Every refusal has a
machine-readable code and changes nothing: the room keeps its pack.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from ritrovo.packs import PackLibrary, default_pack_dir, load_pack_bytes
from ritrovo.packs.source import pack_source
from support.protocol_helpers import create_room
from support.resilience import upload_pack
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(60)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
BROKEN_GIFT = Path(__file__).resolve().parent / "imports" / "broken.gift"

ROOM_PACK = """\
id: secret-pack
title: Secret pack
language: en
rounds:
  - kind: riddles
    title: Warm-up
    riddles:
      - text: What has keys but opens no locks?
        answers: [a piano]
        near:
          - answers: [keyboard]
            nudge: "Close! It makes music."
"""

PIANO: dict[str, Any] = {
    "text": "What has keys but opens no locks?",
    "answers": ["a piano", "piano forte"],
    "near": [{"answers": ["keyboard"], "nudge": "Close: which instrument?"}],
    "hints": [{"text": "It makes music.", "after": 10, "cost": 10}],
}


def editor_pack(**riddle: Any) -> dict[str, Any]:
    return {
        "id": "my-pack",
        "title": "My pack",
        "language": "en",
        "rounds": [{"kind": "riddles", "title": "One", "riddles": [{**PIANO, **riddle}]}],
    }


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    body: bytes | io.BytesIO | None = None,
    token: str | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, data=body, headers=headers, params=params) as r:
        return r.status, dict(await r.json())


def test_every_library_pack_comes_back_from_its_source() -> None:
    library = PackLibrary(default_pack_dir(), log_errors=False)
    assert len(library) >= 10
    for pack in library:
        data = orjson.dumps(pack_source(pack))
        assert load_pack_bytes(data, f"{pack.id}.json") == pack, pack.id


async def test_source_of_a_library_pack_and_of_a_room_pack_only_with_its_token() -> None:
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        base = server.base_url
        status, body = await call(http, "GET", f"{base}/api/packs/office-riddles/source")
        assert status == 200
        pack = load_pack_bytes(orjson.dumps(body["pack"]), "office.json")
        assert pack.id == "office-riddles"
        for missing in ("no-such-pack", "upload:" + "0" * 64):
            status, body = await call(http, "GET", f"{base}/api/packs/{missing}/source")
            assert (status, body["error"]["code"]) == (404, "pack_not_found")

        room = await create_room(base, "Editor")
        code, token = room["code"], room["host_token"]
        url = f"{base}/api/rooms/{code}/pack"
        status, body = await call(http, "GET", url, token=token)
        assert (status, body["error"]["code"]) == (404, "no_pack")
        await upload_pack(base, code, token, ROOM_PACK)

        # Without the host token, or with another, nothing of the pack is shown.
        for wrong in (None, "not-the-token"):
            status, body = await call(http, "GET", url, token=wrong)
            assert (status, body["error"]["code"]) == (403, "bad_host_token")
            assert "piano" not in json.dumps(body)
        status, body = await call(http, "GET", f"{base}/api/rooms/NOROOM/pack", token=token)
        assert (status, body["error"]["code"]) == (403, "bad_host_token")

        status, body = await call(http, "GET", url, token=token)
        assert status == 200
        riddle = body["pack"]["rounds"][0]["riddles"][0]
        assert riddle["answers"] == ["a piano"]
        assert riddle["near"] == [{"answers": ["keyboard"], "nudge": "Close! It makes music."}]
        assert load_pack_bytes(orjson.dumps(body["pack"]), "p.json") == load_pack_bytes(
            ROOM_PACK.encode(), "p.yaml"
        )


async def test_source_of_a_file_is_read_as_an_upload_and_kept_nowhere() -> None:
    settings = fast_settings(uploads_per_address_per_hour=4)
    async with running_server(settings) as server, aiohttp.ClientSession() as http:
        url = f"{server.base_url}/api/packs/source"
        gift = (EXAMPLES / "quiz-di-squadra.gift").read_bytes()
        status, body = await call(http, "POST", url, body=gift, params={"filename": "q.gift"})
        assert status == 200
        assert body["pack"]["rounds"][0]["kind"] == "riddles"
        assert load_pack_bytes(orjson.dumps(body["pack"]), "q.json").language == "it"

        broken = BROKEN_GIFT.read_bytes()
        status, body = await call(http, "POST", url, body=broken, params={"filename": "b.gift"})
        assert (status, body["error"]["code"]) == (422, "invalid_pack")
        assert body["error"]["problems"][0]["line"] is not None

        status, body = await call(http, "POST", url, body=b"x" * 10, params={"filename": "x.exe"})
        assert (status, body["error"]["code"]) == (422, "invalid_pack")
        big = io.BytesIO(b"x" * (settings.max_pack_bytes + 1))
        status, body = await call(http, "POST", url, body=big, params={"filename": "big.gift"})
        assert (status, body["error"]["code"]) == (413, "pack_too_large")
        # The fifth file this hour from this address: counted as uploads are.
        status, body = await call(http, "POST", url, body=gift, params={"filename": "q.gift"})
        assert (status, body["error"]["code"]) == (429, "too_many_uploads")
        status, body = await call(http, "GET", f"{server.base_url}/api/packs")
        assert all(p["id"] != "q" for p in body["packs"])  # nothing joined the library


async def test_validate_reports_problems_at_their_fields() -> None:
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        url = f"{server.base_url}/api/packs/validate"
        status, body = await call(http, "POST", url, body=orjson.dumps(editor_pack()))
        assert status == 200
        assert body["valid"] is True
        assert body["pack"]["rounds"] == [{"kind": "riddles", "title": "One", "items": 1}]

        broken = editor_pack(answers=[], hints=[{"text": "Late", "after": 90}])
        broken["title"] = ""
        status, body = await call(http, "POST", url, body=orjson.dumps(broken))
        assert status == 200
        assert body["valid"] is False
        fields = {p["field"]: p["message"] for p in body["problems"]}
        assert set(fields) == {
            "title",
            "rounds[0].riddles[0].answers",
            "rounds[0].riddles[0].hints[0].after",
        }
        assert "time_limit" in fields["rounds[0].riddles[0].hints[0].after"]
        assert all(set(p) == {"field", "message"} for p in body["problems"])

        # A pack is checked as a pack, even one that looks like an Open Trivia DB file.
        trivia = {**editor_pack(), "response_code": 0, "results": []}
        status, body = await call(http, "POST", url, body=orjson.dumps(trivia))
        assert status == 200
        assert {p["field"] for p in body["problems"]} == {"response_code", "results"}


async def test_validate_refuses_what_is_not_a_pack_object_and_too_large() -> None:
    settings = fast_settings(pack_checks_per_address_per_minute=5)
    async with running_server(settings) as server, aiohttp.ClientSession() as http:
        base = server.base_url
        room = await create_room(base, "Editor")
        code, token = room["code"], room["host_token"]
        uploaded = await upload_pack(base, code, token, ROOM_PACK)
        url = f"{base}/api/packs/validate"

        async def validate(body: bytes | io.BytesIO) -> tuple[int, dict[str, Any]]:
            # As the editor opened from this room's console might send it: with
            # the room's code and host token, so a validate that chose or kept
            # the pack for the room would show below.
            return await call(http, "POST", url, body=body, token=token, params={"room": code})

        for bad, error_code in (
            (b"id: yaml-is-not-json", "invalid_json"),
            (b"", "invalid_message"),
            (b"[1, 2]", "invalid_message"),
        ):
            status, body = await validate(bad)
            assert (status, body["error"]["code"]) == (400, error_code), bad
            assert body["error"]["message"]
        big = editor_pack(text="x" * settings.max_pack_bytes)
        status, body = await validate(io.BytesIO(orjson.dumps(big)))
        assert (status, body["error"]["code"]) == (413, "pack_too_large")
        status, body = await validate(orjson.dumps(editor_pack()))
        assert (status, body["valid"]) == (200, True)
        # Five checks a minute from this address (the refused ones count): the sixth waits.
        status, body = await validate(orjson.dumps(editor_pack()))
        assert (status, body["error"]["code"]) == (429, "rate_limited")
        status, body = await call(http, "POST", f"{base}/api/packs/try", body=b"{}")
        assert (status, body["error"]["code"]) == (429, "rate_limited")
        # Nothing changed: the room still plays its own pack (not "My pack",
        # the one validated), answers and all.
        status, body = await call(http, "GET", f"{base}/api/rooms/{code}")
        assert body["pack"] == {
            "id": uploaded["pack"]["id"],
            "title": "Secret pack",
            "language": "en",
        }
        status, body = await call(http, "GET", f"{base}/api/rooms/{code}/pack", token=token)
        assert status == 200
        assert body["pack"] == pack_source(load_pack_bytes(ROOM_PACK.encode(), "p.yaml"))


async def test_try_answers_with_the_games_matcher_in_the_packs_language() -> None:
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        url = f"{server.base_url}/api/packs/try"

        async def attempt(guess: str, riddle: dict[str, Any], **more: Any) -> dict[str, Any]:
            payload = {"language": "en", "riddle": riddle, "guess": guess, **more}
            status, body = await call(http, "POST", url, body=orjson.dumps(payload))
            assert status == 200, body
            return body

        assert await attempt("The Piano!", PIANO) == {
            "verdict": "correct",
            "nudge": "",
            "matched": "a piano",
        }
        assert await attempt("pianoforte", PIANO) == {
            "verdict": "correct",
            "nudge": "",
            "matched": "piano forte",
        }
        body = await attempt("keybord", PIANO)
        assert (body["verdict"], body["nudge"]) == ("near", "Close: which instrument?")
        assert (await attempt("guitar", PIANO))["verdict"] == "wrong"

        # The pack's language: an Italian article is dropped in Italian only.
        specchio = {"text": "Riflette", "answers": ["specchio"]}
        assert (await attempt("lo specchio", specchio))["verdict"] == "wrong"
        assert (await attempt("lo specchio", specchio, language="it"))["verdict"] == "correct"
        # The pack's defaults apply, and a riddle's own setting wins over them.
        sums = {"text": "Six plus six?", "answers": ["12"]}
        assert (await attempt("twelve", sums))["verdict"] == "wrong"
        assert (await attempt("twelve", sums, defaults={"numbers": True}))["verdict"] == "correct"
        own = {**sums, "numbers": False}
        assert (await attempt("twelve", own, defaults={"numbers": True}))["verdict"] == "wrong"
        choice = {"text": "A colour?", "options": ["Table", "Blue"], "answers": "Blue"}
        assert (await attempt("b", choice))["verdict"] == "correct"
        assert (await attempt("a", choice))["verdict"] == "wrong"


async def test_try_refuses_bad_input_with_a_code() -> None:
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        url = f"{server.base_url}/api/packs/try"

        async def refused(payload: object) -> tuple[int, dict[str, Any]]:
            raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
            status, body = await call(http, "POST", url, body=raw)
            return status, body["error"]

        status, error = await refused(
            {"language": "en", "riddle": {"text": "", "answers": []}, "guess": "x"}
        )
        assert (status, error["code"]) == (422, "invalid_pack")
        assert {p["field"] for p in error["problems"]} == {"riddle.text", "riddle.answers"}
        status, error = await refused({"language": "english", "riddle": PIANO, "guess": "x"})
        assert (status, [p["field"] for p in error["problems"]]) == (422, ["language"])
        status, error = await refused(
            {"language": "en", "defaults": {"points": 0}, "riddle": PIANO, "guess": "x"}
        )
        assert (status, [p["field"] for p in error["problems"]]) == (422, ["defaults.points"])
        for payload, code in (
            ({"language": "en", "riddle": PIANO, "guess": "   "}, "empty_guess"),
            ({"language": "en", "riddle": PIANO, "guess": 12}, "invalid_guess"),
            ({"language": "en", "riddle": PIANO, "guess": "x" * 201}, "guess_too_long"),
            ({"language": "en", "riddle": [PIANO], "guess": "x"}, "invalid_field"),
            (b"{not json", "invalid_json"),
            (b"[]", "invalid_message"),
        ):
            status, error = await refused(payload)
            assert (status, error["code"]) == (400, code), payload
            assert error["message"]


def deep_json(value: object) -> bytes:
    """JSON of any depth (orjson, like the server, stops at 254 levels)."""
    return json.dumps(value).encode()


def nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


async def test_deeply_nested_json_is_refused_before_any_work() -> None:
    # orjson writes at most 254 levels: a riddle of 300 was a 500 (trial_pack).
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        base = server.base_url
        for levels in (300, 40):
            riddle = {**PIANO, "explanation": nested(levels)}
            payload = {"language": "en", "riddle": riddle, "guess": "piano"}
            status, body = await call(
                http, "POST", f"{base}/api/packs/try", body=deep_json(payload)
            )
            assert (status, body["error"]["code"]) == (400, "invalid_json"), levels
            assert "nested too deeply" in body["error"]["message"]
        deep_room = {"name": "Deep", "pack": nested(300)}
        status, body = await call(http, "POST", f"{base}/api/rooms", body=deep_json(deep_room))
        assert (status, body["error"]["code"]) == (400, "invalid_json")

        # A pack (validate, source) is checked in its worker, before it is read:
        # one problem for the whole file, as for deep YAML.
        pack = editor_pack(explanation=nested(300))
        status, body = await call(http, "POST", f"{base}/api/packs/validate", body=deep_json(pack))
        assert status == 200
        assert body["problems"] == [{"field": "", "message": "data is nested too deeply"}]
        status, body = await call(
            http,
            "POST",
            f"{base}/api/packs/source",
            body=deep_json(pack),
            params={"filename": "p.json"},
        )
        assert (status, body["error"]["code"]) == (422, "invalid_pack")
        assert body["error"]["problems"][0]["message"] == "data is nested too deeply"

        # Just deep enough is no problem: the riddle is tried (and its
        # explanation refused by the validator, as any list would be).
        riddle = {**PIANO, "explanation": nested(10)}
        payload = {"language": "en", "riddle": riddle, "guess": "piano"}
        status, body = await call(http, "POST", f"{base}/api/packs/try", body=deep_json(payload))
        assert (status, [p["field"] for p in body["error"]["problems"]]) == (
            422,
            ["riddle.explanation"],
        )


async def test_a_json_body_too_large_is_413_body_too_large_whatever_its_size() -> None:
    # Over 64 KiB: refused with its code. Over the app's client_max_size (1 MiB
    # and a bit) it was aiohttp's own 413, plain text: read() took it all first.
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        base = server.base_url
        text = {"language": "en", "riddle": {**PIANO, "text": "x" * 70_000}, "guess": "x"}
        huge = b'{"guess": "' + b"x" * (2 * 1024 * 1024) + b'"}'

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: read until too much
            for start in range(0, len(huge), 256 * 1024):
                yield huge[start : start + 256 * 1024]

        for url in (f"{base}/api/packs/try", f"{base}/api/rooms"):
            for body in (orjson.dumps(text), io.BytesIO(huge), chunked()):
                async with http.post(url, data=body) as r:
                    assert r.status == 413, url
                    assert r.content_type == "application/json"
                    error = (await r.json())["error"]
                    assert error["code"] == "body_too_large" and error["message"]


async def test_the_editor_page_is_served_with_the_security_headers() -> None:
    async with (
        running_server(fast_settings()) as server,
        aiohttp.ClientSession() as http,
        http.get(f"{server.base_url}/editor") as r,
    ):
        assert r.status == 200
        assert r.content_type == "text/html"
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert 'src="/static/js/editor.js"' in await r.text()


async def test_try_refuses_a_riddle_of_thousands_of_answers() -> None:
    # 6,500 answers fit in 64 KiB and took 75-170 ms to compile on the event
    # loop per try; the validator now refuses them (and "try" judges in its worker).
    answers = [f"a{i:04d}" for i in range(6500)]
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        url = f"{server.base_url}/api/packs/try"
        riddle = {"text": "t", "answers": answers, "typo_tolerance": 3, "numbers": True}
        payload = {"language": "en", "riddle": riddle, "guess": "zzzzz"}
        status, body = await call(http, "POST", url, body=orjson.dumps(payload))
        assert (status, body["error"]["code"]) == (422, "invalid_pack")
        assert body["error"]["problems"] == [
            {"field": "riddle.answers", "message": "at most 50 answers per riddle, got 6500"}
        ]
        riddle["answers"] = answers[:50]
        status, body = await call(http, "POST", url, body=orjson.dumps(payload))
        assert (status, body["verdict"]) == (200, "wrong")
        payload["guess"] = "a0049"
        status, body = await call(http, "POST", url, body=orjson.dumps(payload))
        assert (status, body["verdict"], body["matched"]) == (200, "correct", "a0049")


def slow_pack(riddles: int = 8000) -> bytes:
    """A pack the validator takes a second or more over: every riddle has a problem."""
    items = [{"text": f"q{i}", "answers": [f"a{i}"], "points": 0} for i in range(riddles)]
    rounds = [{"kind": "riddles", "title": "r", "riddles": items}]
    return orjson.dumps({"id": "slow", "title": "Slow", "language": "en", "rounds": rounds})


@pytest.mark.timeout(120)
@pytest.mark.parametrize("addresses", [1, 12], ids=["one-address", "many-addresses"])
async def test_an_upload_finds_a_place_while_validate_is_flooded(addresses: int) -> None:
    # One pack worker and a queue of 4, as a small server has. 12 slow checks
    # at once used to take the worker and the whole queue: another room's
    # upload was then 503 busy. Now an address's checks are read one at a time
    # (the line behind it is 2 long, past it 429), and checks hold at most half
    # of the queue (past it 503): the upload always finds a place.
    settings = fast_settings(pack_parse_workers=1, pack_parse_queue=4, trusted_proxies=1)
    async with running_server(settings) as server, aiohttp.ClientSession() as http:
        base = server.base_url
        room = await create_room(base, "Bystander")
        body = slow_pack()
        answered: list[tuple[int, str]] = []

        async def check(i: int) -> None:
            headers = {"X-Forwarded-For": f"10.0.0.{i % addresses + 1}"}
            async with http.post(f"{base}/api/packs/validate", data=body, headers=headers) as r:
                reply = await r.json()
                answered.append((r.status, reply.get("error", {}).get("code", "")))

        flood = asyncio.gather(*(check(i) for i in range(12)))
        # 12 checks: 1 read, at most 4 waiting; every other one is answered at once.
        async with asyncio.timeout(30):
            while len(answered) < 7:
                await asyncio.sleep(0.01)
        status, uploaded = await call(
            http,
            "POST",
            f"{base}/api/rooms/{room['code']}/pack",
            body=ROOM_PACK.encode(),
            token=room["host_token"],
            params={"filename": "p.yaml"},
        )
        assert status == 201, uploaded
        await flood
        refused = (429, "rate_limited") if addresses == 1 else (503, "busy")
        assert answered.count(refused) == 9, answered
        # 1 read at once, 2 after it (past the time budget on a slow machine).
        read = [a for a in answered if a != refused]
        assert all(a in ((200, ""), (422, "pack_too_complex")) for a in read), answered
