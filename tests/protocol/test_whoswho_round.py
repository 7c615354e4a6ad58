"""A "Who's who" round over real WebSockets, on both stores.

Six players answer prompts privately (one skips, one answer is hidden by the
host and stays hidden when its author gives it again under another prompt;
a late joiner answers and leaves), then every question is played: the author
may not answer their own, teams choose by id or by a typed name, and the
reveal shows the author, their team and their line, and scores. No frame
any player, the screen or the host receives before a question's reveal ties
its author to it: not in the ``whoswho`` part of any state, not in a moment,
not in anyone else's ``you`` frame, not in the scores (given at the reveal),
and no frame at all carries the author's reveal line or an ``author`` field
before then. A second test checks that the draw cannot be replayed from the
room's public facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson
import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings
from support.whoswho_outsider import predicted_authors

# name -> (prompt index, answer, line); Dee skips; Fay's answer is hidden by the host.
ANSWERS = {
    "Ada": (0, "Lisbon, for the light on the river", "Ask me about the tram!"),
    "Bea": (2, "I can juggle five balls", ""),
    "Cy": (1, "How to bake sourdough bread", "Bring me flour"),
    "Eli": (3, "Delivering pizzas on a scooter", ""),
    "Fay": (4, "Something the host should not show", ""),
}
NAMES = ("Ada", "Bea", "Cy", "Dee", "Eli", "Fay")
GUS = "Late, and gone before the questions"  # the answer of a player who joins late and leaves


async def refused(client: RitrovoClient, code: str, kind: str, **fields: Any) -> None:
    with pytest.raises(ProtocolError) as err:
        await client.request(kind, **fields)
    assert err.value.code == code, (kind, fields, err.value.code)


def own(you: dict[str, Any]) -> dict[str, Any]:
    """The ``whoswho`` part of a ``you`` frame (empty outside the round)."""
    mine: dict[str, Any] = you.get("whoswho") or {"answers": [], "own_question": False}
    return mine


def at_question(state: dict[str, Any], *, index: int, revealed: bool) -> bool:
    shown = question(state)
    return shown is not None and shown["index"] == index and ("reveal" in shown) == revealed


def counts(state: dict[str, Any]) -> tuple[int, int] | None:
    """A state's ``whoswho`` counts: (answered, skipped)."""
    ww = state.get("whoswho")
    return None if ww is None else (ww["answered"], ww["skipped"])


def question(state: dict[str, Any]) -> dict[str, Any] | None:
    ww = state.get("whoswho")
    return None if ww is None else ww.get("question")


async def test_whoswho_round_end_to_end(make_store: Callable[[], RoomStore]) -> None:
    clock = FakeClock()
    raw: dict[str, list[bytes]] = {}

    def recorder(who: str) -> Any:
        raw[who] = []
        return lambda kind, message, frame, arrived: raw[who].append(frame)

    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        room = await create_room(server.base_url, "Who's who", pack="whos-who")
        host = await RitrovoClient.connect(server.ws_url, on_frame=recorder("host"))
        await host.hello("host", room=room["code"], token=room["host_token"])
        screen = await RitrovoClient.connect(server.ws_url, on_frame=recorder("screen"))
        await screen.hello("screen", room=room["code"])
        players: dict[str, RitrovoClient] = {}
        ids: dict[str, str] = {}
        try:
            for name in NAMES:
                client = await join(server.ws_url, room["code"], name, on_frame=recorder(name))
                assert client.welcome is not None
                players[name] = client
                ids[name] = client.welcome["player"]["id"]
            state = await host.wait_state(lambda s: s["players_count"] == len(NAMES))
            team_of = {p["id"]: t["id"] for t in state["teams"] for p in t["players"]}
            team_name = {t["id"]: t["name"] for t in state["teams"]}

            await refused(players["Ada"], "no_whoswho", "whoswho_answer", answers=[])
            assert (await host.request("next"))["result"] == {"step": "round_started"}
            await players["Ada"].wait_state(
                lambda s: s["whoswho"] is not None and s["whoswho"]["stage"] == "answering"
            )

            # Refusals first: each with its code, none changes anything.
            ada = players["Ada"]
            await refused(
                ada, "not_a_prompt", "whoswho_answer", answers=[{"prompt": 99, "text": "x"}]
            )
            await refused(
                ada,
                "too_many_answers",
                "whoswho_answer",
                answers=[{"prompt": n, "text": f"x{n}"} for n in range(3)],
            )
            await refused(
                ada, "empty_answer", "whoswho_answer", answers=[{"prompt": 0, "text": " "}]
            )
            await refused(ada, "invalid_field", "whoswho_answer", answers=[{"prompt": "0"}])
            await refused(host, "answer_not_found", "whoswho_hide", answer="w999")
            await refused(ada, "not_allowed", "whoswho_hide", answer="w1")

            for name, (prompt, text, line) in ANSWERS.items():
                ack = await players[name].request(
                    "whoswho_answer", answers=[{"prompt": prompt, "text": text}], line=line or None
                )
                assert ack["result"] == {"answers": 1}
            await players["Dee"].request("whoswho_answer", answers=[])
            mine = await ada.wait_for(lambda m: m["type"] == "you" and bool(own(m).get("answered")))
            assert mine["whoswho"]["answers"] == [
                {"prompt": 0, "text": ANSWERS["Ada"][1], "hidden": False}
            ]
            assert mine["whoswho"]["line"] == "Ask me about the tram!"

            await host.wait_state(lambda s: counts(s) == (5, 1))
            # A late joiner's id is the next of the room's counter as if no answer had
            # been given: answers' ids do not come from it. They answer, then leave: the
            # counts drop back; their answer stays in the review, and is never played.
            gus = await join(server.ws_url, room["code"], "Gus")
            assert gus.welcome is not None
            last = max(int(pid[1:]) for pid in ids.values())
            assert gus.welcome["player"]["id"] == f"p{last + 1}"
            await gus.request("whoswho_answer", answers=[{"prompt": 6, "text": GUS}])
            await host.wait_state(lambda s: counts(s) == (6, 1))
            await gus.request("leave")
            await gus.close()

            # The host reviews the answers, without their authors, and hides Fay's.
            state = await host.wait_state(
                lambda s: counts(s) == (5, 1) and s["players_count"] == len(NAMES)
            )
            review = state["whoswho"]["review"]
            texts = [a[1] for a in ANSWERS.values()]
            assert sorted(r["text"] for r in review) == sorted([*texts, GUS])
            assert all(set(r) == {"id", "prompt", "text", "hidden"} for r in review)
            # Random ids, in their own order: neither the room's counter nor when they came.
            review_ids = [r["id"] for r in review]
            assert review_ids == sorted(review_ids) and len(set(review_ids)) == len(review)
            assert not any(re.fullmatch(r"[wpt]\d+", i) for i in review_ids), review_ids
            hidden = next(r["id"] for r in review if r["text"] == ANSWERS["Fay"][1])
            await host.request("whoswho_hide", answer=hidden)
            fay = await players["Fay"].wait_for(
                lambda m: m["type"] == "you" and any(a["hidden"] for a in own(m)["answers"])
            )
            assert fay["whoswho"]["answers"][0]["text"] == ANSWERS["Fay"][1]
            # Fay gives it again under another prompt: it stays out of play.
            await players["Fay"].request(
                "whoswho_answer", answers=[{"prompt": 5, "text": ANSWERS["Fay"][1]}]
            )
            fay = await players["Fay"].wait_for(
                lambda m: m["type"] == "you" and [a["prompt"] for a in own(m)["answers"]] == [5]
            )
            assert fay["whoswho"]["answers"][0]["hidden"] is True
            screen_state = await screen.wait_state(lambda s: s["whoswho"]["answered"] == 5)
            assert "review" not in screen_state["whoswho"]
            assert "review" not in (players["Bea"].state or {}).get("whoswho", {})

            # The questions: the four answers that are not hidden.
            assert (await host.request("next"))["result"] == {"step": "question_started"}
            await refused(ada, "answers_closed", "whoswho_answer", answers=[])
            await refused(host, "answers_closed", "whoswho_hide", answer=hidden, hidden=False)
            await refused(host, "question_open", "next")
            played: list[str] = []
            by_text = {text: name for name, (_, text, _) in ANSWERS.items()}
            scores = {t["id"]: 0 for t in state["teams"]}
            for index in range(4):
                state = await host.wait_state(partial(at_question, index=index, revealed=False))
                assert state["whoswho"]["count"] == 4
                shown = question(state)
                assert shown is not None and shown["text"] in by_text
                author = by_text[shown["text"]]
                played.append(author)
                author_id, author_team = ids[author], team_of[ids[author]]
                mine = await players[author].wait_for(
                    lambda m: m["type"] == "you" and own(m)["own_question"]
                )
                await refused(players[author], "own_answer", "whoswho_choose", player=author_id)
                # One team chooses right by a typed name (in capitals), the other wrongly by id.
                right_team = next(t for t in scores if t != author_team)
                right = next(n for n in NAMES if team_of[ids[n]] == right_team and n != author)
                wrong = next(n for n in NAMES if team_of[ids[n]] == author_team and n != author)
                decoy = next(n for n in NAMES if n not in (author, wrong))
                clock.advance(9)
                ack = await players[right].request("whoswho_choose", name=author.upper())
                assert ack["result"] == {"chosen": author_id}
                await refused(players[right], "no_more_guesses", "whoswho_choose", name=author)
                state = await players[right].wait_state(
                    lambda s: (q := question(s)) is not None and "team" in q
                )
                assert question(state)["team"]["chosen"] == author_id  # type: ignore[index]
                assert "reveal" not in question(state)  # type: ignore[operator]
                await refused(players[wrong], "invalid_field", "whoswho_choose")
                if index < 3:
                    await players[wrong].request("whoswho_choose", player=ids[decoy])
                else:  # the last one is revealed by the host before the other team answers
                    await host.request("reveal")
                revealed = await screen.wait_state(partial(at_question, index=index, revealed=True))
                reveal = question(revealed)["reveal"]  # type: ignore[index]
                assert reveal["author"] == {
                    "id": author_id,
                    "name": author,
                    "team_id": author_team,
                    "team_name": team_name[author_team],
                }
                assert reveal["line"] == ANSWERS[author][2]
                assert reveal["end_reason"] == ("all_answered" if index < 3 else "host_reveal")
                # 9 s of 45: round(100 × (1 − 0.5 × 9/45)) = 90, + 10 for the first right team.
                rows = {row["team_id"]: row for row in reveal["teams"]}
                assert rows[right_team]["correct"] and rows[right_team]["points"] == 100
                if index < 3:
                    assert not rows[author_team]["correct"] and rows[author_team]["points"] == 0
                scores[right_team] += 100
                board = {t["id"]: t["score"] for t in revealed["teams"]}
                assert board == scores
                if index < 3:
                    assert (await host.request("next"))["result"] == {"step": "question_started"}
            assert sorted(played) == ["Ada", "Bea", "Cy", "Eli"]
            await refused(host, "nothing_to_reveal", "reveal")

            # Nothing tied an author to their answer before its reveal.
            everyone = {"host": host, "screen": screen, **players}
            for who, client in everyone.items():
                check_no_leak(who, client, raw[who], ids, played)

            assert (await host.request("next"))["result"] == {"step": "round_ended"}
            final = await screen.wait_state(lambda s: s["phase"] == "finished")
            assert final["whoswho"] is None
        finally:
            for client in [host, screen, *players.values()]:
                if not client.closed.done():
                    await client.close()


def check_no_leak(
    who: str,
    client: RitrovoClient,
    frames: list[bytes],
    ids: dict[str, str],
    played: list[str],
) -> None:
    """Before question i's reveal, nothing this client got ties ``played[i]`` to it."""
    index = -1  # the question the client last saw open; -1 before any
    revealed: set[int] = set()
    for message in client.messages:
        if message["type"] == "state":
            body = message["state"]
            shown = question(body)
            if shown is not None:
                index = shown["index"]
                if "reveal" in shown:
                    revealed.add(index)
            open_author = played[index] if index >= 0 and index not in revealed else None
            if open_author is None:
                continue
            ww = orjson.dumps(body["whoswho"]).decode()
            assert f'"{ids[open_author]}"' not in ww or _team_chose(shown, ids[open_author]), (
                who,
                ww,
            )
            assert f'"{open_author}"' not in ww or _team_chose(shown, ids[open_author]), who
            assert '"author"' not in ww and '"correct"' not in ww, (who, ww)
            moments = [m for m in body["moments"] if m["kind"] == "whoswho_revealed"]
            assert all(m["player_id"] != ids[open_author] for m in moments), (who, moments)
        elif (
            message["type"] == "you"
            and index >= 0
            and index not in revealed
            and who != played[index]
        ):
            assert not own(message)["own_question"], (who, message)
    # The raw frames: a reveal line never travels without its reveal (the author's
    # own line is in their own ``you`` frames from the start).
    lines = {name: ANSWERS[name][2] for name in played if ANSWERS[name][2] and name != who}
    for frame in frames:
        text = frame.decode()
        for name, line in lines.items():
            if line in text:
                assert '"author"' in text and f'"{ids[name]}"' in text, (who, name, text[:300])


def _team_chose(shown: dict[str, Any] | None, player_id: str) -> bool:
    """The team's own choice names whom the team chose: that is not the author's identity."""
    team = None if shown is None else shown.get("team")
    return team is not None and team["chosen"] == player_id


async def test_nobody_can_replay_the_draw_from_the_rooms_public_facts(
    make_store: Callable[[], RoomStore],
) -> None:
    """Twelve players, one answer each: the room's code, the players' ids in join order
    and the counts (answered 12, skipped 0) are all public, and once told the whole draw."""
    async with running_server(fast_settings(), store=make_store()) as server:
        room = await create_room(server.base_url, "Draw", pack="whos-who")
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        players: list[RitrovoClient] = []
        try:
            for n in range(12):
                players.append(await join(server.ws_url, room["code"], f"Player {n}"))
            joined = [p.welcome["player"]["id"] for p in players if p.welcome is not None]
            await host.wait_state(lambda s: s["players_count"] == 12)
            await host.request("next")
            for n, client in enumerate(players):
                await client.request(
                    "whoswho_answer", answers=[{"prompt": n % 8, "text": f"Fact number {n}"}]
                )
            await host.wait_state(lambda s: counts(s) == (12, 0))
            assert (await host.request("next"))["result"] == {"step": "question_started"}
            authors: list[str] = []
            for index in range(10):
                if index:
                    await host.request("next")
                await host.request("reveal")
                state = await host.wait_state(partial(at_question, index=index, revealed=True))
                authors.append(question(state)["reveal"]["author"]["id"])  # type: ignore[index]
            assert len(set(authors)) == 10  # one question per author
            assert authors != predicted_authors(room["code"], 0, joined, 10)
        finally:
            for client in [host, *players]:
                if not client.closed.done():
                    await client.close()


async def test_the_host_pauses_extends_and_resumes_a_question(
    make_store: Callable[[], RoomStore],
) -> None:
    """The host's pause, "+30 s" and resume act on the open question: a paused one takes no
    answer (``paused``), every view shows its clock stopped and its new time limit."""
    clock = FakeClock()
    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        room = await create_room(server.base_url, "Clock", pack="whos-who")
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        screen = await RitrovoClient.connect(server.ws_url)
        await screen.hello("screen", room=room["code"])
        players = [await join(server.ws_url, room["code"], name) for name in ("Ada", "Bea")]
        try:
            await host.wait_state(lambda s: s["players_count"] == 2)
            await host.request("next")
            await refused(host, "no_open_question", "pause")
            for n, client in enumerate(players):
                await client.request("whoswho_answer", answers=[{"prompt": n, "text": f"fact {n}"}])
            await host.wait_state(lambda s: counts(s) == (2, 0))
            await host.request("next")
            opened = question(
                await screen.wait_state(partial(at_question, index=0, revealed=False))
            )
            assert opened is not None and opened["paused"] is False
            limit = opened["time_limit"]

            clock.advance(5)
            await host.request("pause")
            await refused(host, "already_paused", "pause")
            shown = question(
                await screen.wait_state(lambda s: bool((question(s) or {}).get("paused")))
            )
            assert shown is not None and shown["remaining"] == limit - 5
            for client in players:  # the author is refused as the others: paused comes first
                await refused(client, "paused", "whoswho_choose", name="Ada")
            clock.advance(100)
            await host.request("extend", seconds=30)
            state = await players[0].wait_state(
                lambda s: (question(s) or {}).get("time_limit") == limit + 30
            )
            shown = question(state)
            assert shown is not None and shown["paused"] and shown["remaining"] == limit + 25

            await host.request("resume")
            shown = question(
                await screen.wait_state(lambda s: (question(s) or {}).get("paused") is False)
            )
            assert shown is not None and shown["deadline_at"] == clock.now + limit + 25
            await host.request("reveal")
            await host.wait_state(partial(at_question, index=0, revealed=True))
            await refused(host, "no_open_question", "resume")
        finally:
            for client in [host, screen, *players]:
                if not client.closed.done():
                    await client.close()
