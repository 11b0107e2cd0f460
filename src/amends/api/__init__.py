"""The REST API under /api/v1/: one NinjaAPI mounting each app's router (see main.py)."""
