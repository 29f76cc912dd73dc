"""Generated documentation stays in step with the code."""

from pathlib import Path

from flowsim.config import reference_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_configuration_reference_is_current():
    """docs/configuration.md is what `flowsim schema --markdown` prints today."""
    assert DOC.read_text(encoding="utf-8") == reference_markdown(), (
        "regenerate with: flowsim schema --markdown --out docs/configuration.md"
    )
