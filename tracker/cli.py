"""The ``spyglass`` console script: ``manage.py`` for an installed package (no checkout needed).

``spyglass migrate``, ``spyglass load_starter_data``, ``spyglass runserver`` … run the same
commands as ``python manage.py …``; so does ``python -m tracker``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run one Django management command with Spyglass's settings (the default settings module)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    from django.core.management import execute_from_command_line

    arguments = list(sys.argv if argv is None else argv)
    arguments[0] = "spyglass"  # the program name in `spyglass help` and usage lines
    execute_from_command_line(arguments)
