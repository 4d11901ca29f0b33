"""``--dask``: extraction and fitting on a real Dask ``LocalCluster`` with two worker processes.

Small inputs (three battle files each, with rejected records) so the module runs in seconds after the
cluster starts: features written by the workers are the single-process frame, ratings, sandwich intervals
and bootstrap replicates equal ``rank``'s, and every input record is a battle or a reject. Without Dask,
``--dask`` fails with the install command (simulated import failure).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylebias.cli import main
from stylebias.errors import DataError, UsageError
from stylebias.formats import load_battles
from stylebias.rating import FitSettings, rank_battles

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::stylebias.errors.StyleBiasWarning")]

distributed = pytest.importorskip("distributed")


def assert_same_document(got: object, ref: object, path: str = "") -> None:
    """Two ``--json`` documents with the same keys and texts and numbers equal to 1e-6 (their 6-decimal
    rounding can differ by one unit where a value sits on a rounding boundary)."""
    if isinstance(ref, dict):
        assert isinstance(got, dict) and set(got) == set(ref), path
        for k in ref:
            assert_same_document(got[k], ref[k], f"{path}.{k}")
    elif isinstance(ref, list):
        assert isinstance(got, list) and len(got) == len(ref), path
        for i, (g, r) in enumerate(zip(got, ref, strict=True)):
            assert_same_document(g, r, f"{path}[{i}]")
    elif isinstance(ref, float) and isinstance(got, float):
        assert got == pytest.approx(ref, abs=1.5e-6, nan_ok=True), path
    else:
        assert got == ref, path


@pytest.fixture(scope="module")
def client():  # noqa: ANN201
    from stylebias.cluster import connect

    with connect("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def text_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three JSONL files of real human votes with texts (the demo's PandaLM part), one bad record each."""
    human = load_battles(None).battles
    human = human[human["judge"] == "human"].reset_index(drop=True)
    folder = tmp_path_factory.mktemp("text")
    paths = []
    for i in range(3):
        path = folder / f"votes-{i}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for r in human.iloc[i * 12 : (i + 1) * 12].itertuples():
                row = {
                    "model_a": r.model_a,
                    "model_b": r.model_b,
                    "winner": str(r.winner),
                    "prompt": r.prompt,
                    "response_a": r.response_a,
                    "response_b": r.response_b,
                }
                f.write(json.dumps(row) + "\n")
            f.write(json.dumps({"model_a": "x", "model_b": "y", "winner": "banana"}) + "\n")
        paths.append(str(path))
    return paths


def metadata_table(n: int, seed: int):  # noqa: ANN201
    """LMArena-shaped metadata-only battles (FastChat's clean_battle schema), 2 % unknown vote labels."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    models = np.array([f"model-{i:02d}" for i in range(7)])
    a = rng.integers(0, len(models), n)
    b = (a + rng.integers(1, len(models), n)) % len(models)
    labels = np.array(["model_a", "model_b", "tie", "tie (bothbad)", "nonsense"])
    winner = labels[rng.choice(5, n, p=[0.36, 0.34, 0.18, 0.1, 0.02])]

    def counts(*names: str):  # noqa: ANN202
        return pa.StructArray.from_arrays([pa.array(rng.poisson(1.5, n)) for _ in names], names=list(names))

    meta = {
        "sum_assistant_a_tokens": pa.array(rng.integers(1, 2000, n)),
        "sum_assistant_b_tokens": pa.array(rng.integers(1, 2000, n)),
    }
    for s in "ab":
        meta[f"header_count_{s}"] = counts("h1", "h2", "h3", "h4", "h5", "h6")
        meta[f"list_count_{s}"] = counts("ordered", "unordered")
        meta[f"bold_count_{s}"] = counts("**", "__")
    return pa.table(
        {
            "question_id": pa.array([f"{seed}-{i}" for i in range(n)]),
            "model_a": pa.array(models[a]),
            "model_b": pa.array(models[b]),
            "winner": pa.array(winner),
            "judge": pa.array(["arena_user"] * n),
            "turn": pa.array(np.ones(n, dtype=np.int64)),
            "conv_metadata": pa.StructArray.from_arrays(list(meta.values()), names=list(meta)),
        }
    )


@pytest.fixture(scope="module")
def metadata_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("meta")
    for i, n in enumerate((1500, 900, 2100)):
        pq.write_table(metadata_table(n, i), folder / f"battles-{i}.parquet", row_group_size=500)
    return str(folder)


def test_features_on_the_cluster_are_the_single_process_frame(client, text_files, tmp_path) -> None:  # noqa: ANN001
    from stylebias.cluster import extract_features
    from stylebias.extract.stream import write_features

    single = tmp_path / "single.parquet"
    data = load_battles(text_files)
    expected = write_features(data, single, "style", pairs=True, jobs=1, cache=False)
    written, ledger = extract_features(
        text_files, tmp_path / "parts", "style", dask=client, pairs=True, cache=False
    )
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "parts"), pd.read_parquet(single))
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "parts_pairs"), pd.read_parquet(tmp_path / "single_pairs.parquet")
    )
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [
        f"part-0000{i}.parquet" for i in range(3)
    ]
    # every record is a battle or a reject, per file and in total
    assert written.data == expected.data == {"read": 39, "accepted": 36, "rejected": 3}
    assert ledger.sources["file"].tolist() == text_files
    assert (ledger.sources["accepted"] + ledger.sources["rejected"] == ledger.sources["read"]).all()
    assert ledger.rejects["record"].tolist() == [13, 13, 13]
    assert written.responses == expected.responses == 72 and written.refusal == expected.refusal
    assert written.counts == expected.counts and written.scripts == expected.scripts
    for name, mean in expected.means().items():
        assert mean is not None
        assert written.means()[name] == pytest.approx(mean, rel=1e-12, abs=1e-12)


def test_cli_features_on_the_cluster_read_parquet_and_jsonl(client, text_files, tmp_path) -> None:  # noqa: ANN001
    """``stylebias features A.parquet B.jsonl -o OUT/ --dask ...``: one part per file, read in order they
    are what ``stylebias features A.parquet B.jsonl -o one.parquet --jobs 1`` writes."""
    as_parquet = tmp_path / "votes-0.parquet"
    pd.read_json(text_files[0], lines=True, dtype=False).to_parquet(as_parquet)
    paths = [str(as_parquet), text_files[1]]
    address = client.scheduler.address
    for args in (
        ["-o", str(tmp_path / "parts"), "--dask", address],
        ["-o", str(tmp_path / "one.parquet"), "--jobs", "1"],
    ):
        with pytest.raises(SystemExit) as done:
            main(["features", *paths, "--features", "lmarena", "--pairs", "--no-cache", "-q", *args])
        assert done.value.code in (0, None)
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "parts"), pd.read_parquet(tmp_path / "one.parquet")
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "parts_pairs"), pd.read_parquet(tmp_path / "one_pairs.parquet")
    )
    assert (
        len(pd.read_parquet(tmp_path / "parts_pairs")) == 24
    )  # 12 battles per file; the bad records rejected


def test_workers_share_the_cache_folder_of_their_machine(client, text_files, tmp_path) -> None:  # noqa: ANN001
    """Each worker reads and writes the feature cache of its own machine (here both share one disk): a
    second run is served from it and writes the same values."""
    from stylebias.cluster import extract_features
    from stylebias.extract.cache import FeatureCache

    cache = str(tmp_path / "cache")
    extract_features(text_files, tmp_path / "first", "lmarena", dask=client, cache=cache)
    battles = load_battles(text_files).battles
    distinct = len(set(battles["response_a"]) | set(battles["response_b"]))
    with FeatureCache(Path(cache)) as store:
        assert len(store) == distinct  # every distinct response, from two worker processes into one file
    extract_features(text_files, tmp_path / "second", "lmarena", dask=client, cache=cache)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "first"), pd.read_parquet(tmp_path / "second"))


def test_rank_on_the_cluster_equals_rank(client, metadata_dir) -> None:  # noqa: ANN001
    from stylebias.cluster import rank_files

    settings = FitSettings(ci="bootstrap", rounds=8, seed=3)
    ref = rank_battles(load_battles(metadata_dir), settings=settings)
    got, ledger = rank_files(metadata_dir, dask=client, settings=settings)
    for fit in ("controlled", "raw"):
        r, g = getattr(ref, fit), getattr(got, fit)
        assert r.models_ == g.models_ and r.feature_names_ == g.feature_names_
        for attr in ("ratings_", "rating_low_", "rating_high_"):
            assert float(np.max(np.abs(getattr(r, attr) - getattr(g, attr)))) < 1e-6
        assert 400 * float(np.max(np.abs(r.boot_theta_ - g.boot_theta_))) < 1e-6
    assert got.controlled.feature_names_ == ["tokens", "header_count", "list_count", "bold_count"]
    assert_same_document(got.to_json(), ref.to_json())  # the --json document
    assert ledger.accounting() == ref.data and ref.data["rejected"] > 0


def test_sandwich_and_mixed_inputs_on_the_cluster(client, metadata_dir, text_files) -> None:  # noqa: ANN001
    """'auto' means lmarena when any file is metadata-only: the text file is redone with those features;
    its models never meet the arena's, so the graph splits into components, as in one process."""
    from stylebias.cluster import rank_files

    paths = [metadata_dir, text_files[0]]
    data = load_battles(paths)
    # partitions carry no prompts, so the effects' distinct-prompt counts are unknown there (NaN)
    data = dataclasses.replace(data, battles=data.battles.drop(columns=["prompt"]))
    ref = rank_battles(data, settings=FitSettings())
    got, _ = rank_files(paths, dask=client, settings=FitSettings())
    assert len(got.all_parts()) == len(ref.all_parts()) == 2
    assert_same_document(got.to_json(), ref.to_json())


def test_weights_on_the_cluster_as_in_one_process(client, tmp_path) -> None:  # noqa: ANN001
    """A ``weight`` column counts as frequency weights on the workers too (and ``weights=False`` drops it)."""
    from stylebias.cluster import rank_files

    rng = np.random.default_rng(5)
    paths = []
    for i in range(2):
        path = tmp_path / f"weighted-{i}.jsonl"
        with path.open("w") as f:
            for _ in range(400):
                a, b = rng.choice(6, 2, replace=False)
                winner = ["model_a", "model_b", "tie"][rng.integers(3)]
                row = {
                    "model_a": f"m{a}",
                    "model_b": f"m{b}",
                    "winner": winner,
                    "weight": int(rng.integers(1, 4)),
                }
                f.write(json.dumps(row) + "\n")
        paths.append(str(path))
    for settings in (FitSettings(features=None), FitSettings(features=None, weights=False)):
        ref = rank_battles(load_battles(paths), settings=settings)
        got, _ = rank_files(paths, dask=client, settings=settings)
        assert_same_document(got.to_json(), ref.to_json())
        assert got.settings["weights"] is settings.weights


def test_cli_dask_runs_on_a_scheduler_address(client, metadata_dir, tmp_path, capsys) -> None:  # noqa: ANN001
    address = client.scheduler.address
    with pytest.raises(SystemExit) as done:
        main(["rank", metadata_dir, "--dask", address, "--json", str(tmp_path / "r.json"), "-q"])
    assert done.value.code in (0, None)
    with pytest.raises(SystemExit):
        main(["rank", metadata_dir, "--json", str(tmp_path / "one.json"), "-q"])
    assert_same_document(
        json.loads((tmp_path / "r.json").read_text()), json.loads((tmp_path / "one.json").read_text())
    )
    with pytest.raises(SystemExit) as done:
        main(["rank", metadata_dir, "--dask", address, "--by", "judge", "-q"])
    assert done.value.code == 1
    assert "--by is not available with --dask" in capsys.readouterr().err


def test_nothing_usable_on_the_cluster_is_a_data_error(client, tmp_path) -> None:  # noqa: ANN001
    from stylebias.cluster import rank_files

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model_a": "a", "model_b": "b", "winner": "banana"}\n' * 3)
    with pytest.raises(DataError, match="no battles to rank in .*bad.jsonl: 3 records read, all rejected"):
        rank_files([str(bad)], dask=client)


def test_mostly_rejected_on_the_cluster_exits_3(client, tmp_path, capsys) -> None:  # noqa: ANN001
    """More than --max-rejected of the records rejected is said first and exits 3, as in one process."""
    path = tmp_path / "mostly-bad.jsonl"
    texts = {"prompt": "Name a colour.", "response_a": "Blue.", "response_b": "**Red**, I think!"}
    good = [{"model_a": "a", "model_b": "b", "winner": w, **texts} for w in ("model_a", "model_b", "tie")]
    bad = [{"model_a": "a", "model_b": "b", "winner": "banana"}] * 4
    path.write_text("".join(json.dumps(r) + "\n" for r in good + bad))
    for command in (["rank", "--features", "none"], ["features", "-o", str(tmp_path / "out"), "--no-cache"]):
        with pytest.raises(SystemExit) as done:
            main([*command, str(path), "--dask", client.scheduler.address, "-q"])
        assert done.value.code == 3
        assert "4 of 7 records (57%) were rejected" in " ".join(capsys.readouterr().err.split())


def test_without_dask_the_message_says_how_to_install_it(monkeypatch, metadata_dir, capsys) -> None:  # noqa: ANN001
    from stylebias.cluster.engine import dask_client

    monkeypatch.setitem(sys.modules, "distributed", None)  # "import distributed" now raises ImportError
    with pytest.raises(UsageError, match=r"pip install 'stylebias\[dask\]'"):
        dask_client()
    with pytest.raises(SystemExit) as done:
        main(["rank", metadata_dir, "--dask", "local:2", "-q"])
    assert done.value.code == 1
    assert "pip install 'stylebias[dask]'" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize(
    "address,parsed",
    [("local", ("local", None)), ("local:3", ("local", 3)), ("tcp://h:8786", ("tcp://h:8786", None))],
)
def test_dask_addresses(address: str, parsed: tuple) -> None:
    from stylebias.cluster.engine import parse_address

    assert parse_address(address) == parsed


@pytest.mark.parametrize("address", ["local:0", "local:x", " "])
def test_bad_dask_addresses(address: str) -> None:
    from stylebias.cluster.engine import parse_address

    with pytest.raises(UsageError):
        parse_address(address)
