"""The hand-worked week of the Statistics (tests/stats/conftest.py), for the API's tests too."""

from tests.stats.conftest import week  # noqa: F401 - a fixture, found by pytest here
