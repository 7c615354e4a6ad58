"""The test harness itself: real redis-server fixtures and headless Chromium."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from support.redis_server import (
    RedisReplyError,
    RedisServer,
    RedisServerError,
    RedisServerNotInstalled,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser


async def test_redis_url_ping_set_get(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert await client.ping() is True
        assert await client.dbsize() == 0  # a fresh, flushed logical db
        await client.set("ritrovo:probe", "ciao")
        assert await client.get("ritrovo:probe") == "ciao"
    finally:
        await client.aclose()


def test_redis_url_gives_each_test_its_own_db(redis_server: RedisServer, redis_url: str) -> None:
    parts = urlsplit(redis_url)
    assert parts.hostname == "127.0.0.1"
    assert parts.port == redis_server.port
    db = int(parts.path.lstrip("/"))
    assert 1 <= db <= 15
    # the key written by the previous test is not visible here
    assert redis_server.command("DBSIZE", db=db) == 0


def test_redis_server_is_ours_and_not_6379(redis_server: RedisServer) -> None:
    assert redis_server.is_running
    assert redis_server.port != 6379
    assert ":6379" not in redis_server.url
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    info = str(redis_server.command("INFO", "server"))
    assert f"process_id:{redis_server.pid}" in info
    config = redis_server.command("CONFIG", "GET", "*")
    assert isinstance(config, list)
    settings = dict(zip(config[::2], config[1::2], strict=True))
    assert settings["bind"] == "127.0.0.1"
    assert settings["appendonly"] == "yes"
    assert settings["appendfsync"] == "always"
    assert settings["save"] == ""
    assert settings["protected-mode"] == "yes"


def test_command_reports_errors(redis_server: RedisServer) -> None:
    with pytest.raises(RedisReplyError):
        redis_server.command("NOSUCHCOMMAND")


async def test_kill_and_restart_keeps_aof_data(fresh_redis_server: RedisServer) -> None:
    server = fresh_redis_server
    port, directory = server.port, server.directory
    client = aioredis.Redis.from_url(server.url_for(3), decode_responses=True)
    try:
        await client.set("team:amber", "42")
        await client.hset("room:xyz", mapping={"state": "lobby"})
    finally:
        await client.aclose()

    server.kill()  # SIGKILL: no shutdown, no final fsync
    assert not server.is_running
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1.0)
        probe.connect(("127.0.0.1", port))

    await server.start_async()  # same port, same dir, AOF replayed
    assert (server.port, server.directory) == (port, directory)
    client = aioredis.Redis.from_url(server.url_for(3), decode_responses=True)
    try:
        assert await client.get("team:amber") == "42"
        assert await client.hgetall("room:xyz") == {"state": "lobby"}
    finally:
        await client.aclose()

    server.stop()  # graceful
    assert not server.is_running and server.pid is None
    server.start()
    assert server.command("GET", "team:amber", db=3) == "42"


def test_close_removes_its_directory() -> None:
    server = RedisServer()
    with server:
        directory = server.directory
        assert (directory / "redis.conf").is_file()
        assert server.ping()
    assert not server.is_running
    assert not directory.exists()


def test_refuses_port_6379() -> None:
    with pytest.raises(ValueError):
        RedisServer(port=6379)


def test_missing_binary_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = str(tmp_path / "no-redis-server")
    with pytest.raises(RedisServerNotInstalled, match="make test"):
        RedisServer(binary=missing, directory=tmp_path).start()
    monkeypatch.setenv("RITROVO_REDIS_SERVER", missing)
    with pytest.raises(RedisServerNotInstalled, match="make test"):
        RedisServer(directory=tmp_path).start()


async def test_chromium_renders_text(browser: Browser, artifacts_dir: Path) -> None:
    page = await browser.new_page()
    await page.goto("about:blank")
    await page.set_content("<main><h1 id='title'>Ritrovo</h1><p>Indovinello pronto</p></main>")
    assert await page.inner_text("#title") == "Ritrovo"
    assert "Indovinello pronto" in await page.inner_text("main")
    shot = artifacts_dir / "test_support_chromium.png"
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0
    await page.close()


def test_taken_port_is_an_error_and_never_contacted(tmp_path: Path) -> None:
    # Something else listens on the port: our redis-server fails to bind and we
    # give up without ever connecting to that listener.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        squatter.setblocking(False)
        port = squatter.getsockname()[1]
        server = RedisServer(port=port, directory=tmp_path)
        with pytest.raises(RedisServerError, match="could not bind"):
            server.start()
        assert not server.is_running
        with pytest.raises(BlockingIOError):
            squatter.accept()  # nobody connected
