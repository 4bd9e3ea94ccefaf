"""The fixtures every test shares, in tests/ and in each app's tests/ folder, are tests/fixtures.py's: registered
here as a plugin (pytest loads a conftest.py only for the folder it is in, and refuses one loaded twice)."""

pytest_plugins = ["tests.fixtures"]
