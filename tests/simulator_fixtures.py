"""Fixtures that start the upstream simulator on a free loopback port (owned by the simulator)."""
