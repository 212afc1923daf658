"""Helpers shared by the tests (the fixtures themselves are in tests/conftest.py)."""
