"""Documentation that a test keeps true (datasette's habit)."""

import re

from dcatalog.cli import app as cli_app
from dcatalog.cli import settings_reference
from dcatalog.config import Settings
from tests.helpers import ROOT


def test_the_settings_reference_is_current() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    table = re.search(r"-->\n(.*?)\n<!-- end settings-table -->", text, re.S)
    assert table is not None
    assert table.group(1).strip() == settings_reference().strip(), (
        "regenerate with: dcatalog config --markdown"
    )


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"DCATALOG_{name.upper()}" in readme, name


def _command_names() -> list[str]:
    names = [c.name or c.callback.__name__ for c in cli_app.registered_commands]  # type: ignore[union-attr]
    for group in cli_app.registered_groups:
        names += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]  # type: ignore[union-attr]
    return names


def test_every_command_is_documented() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    for name in _command_names():
        assert f"`dcatalog {name}" in operations, name


def test_the_docs_name_only_commands_that_exist() -> None:
    """An operator copies a command from the guide: a renamed or mistyped one
    (``dcatalog reports …`` for ``dcatalog report …``) must not survive there."""
    names = set(_command_names())
    groups = {g.name for g in cli_app.registered_groups}
    for doc in ("operations.md", "development.md", "integration.md"):
        path = ROOT / "docs" / doc
        if not path.exists():
            continue
        text = path.read_text()
        for first, second in re.findall(r"`dcatalog\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?", text):
            if first in groups:
                assert not second or f"{first} {second}" in names, (
                    f"{doc}: dcatalog {first} {second}"
                )
            else:
                assert first in names, f"{doc}: dcatalog {first}"


def test_the_quick_start_has_exactly_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["./dev up", "./dev test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./dev test" in ci
    assert "DCATALOG_TEST_REQUIRE_POSTGRES=1" in ci
    assert "./dev test" in (ROOT / "dev").read_text()
