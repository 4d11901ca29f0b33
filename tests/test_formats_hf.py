"""hf:// paths, offline: the Hub listing and download steps are replaced by local files in the same schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stylebias import load_battles
from stylebias.errors import DataError, StyleBiasWarning, UsageError
from stylebias.formats import hf

FX = Path(__file__).resolve().parent / "fixtures" / "formats"


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A fake dataset repo laid out like lmarena-ai/arena-human-preference-140k (data/train-*.parquet)."""
    repo = {
        "README.md": None,
        ".gitattributes": None,
        "data/train-00000-of-00002.parquet": FX / "arena140k.parquet",
        "data/train-00001-of-00002.parquet": FX / "arena100k.parquet",
        "data/test-00000-of-00001.parquet": FX / "arena_metadata.parquet",
        "embeddings/arena-explorer-embeddings.parquet": None,
    }
    calls: dict = {"list": [], "download": []}

    def list_files(name: str, revision: str | None) -> list[str]:
        calls["list"].append((name, revision))
        return list(repo)

    def download(name: str, filename: str, revision: str | None) -> Path:
        calls["download"].append((name, filename, revision))
        src = repo[filename]
        dest = tmp_path / "cache" / filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src is None:  # a non-battle parquet file
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({"id": ["x"], "embedding": [[0.1, 0.2]]}), dest)
        else:
            shutil.copy(src, dest)
        return dest

    monkeypatch.setattr(hf, "_list_files", list_files)
    monkeypatch.setattr(hf, "_download", download)
    return calls


def test_parse_spec() -> None:
    assert hf.parse_spec("hf://lmarena-ai/arena-human-preference-140k") == (
        "lmarena-ai/arena-human-preference-140k",
        None,
        None,
    )
    assert hf.parse_spec("hf://lmsys/chatbot_arena_conversations@refs/convert/parquet:train") == (
        "lmsys/chatbot_arena_conversations",
        "refs/convert/parquet",
        "train",
    )
    with pytest.raises(UsageError, match="hf://owner/name"):
        hf.parse_spec("hf://just-a-name")


def test_split_selection() -> None:
    files = [
        "data/train-00000-of-00001.parquet",
        "data/test-00000-of-00001.parquet",
        "README.md",
        "train/0000.parquet",
    ]
    assert hf.data_files(files, None) == ["data/train-00000-of-00001.parquet", "train/0000.parquet"]
    assert hf.data_files(files, "test") == ["data/test-00000-of-00001.parquet"]
    assert hf.data_files(["a/b.jsonl.gz", "c.csv"], None) == ["a/b.jsonl.gz", "c.csv"]


def test_hf_path_loads_train_split_by_default(fake_hub: dict) -> None:
    data = load_battles("hf://lmarena-ai/arena-human-preference-140k")
    data.check_accounting()
    assert [f for _, f, _ in fake_hub["download"]] == [
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
    ]
    assert data.sources["file"].tolist() == [
        "hf://lmarena-ai/arena-human-preference-140k/data/train-00000-of-00002.parquet",
        "hf://lmarena-ai/arena-human-preference-140k/data/train-00001-of-00002.parquet",
    ]
    assert data.sources["format"].tolist() == ["arena140k", "lmarena"]
    assert data.accepted == 3 + 4


def test_hf_revision_split_and_non_battle_files(fake_hub: dict) -> None:
    data = load_battles("hf://org/ds@v1.0:test")
    assert fake_hub["list"] == [("org/ds", "v1.0")]
    assert data.sources["file"].tolist() == ["hf://org/ds@v1.0/data/test-00000-of-00001.parquet"]
    assert data.accepted == 4
    with pytest.warns(StyleBiasWarning, match="skipped .*embeddings"):
        emb = load_battles("hf://org/ds:embeddings", allow_empty=True)
    assert emb.read == 0
    with pytest.raises(DataError, match="no data files for split 'validation'"):
        load_battles("hf://org/ds:validation")


def test_hf_needs_the_optional_client(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_hub(name, *args, **kwargs):
        if name == "huggingface_hub":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hub)
    with pytest.raises(UsageError, match=r"pip install 'stylebias\[hf\]'"):
        load_battles("hf://org/ds")
