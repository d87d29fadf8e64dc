"""Files that ship with the code stay true to it: .env.example, LICENSE, constraints.txt, and the
systemd units and crontabs of docs/production.md."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
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


def production_doc_blocks(language: str) -> list[str]:
    """The ```language code blocks of docs/production.md."""
    text = (ROOT / "docs" / "production.md").read_text()
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def systemd_units() -> dict[str, str]:
    units = {}
    for block in production_doc_blocks("ini"):
        name = re.match(r"# /etc/systemd/system/(\S+)", block)
        assert name, f"a unit block without its file name: {block[:60]}"
        units[name.group(1)] = block
    return units


def unit_values(unit: str, key: str) -> list[str]:
    """Every value of ``key`` (space-separated lists split), continuation lines joined."""
    joined = unit.replace("\\\n", " ")
    return [
        value
        for line in re.findall(rf"^{key}=(.*)$", joined, flags=re.MULTILINE)
        for value in line.split()
    ]


def test_the_systemd_units_start_after_the_database_and_broker():
    units = systemd_units()
    assert set(units) == {
        "spyglass-web.service",
        "spyglass-worker.service",
        "spyglass-beat.service",
    }
    for name, unit in units.items():
        assert {"postgresql.service", "redis-server.service"} <= set(unit_values(unit, "After"))
        if name != "spyglass-web.service":  # web pages start without them; tasks need both
            assert {"postgresql.service", "redis-server.service"} <= set(unit_values(unit, "Wants"))
        assert unit_values(unit, "WorkingDirectory") == ["/srv/spyglass"]
        assert unit_values(unit, "EnvironmentFile") == ["/etc/spyglass.env"]


def test_beat_writes_its_schedule_in_its_state_directory():
    beat = systemd_units()["spyglass-beat.service"]
    (state,) = unit_values(beat, "StateDirectory")
    command = unit_values(beat, "ExecStart")
    schedule = Path(command[command.index("--schedule") + 1])
    # ProtectSystem=strict leaves only ReadWritePaths= and the StateDirectory= writable.
    assert schedule.parent == Path("/var/lib") / state
    assert "strict" in unit_values(beat, "ProtectSystem")


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    site = tmp_path / "srv" / "spyglass"  # the units' paths, with stand-in programs
    (site / ".venv" / "bin").mkdir(parents=True)
    for program in ("gunicorn", "celery"):
        (site / ".venv" / "bin" / program).write_text("#!/bin/sh\n")
        (site / ".venv" / "bin" / program).chmod(0o755)
    for name, unit in systemd_units().items():
        (tmp_path / name).write_text(unit.replace("/srv/spyglass", str(site)))
    done = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(path) for path in tmp_path.glob("*.service"))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    complaints = [line for line in done.stderr.splitlines() if "spyglass" in line]
    assert done.returncode == 0 and complaints == [], done.stderr


def test_every_command_in_the_documented_crontabs_parses():
    from django.core.management import get_commands, load_command_class

    commands = get_commands()
    found = []
    for block in production_doc_blocks("cron"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if "/usr/local/bin/spyglass-manage" not in words:
                continue
            arguments = words[words.index("/usr/local/bin/spyglass-manage") + 1 :]
            ends = [at for at, word in enumerate(arguments) if word in {"&&", "||", ";", "|"}]
            name, *options = arguments[: ends[0]] if ends else arguments
            assert name in commands, f"no command {name}: {line}"
            command = load_command_class(commands[name], name)
            command.create_parser("spyglass", name).parse_args(options)  # CommandError if wrong
            found.append(name)
    assert {"scrape_all", "send_alerts", "backup"} <= set(found)
