"""``python -m tracker …``: the same as the ``spyglass`` console script and ``manage.py``."""

from tracker.cli import main

main()
