"""Every command has help text and a README entry (sqlite-utils' test_docs habit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from cardcheck.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def command_names() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            names.extend(f"{name} {s}" for s in sub)
        else:
            names.append(name)
    return sorted(names)


def test_top_help() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "一卡通" in result.output


@pytest.mark.parametrize("name", command_names())
def test_command_has_help(name: str) -> None:
    result = CliRunner().invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    body = result.output.split("Options")[0]
    assert len(re.sub(r"Usage:.*", "", body).strip()) > 20, f"{name} has no help text"


@pytest.mark.parametrize("name", command_names())
def test_command_in_readme(name: str) -> None:
    assert f"cardcheck {name}" in README, f"README says nothing of `cardcheck {name}`"


def test_exit_codes_documented() -> None:
    for code in ("0", "1", "2"):
        assert re.search(rf"\|\s*{code}\s*\|", README), f"exit code {code} not in README table"
