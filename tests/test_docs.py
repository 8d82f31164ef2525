"""Every command and every rule setting is documented; the README opens with the two commands."""

from pathlib import Path

import pytest
import typer

from tagwatch.cli import app
from tagwatch.rules import RuleSettings

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def commands(group, prefix: str = "tagwatch") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}"
        out.append(full)
        if hasattr(cmd, "commands"):  # a group of subcommands
            out.extend(commands(cmd, full))
    return out


@pytest.mark.parametrize("command", commands(typer.main.get_command(app)))
def test_command_is_documented(command):
    assert command in DOCS, f"{command!r} is not mentioned in README.md or docs/"


@pytest.mark.parametrize("name", RuleSettings.names())
def test_rule_setting_is_documented(name):
    assert f"`{name}`" in (ROOT / "docs" / "rules.md").read_text()


def test_readme_opens_with_demo_and_test_commands():
    head = (ROOT / "README.md").read_text().split("\n")[:6]
    assert any(line.startswith("make demo") for line in head) and any(line.startswith("make test") for line in head)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_heavy_analytics_libraries_are_not_loaded_by_the_cli():
    import subprocess
    import sys
    code = ("import sys, tagwatch.cli; print(','.join(m for m in ('statsmodels', 'matplotlib', 'scipy', 'pandas') "
            "if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == ""
