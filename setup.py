"""Packages pyproject.toml cannot find on its own; everything else is in pyproject.toml.

The site templates live in the top-level ``templates/`` folder (the layout the project keeps);
the wheel carries them as ``tracker/site_templates`` (``package-dir`` in pyproject.toml), a
package that package discovery cannot see because no such folder exists in the checkout.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["tracker", "tracker.*", "scrapers", "scrapers.*"]),
        "tracker.site_templates",
    ]
)
