"""The benchmark behind ``manage.py bench``: generated data, our code, hand-written baselines."""
