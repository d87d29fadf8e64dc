"""Smoke tests of ``manage.py bench``: each stage runs on tiny data and yields a full row."""
