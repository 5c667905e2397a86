"""The dashboard's seeded store, for the Webhooks page's tests."""

from tests.dashboard.conftest import make_store

__all__ = ["make_store"]  # a fixture: a config file and a scored SQLite store, for AppTest
