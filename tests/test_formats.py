"""Every registered format loads its fixture in the published schema, with every reject reason accounted for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from stylebias import load_battles
from stylebias.battles import CORE_COLUMNS, META_COLUMNS, TURN_SEPARATOR, WINNERS
from stylebias.errors import DataError, UsageError
from stylebias.formats import FORMATS, Format, detect_format, lmarena, lmarena_bulk

FX = Path(__file__).resolve().parent / "fixtures" / "formats"
GENERIC_MAP = {
    "model_a": "left_model",
    "model_b": "right_model",
    "winner": "verdict",
    "response_a": "answer_left",
    "response_b": "answer_right",
    "prompt": "question",
    "judge": "rater",
}


def reasons(data) -> dict[int, str]:
    return {int(r.record): r.reason for r in data.rejects.itertuples(index=False)}


def assert_canonical(data) -> None:
    data.check_accounting()
    b = data.battles
    assert list(b.columns[: len(CORE_COLUMNS)]) == list(CORE_COLUMNS)
    assert set(b["winner"].dropna()) <= set(WINNERS) and b["winner"].notna().all()
    assert b["pref_a"].between(0, 1).all()
    assert (b["model_a"] != b["model_b"]).all()
    assert b["model_a"].str.strip().ne("").all() and b["model_b"].str.strip().ne("").all()
    assert not b["response_a"].fillna("").str.contains("<think>").any()
    assert not b["response_b"].fillna("").str.contains("<think>").any()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("lmarena_conversations.jsonl", "lmarena"),
        ("clean_battle_metadata.json", "lmarena"),
        ("arena_metadata.jsonl", "lmarena"),
        ("arena_metadata.parquet", "lmarena"),
        ("arena100k.parquet", "lmarena"),
        ("arena140k.parquet", "arena140k"),
        ("kaggle_train.csv", "kaggle"),
        ("alpaca_eval_annotations.json.gz", "alpaca_eval"),
        ("pandalm_testset.json", "pandalm"),
    ],
)
def test_auto_detection(name: str, fmt: str) -> None:
    assert detect_format(FX / name) == fmt
    data = load_battles(FX / name)
    assert data.sources["format"].tolist() == [fmt]
    assert_canonical(data)


def test_generic_is_detected_from_canonical_columns(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("model_a,model_b,winner,extra\nx,y,model_a,1\n")
    assert detect_format(p) == "generic"
    assert load_battles(p).battles["extra"].tolist() == ["1"]  # CSV cells stay text in extra columns


def test_lmarena_conversations() -> None:
    data = load_battles(FX / "lmarena_conversations.jsonl")
    assert data.accounting() == {"read": 12, "accepted": 4, "rejected": 8}
    b = data.battles.set_index("battle_id")
    first = b.loc["58210e39b3fd4441a2bd4a518bb44c2d"]
    assert first["model_a"] == "vicuna-13b" and first["winner"] == "model_a" and first["pref_a"] == 1.0
    assert first["prompt"] == "What is the capital of Australia?"
    assert first["response_a"].startswith("## Short answer")
    assert first["judge"] == "arena_user_973" and first["language"] == "English"
    assert first["anony"] and first["tstamp"] == pytest.approx(1682351591.1322)
    joke = b.loc["2564acd09e3942fd97657d05282d4389"]
    assert joke["turns"] == 2 and joke["winner"] == "tie" and joke["pref_a"] == 0.5
    assert joke["prompt"] == "Tell me a joke." + TURN_SEPARATOR + "Another one"
    # hidden reasoning is stripped, both assistant turns are kept
    assert joke["response_a"] == (
        "Why did the chicken cross the road?"
        + TURN_SEPARATOR
        + "I told my computer a joke. It did not laugh."
    )
    assert b.loc["90bfd142157948aba01931726c888e7f", "winner"] == "tie_bothbad"
    assert b.loc["a7c5accc53e649a3bc6b2e41d962ebc4", "language"] == "Chinese"
    r = reasons(data)
    assert r[5].startswith("unknown vote label") and "'left'" in r[5]
    assert r[6].startswith("self-battle")
    assert r[7].startswith("missing response") and "conversation_b" in r[7]
    assert r[8].startswith("malformed JSON")
    assert r[9].startswith("missing response") and "response_a" in r[9]
    assert r[10].startswith("turn-count mismatch")
    assert r[11].startswith("empty model name")
    assert r[12].startswith("non-text response") and "int" in r[12]


def test_metadata_only_sums_dict_counts_like_fastchat() -> None:
    data = load_battles(FX / "clean_battle_metadata.json")
    assert data.accounting() == {"read": 9, "accepted": 4, "rejected": 5}
    assert not data.has_text
    first = data.battles.iloc[0]
    # header_count_a = {h2: 2, h3: 3}, list_count_a = {ordered: 4, unordered: 6}, bold_count_a = {**: 7}
    assert (first["meta_tokens_a"], first["meta_header_count_a"], first["meta_list_count_a"]) == (512, 5, 10)
    assert (first["meta_bold_count_a"], first["meta_bold_count_b"], first["meta_tokens_b"]) == (7, 1, 230)
    assert data.battles["battle_id"].iloc[0] == "6b6a5d0e5e8b4f7d"
    assert data.battles["turns"].tolist() == [1, 1, 2, 1]
    assert data.battles["winner"].tolist() == ["model_a", "model_b", "tie", "tie_bothbad"]
    assert data.battles["dedup_sampled"].all()
    assert data.battles["category_criteria_specificity"].all()
    assert data.battles["category_if_score"].tolist() == [2, 2, 2, 2]
    r = reasons(data)
    assert r[5].startswith("unknown vote label")
    assert r[6].startswith("self-battle")
    assert r[7].startswith("empty model name")
    assert r[8].startswith("missing conv_metadata")
    assert r[9].startswith("bad conv_metadata") and "negative" in r[9]


def test_int_valued_conv_metadata(tmp_path: Path) -> None:
    rec = json.loads((FX / "arena_metadata.jsonl").read_text().splitlines()[0])
    for side in "ab":
        rec["conv_metadata"][f"header_count_{side}"] = 3
        rec["conv_metadata"][f"bold_count_{side}"] = 4
    p = tmp_path / "ints.jsonl"
    p.write_text(json.dumps(rec) + "\n")
    b = load_battles(p).battles
    assert b[["meta_header_count_a", "meta_bold_count_b"]].iloc[0].tolist() == [3.0, 4.0]


def per_record_reference(path: Path, monkeypatch: pytest.MonkeyPatch):
    """Load ``path`` through the per-record converter only (the reference the bulk paths must match)."""

    def slow(path, container, ctx, fmt="lmarena"):
        first = lmarena.first_record(path, container, ctx)
        mode = lmarena.record_mode(first)
        return lmarena.load_records(path, container, fmt, ctx, lmarena.converter(mode, ctx))

    with monkeypatch.context() as m:
        m.setitem(FORMATS, "lmarena", Format("lmarena", "per-record reference", (), slow))
        return load_battles(path)


@pytest.mark.parametrize(
    "name", ["clean_battle_metadata.json", "compact.json", "arena_metadata.jsonl", "arena_metadata.parquet"]
)
def test_vectorised_paths_match_the_per_record_path(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk loaders (pretty JSON array, compact array, JSONL, Parquet) give the same rows, values and
    reasons as the per-record reference."""
    if name == "compact.json":
        recs = json.loads((FX / "clean_battle_metadata.json").read_text())
        (tmp_path / name).write_text(json.dumps(recs))
        path = tmp_path / name
    else:
        path = FX / name
    ref = per_record_reference(FX / "clean_battle_metadata.json", monkeypatch)
    got = load_battles(path)
    cols = [c for c in ref.battles.columns if c != "source_file"]
    assert list(got.battles.columns) == list(ref.battles.columns)
    pd.testing.assert_frame_equal(got.battles[cols], ref.battles[cols], check_dtype=False)
    assert reasons(got) == reasons(ref)


def test_pretty_array_blocks_and_broken_elements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small blocks; a broken element is one rejected record and its neighbours still load."""
    recs = json.loads((FX / "clean_battle_metadata.json").read_text()) * 5
    text = json.dumps(recs, indent=2)
    marker = '"question_id": "0f3c2a71d9b04e55"'
    pos = text.index(marker, len(text) // 2)
    text = text[:pos] + '"question_id" "0f3c2a71d9b04e55"' + text[pos + len(marker) :]
    p = tmp_path / "big.json"
    p.write_text(text)
    broken_at = 1 + text[:pos].count(",\n  {")
    monkeypatch.setattr(lmarena_bulk, "_JSONL_CHUNK", 3000)
    got = load_battles(p)
    got.check_accounting()
    assert got.read == len(recs)
    assert reasons(got)[broken_at].startswith("malformed JSON")
    assert got.accepted == 4 * 5 - 1
    ref = per_record_reference(p, monkeypatch)
    assert got.accounting() == ref.accounting()
    pd.testing.assert_frame_equal(
        got.battles.drop(columns="source_file"), ref.battles.drop(columns="source_file"), check_dtype=False
    )


def test_metadata_json_strings_are_parsed(tmp_path: Path) -> None:
    """Releases that store conv_metadata/category_tag as JSON text load like nested ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = [json.loads(line) for line in (FX / "arena_metadata.jsonl").read_text().splitlines()]
    for r in recs:
        for key in ("conv_metadata", "category_tag", "dedup_tag"):
            r[key] = None if r[key] is None else json.dumps(r[key])
    p = tmp_path / "strings.parquet"
    pq.write_table(pa.Table.from_pylist(recs), p)
    got = load_battles(p)
    ref = load_battles(FX / "arena_metadata.parquet")
    cols = [c for c in ref.battles.columns if c != "source_file"]
    pd.testing.assert_frame_equal(got.battles[cols], ref.battles[cols], check_dtype=False)
    assert reasons(got) == reasons(ref)


def test_arena100k_text_and_metadata() -> None:
    data = load_battles(FX / "arena100k.parquet")
    assert data.accounting() == {"read": 4, "accepted": 4, "rejected": 0}
    assert data.has_text
    b = data.battles
    assert b.loc[2, "turns"] == 2 and TURN_SEPARATOR in b.loc[2, "response_a"]
    assert b.loc[0, "meta_tokens_a"] == 512 and b.loc[0, "meta_header_count_a"] == 5
    assert b["judge_hash"].tolist() == ["00000000", "00000001", "00000002", "00000003"]


def test_arena140k_typed_parts_and_both_bad() -> None:
    data = load_battles(FX / "arena140k.parquet")
    assert data.accounting() == {"read": 4, "accepted": 3, "rejected": 1}
    b = data.battles
    assert b["winner"].tolist() == ["model_a", "tie_bothbad", "tie"]
    assert b.loc[0, "response_a"].startswith("### Primes") and b.loc[0, "response_b"] == "2, 3 and 5."
    assert b.loc[0, "battle_id"] == "c4b9710c-8d64-4bee-a0b0-94637ae4cc60"
    assert b.loc[0, "meta_list_count_a"] == 3 and b.loc[0, "language"] == "en"
    assert b["evaluation_order"].tolist() == [1, 2, 3]
    assert reasons(data)[4].startswith("non-text response") and "image" in reasons(data)[4]
    assert load_battles(FX / "arena140k.parquet", format="arena140k").accepted == 3
    assert load_battles(FX / "arena140k.parquet", format="lmarena").accepted == 3


def test_kaggle() -> None:
    data = load_battles(FX / "kaggle_train.csv")
    assert data.accounting() == {"read": 9, "accepted": 4, "rejected": 5}
    b = data.battles.set_index("battle_id")
    assert b.loc["30192", "winner"] == "model_a" and b.loc["53567", "winner"] == "model_b"
    assert b.loc["65089", "winner"] == "tie" and b.loc["65089", "response_b"] == "Function calling is..."
    assert b.loc["53567", "turns"] == 2
    assert b.loc["53567", "response_b"].endswith("1. Apply\n2. Attend")
    # a null prompt turn is an empty user turn
    assert b.loc["96401", "prompt"] == TURN_SEPARATOR + "hello?"
    r = reasons(data)
    assert r[5].startswith("missing response")
    assert r[6].startswith("unknown vote label")
    assert r[7].startswith("self-battle")
    assert r[8].startswith("turn-count mismatch")
    assert r[9].startswith("malformed JSON")


def test_alpaca_eval() -> None:
    data = load_battles(FX / "alpaca_eval_annotations.json.gz")
    assert data.accounting() == {"read": 11, "accepted": 6, "rejected": 5}
    b = data.battles
    assert set(b["model_a"]) == {"gpt4_1106_preview"} and set(b["model_b"]) == {"gpt-3.5-turbo-1106_verbose"}
    assert set(b["judge"]) == {"weighted_alpaca_eval_gpt4_turbo"}
    assert b["dataset"].notna().all()
    raw = json.loads(__import__("gzip").open(FX / "alpaca_eval_annotations.json.gz").read())
    for row, rec in zip(b.itertuples(), raw, strict=False):
        assert row.pref_a == pytest.approx(2 - rec["preference"])  # 1 = output_1 (model_a) wins
    assert b.loc[3, "winner"] == "tie" and b.loc[3, "pref_a"] == 0.5
    r = reasons(data)
    assert r[7].startswith("no vote") and r[8].startswith("no vote")  # 0 and null are no vote, never a tie
    assert r[9].startswith("self-battle")
    assert r[10].startswith("missing response")
    assert r[11].startswith("unknown vote label")


def test_pandalm_majority() -> None:
    data = load_battles(FX / "pandalm_testset.json")
    assert data.accounting() == {"read": 8, "accepted": 5, "rejected": 3}
    b = data.battles.set_index("battle_id")
    assert b.loc["pandalm-0", "model_a"] == "bloom-7b" and b.loc["pandalm-0", "model_b"] == "llama-7b"
    assert b.loc["pandalm-0", "winner"] == "model_b"  # annotators 2, 2, 2
    assert b.loc["pandalm-9001", "winner"] == "tie"  # 1, 2, 0: no majority
    assert b.loc["pandalm-9002", "winner"] == "tie"  # "0", "0", "1": similar
    assert set(b["judge"]) == {"human"}
    # the instruction and its input are both part of the prompt
    assert b.loc["pandalm-0", "prompt"].endswith("please let me know.")
    r = reasons(data)
    assert r[4].startswith("non-text response") and "bool" in r[4]  # the published JSON `true`
    assert r[7].startswith("unknown vote label")
    assert r[8].startswith("self-battle")


def test_generic_mapping() -> None:
    data = load_battles(FX / "generic_votes.csv", columns=GENERIC_MAP)
    assert data.sources["format"].tolist() == ["generic"]
    assert data.accounting() == {"read": 5, "accepted": 3, "rejected": 2}
    b = data.battles
    assert b["model_a"].tolist() == ["model-x", "model-y", "model-x"]
    assert b["prompt"].tolist() == ["Is water wet?", "Explain.", "Q3"]
    assert b["judge"].tolist() == ["r1", "r2", "r1"]
    assert b.loc[1, "response_a"] == "# Title\n\nLong answer"
    r = reasons(data)
    assert r[4].startswith("self-battle") and r[5].startswith("unknown vote label")


def test_generic_pref_votes_only(tmp_path: Path) -> None:
    p = tmp_path / "soft.jsonl"
    rows = [
        {"a": "m1", "b": "m2", "share": 0.7, "note": "x"},
        {"a": "m2", "b": "m3", "share": 0.5, "note": "y"},
        {"a": "m2", "b": "m3", "share": 1.7, "note": "z"},
        {"a": "m2", "b": "m3", "share": "lots", "note": "z"},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_battles(p, columns={"model_a": "a", "model_b": "b", "pref_a": "share"})
    assert data.battles["winner"].tolist() == ["model_a", "tie"]
    assert data.battles["pref_a"].tolist() == [0.7, 0.5]
    assert data.battles["note"].tolist() == ["x", "y"]
    assert data.battles["response_a"].isna().all()
    assert all(v.startswith("unknown vote label") for v in reasons(data).values())


def test_generic_mapping_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown canonical column"):
        load_battles(FX / "generic_votes.csv", columns={"model_x": "left_model"})
    with pytest.raises(DataError, match="not found"):
        load_battles(
            FX / "generic_votes.csv",
            columns={"model_a": "nope", "model_b": "right_model", "winner": "verdict"},
        )
    with pytest.raises(DataError, match="needs column"):
        load_battles(FX / "generic_votes.csv", columns={"model_a": "left_model"})
    with pytest.raises(DataError, match="response_a and response_b"):
        load_battles(
            FX / "generic_votes.csv",
            columns={
                "model_a": "left_model",
                "model_b": "right_model",
                "winner": "verdict",
                "response_a": "answer_left",
            },
        )
    with pytest.raises(UsageError, match="generic format"):
        load_battles(FX / "generic_votes.csv", format="kaggle", columns={"model_a": "left_model"})


def test_unknown_format_and_unreadable_files(tmp_path: Path) -> None:
    p = tmp_path / "other.jsonl"
    p.write_text('{"question": "q", "answer": "a"}\n')
    with pytest.raises(DataError, match=r"other\.jsonl.*unknown battle format.*--column"):
        load_battles(p)
    notes = tmp_path / "notes.md"
    notes.write_text("hello, world\n")
    with pytest.raises(DataError, match="unknown file type"):
        load_battles(notes)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match=r"broken\.parquet.*Parquet"):
        load_battles(broken)
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\x01\x02 not json at all")
    with pytest.raises(DataError, match="garbage.json"):
        load_battles(garbage)
    with pytest.raises(UsageError, match="unknown format"):
        load_battles(FX / "kaggle_train.csv", format="nope")
    with pytest.raises(DataError, match="needs column"):
        load_battles(FX / "kaggle_train.csv", format="alpaca_eval")
    with pytest.raises(UsageError, match="no such file"):
        load_battles(tmp_path / "missing.json")


def test_nothing_usable_is_a_data_error(tmp_path: Path) -> None:
    p = tmp_path / "self.jsonl"
    p.write_text(json.dumps({"model_a": "m", "model_b": "m", "winner": "tie"}) + "\n")
    with pytest.raises(DataError, match="all rejected.*self-battle"):
        load_battles(p)
    data = load_battles(p, allow_empty=True)
    assert data.accounting() == {"read": 1, "accepted": 0, "rejected": 1}


def test_directories_globs_and_several_paths(tmp_path: Path) -> None:
    for name in ("kaggle_train.csv", "pandalm_testset.json", "arena_metadata.parquet"):
        shutil.copy(FX / name, tmp_path / name)
    (tmp_path / "README.md").write_text("ignored")
    (tmp_path / ".hidden.json").write_text("[]")
    data = load_battles(tmp_path)
    assert sorted(data.sources["format"]) == ["kaggle", "lmarena", "pandalm"]
    assert data.read == 9 + 8 + 9
    data.check_accounting()
    assert load_battles(str(tmp_path / "*.csv")).sources["format"].tolist() == ["kaggle"]
    both = load_battles([tmp_path / "kaggle_train.csv", str(tmp_path / "pandalm_*.json")])
    assert both.accepted == 4 + 5
    # the same file twice is read once
    assert load_battles([tmp_path / "kaggle_train.csv", tmp_path / "kaggle_train.csv"]).read == 9
    with pytest.raises(UsageError, match="no files match"):
        load_battles(str(tmp_path / "*.nothing"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no battle files"):
        load_battles(empty)


def test_mixed_files_concatenate_with_union_of_columns() -> None:
    data = load_battles([FX / "clean_battle_metadata.json", FX / "kaggle_train.csv"])
    data.check_accounting()
    assert data.accepted == 8
    assert set(META_COLUMNS) <= set(data.battles.columns)
    assert data.battles["meta_tokens_a"].isna().sum() == 4  # Kaggle rows carry no metadata


def test_registry_names() -> None:
    assert set(FORMATS) == {
        "lmarena",
        "arena140k",
        "kaggle",
        "alpaca_eval",
        "pandalm",
        "hh",
        "arena_hard",
        "mtbench",
        "mtbench_human",
        "generic",
        "pairs",
        "model_columns",
    }
