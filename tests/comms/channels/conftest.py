"""Channel adapter tests share the fixtures in tests/comms/conftest.py."""
