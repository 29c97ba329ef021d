"""Shared fixtures. The simulator fixtures live in tests/simulator_fixtures.py."""

pytest_plugins = ["tests.simulator_fixtures"]
