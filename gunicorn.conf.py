"""gunicorn's default config file in a checkout (``gunicorn -c gunicorn.conf.py``, or plain
``gunicorn``): the settings live in the package, ``tracker/gunicorn_conf.py``, so that an
installed site has them too."""

from tracker.gunicorn_conf import *  # noqa: F403
