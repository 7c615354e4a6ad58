"""Test helpers shared by the suite.

Import them as ``support.*`` (tests/conftest.py puts tests/ on sys.path):

    from support.redis_server import RedisServer
    from support.browser import launch_chromium
"""
