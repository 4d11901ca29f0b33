"""docs/plugin.md stays true: its ```python blocks run in order, in one namespace, in a temporary folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugin.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_plugin_doc_has_the_three_entry_points():
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    joined = "\n".join(blocks)
    assert len(blocks) >= 6
    for needle in (
        "StyleControl()",
        "from stylebias.fastchat import",
        "to_contextual_pairs(",
        ".update(",
        ".save(",
    ):
        assert needle in joined


def test_plugin_doc_code_blocks_run(tmp_path, capsys):
    namespace: dict[str, object] = {"__name__": "__docs__"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, block in enumerate(python_blocks(DOC.read_text(encoding="utf-8")), 1):
            try:
                exec(compile(block, f"docs/plugin.md block {i}", "exec"), namespace)  # noqa: S102
            except Exception as exc:  # pragma: no cover - the message says which block failed
                raise AssertionError(f"docs/plugin.md python block {i} failed: {exc!r}\n{block}") from exc
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "rating" in out and "newton iterations" in out
    assert (tmp_path / "style_model" / "artifact.json").is_file()
    assert (tmp_path / "style_model" / "design.json").is_file()
    assert not (tmp_path / "style_model_small" / "design.json").exists()
