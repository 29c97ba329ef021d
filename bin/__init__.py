"""The commands of bin/; Python modules here (the demo's supervisor) run as `python -m bin.NAME`."""
