"""The aiohttp edge: everything that speaks HTTP or WebSocket.

One module per concern: ``connection`` (a socket and its send queue),
``guards`` (origin, client address, per-address limits), ``hub`` (fan-out
of room changes to this process's connections), ``health`` (store outages
as clients see them), ``presence`` (which rooms this process serves, and
disconnects), ``commands`` (the typed table from inbound message to rule),
``session`` (opening messages, roles, dispatch), ``ws`` (the WebSocket
handler loop) and ``http`` (JSON API, pages, downloads, health). None of
them holds a game rule: they parse, check, call the service, and send.
"""
