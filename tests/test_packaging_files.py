"""Files that ship with the code stay true to it: .env.example, LICENSE, constraints.txt."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
ENV_HELPERS = {"env_bool", "env_list"}


def settings_env_names() -> set[str]:
    """Names tracker/settings.py reads: os.environ.get/[...], os.getenv, env_bool, env_list
    (outside the helpers' own bodies, which read the name they are given)."""
    tree = ast.parse((ROOT / "tracker" / "settings.py").read_text())
    readers = [
        statement
        for statement in tree.body
        if not (isinstance(statement, ast.FunctionDef) and statement.name in ENV_HELPERS)
    ]
    names: set[str] = set()
    for node in (node for statement in readers for node in ast.walk(statement)):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            func = ast.unparse(node.func)
            if func in {"os.environ.get", "os.getenv"} or func in ENV_HELPERS:
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
        if key is not None:
            assert isinstance(key, ast.Constant), f"not a literal name: {ast.unparse(key)}"
            names.add(key.value)
    return names


def env_example_names() -> set[str]:
    """Names set in .env.example, commented out (``# NAME=default``) or not."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_settings_parser_finds_the_known_names():
    names = settings_env_names()
    assert {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CACHE_URL", "DATABASE_URL"} <= names
    assert len(names) > 40


def test_env_example_lists_every_setting_read_from_the_environment():
    assert sorted(settings_env_names() - env_example_names()) == []


def test_env_example_lists_nothing_settings_does_not_read():
    assert sorted(env_example_names() - settings_env_names()) == []


def test_licence_file_matches_the_declared_licence():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_constraints_pin_every_requirement_within_its_declared_range():
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[canonicalize_name(name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"] + project["optional-dependencies"]["dev"]:
        requirement = Requirement(line)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(pinned), f"{requirement.name}=={pinned} vs {line}"
        upper = any(spec.operator == "<" for spec in requirement.specifier)
        assert upper, f"no upper bound: {line}"
