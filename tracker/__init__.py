"""Spyglass: the Django project and app (models, views, admin, tasks, alerts, exports)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
