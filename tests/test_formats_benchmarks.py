"""Arena-Hard-Auto and MT-Bench judgments: upstream's game semantics, the answer join, and every reject reason.

The fixtures (``tests/fixtures/benchmarks``) are in the exact upstream schemas: questions and answers cut from
``lmarena/arena-hard-auto`` and FastChat, judgments hand-made (see that folder's README). The reproduction tests
restate upstream's own battle construction (``show_result.py``) on the raw judgment files, independently of the
loader, and compare.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stylebias import load_battles
from stylebias.battles import TURN_SEPARATOR
from stylebias.cli import app
from stylebias.errors import DataError
from stylebias.formats import arena_hard, detect_format
from tests._arena_hard_reference import label_to_score
from tests._fuzz import examples

BENCH = Path(__file__).resolve().parent / "fixtures" / "benchmarks"
V01 = BENCH / "arena-hard-v0.1"
V2 = BENCH / "arena-hard-v2.0"
MT = BENCH / "mt_bench"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def readable_jsonl(path: Path) -> list[dict]:
    """Lines that parse (upstream's pd.read_json would stop at the first broken one)."""
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def by_record(data, file_part: str) -> dict[str, str]:
    rej = data.rejects[data.rejects["file"].str.contains(file_part, regex=False)]
    return {str(r.record): r.reason for r in rej.itertuples(index=False)}


def load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_battles(path, **kw)


def votes_only_copy(src: Path, tmp_path: Path) -> Path:
    """The benchmark's judgments without its answers (upstream's plain leaderboard needs no answers)."""
    dst = tmp_path / src.name
    shutil.copytree(src / "model_judgment", dst / "model_judgment")
    return dst


# ------------------------------------------------------------------------------------------ Arena-Hard v0.1


def test_arena_hard_v01_games_positions_weights_and_rejects() -> None:
    data = load(V01)
    src = data.sources.set_index(data.sources["file"].map(lambda f: Path(f).stem))
    # a record is one game: two per judgment line; a line that does not parse is one record
    assert src.loc["gpt-3.5-turbo-0125", ["read", "accepted", "rejected"]].tolist() == [10, 9, 1]
    assert src.loc["gpt-4-0613", ["read", "accepted", "rejected"]].tolist() == [9, 7, 2]
    assert src.loc["claude-3-opus-20240229", ["read", "accepted", "rejected"]].tolist() == [4, 0, 4]
    assert set(src["format"]) == {"arena_hard"}

    r35 = by_record(data, "gpt-3.5-turbo-0125")
    assert r35 == {"5:g1": "no vote: game 1 has no verdict label (score is null)"}  # v0.1 keeps game 2
    r0613 = by_record(data, "gpt-4-0613")
    assert r0613["2:g1"].startswith("unknown vote label: verdict 'A<B'")  # v0.1 has no aliases
    assert r0613["5"].startswith("malformed JSON")
    claude = by_record(data, "claude-3-opus")
    assert set(claude) == {"1:g1", "1:g2", "2:g1", "2:g2"}
    assert all(
        v.startswith("missing response: no answer file for model 'claude-3-opus-20240229'")
        for v in claude.values()
    )

    b = data.battles.set_index("source_record", drop=False)
    b = b[b["source_file"].str.contains("gpt-3.5-turbo-0125")]
    # game 1 shows the baseline as A, game 2 as B (gen_judgment.py: `if game % 2 == 1: swap`)
    assert (b.loc["1:g1", "model_a"], b.loc["1:g1", "model_b"]) == ("gpt-4-0314", "gpt-3.5-turbo-0125")
    assert (b.loc["1:g2", "model_a"], b.loc["1:g2", "model_b"]) == ("gpt-3.5-turbo-0125", "gpt-4-0314")
    assert b.loc["1:g1", "winner"] == "model_a" and b.loc["1:g2", "winner"] == "model_b"  # A>B, B>A: baseline
    assert b.loc["2:g1", "verdict"] == "A>>B" and b.loc["2:g1", "weight"] == 3.0
    assert (
        b.loc["1:g1", "weight"] == 1.0 and b.loc["3:g1", "winner"] == "tie" and b.loc["3:g1", "pref_a"] == 0.5
    )
    assert set(data.battles["judge"]) == {"gpt-4-1106-preview"} and set(data.battles["baseline"]) == {
        "gpt-4-0314"
    }


def test_arena_hard_v01_texts_prompt_and_metadata_come_from_the_answer_files() -> None:
    data = load(V01)
    questions = {q["question_id"]: q for q in jsonl(V01 / "question.jsonl")}
    answers = {
        m: {a["question_id"]: a for a in jsonl(V01 / "model_answer" / f"{m}.jsonl")}
        for m in ("gpt-4-0314", "gpt-3.5-turbo-0125", "gpt-4-0613")
    }
    for row in data.battles.itertuples(index=False):
        q = row.question_id
        assert row.prompt == questions[q]["turns"][0]["content"]
        assert row.category == "arena-hard-v0.1" and row.cluster == questions[q]["cluster"]
        for side, model in (("a", row.model_a), ("b", row.model_b)):
            ans = answers[model][q]
            assert getattr(row, f"response_{side}") == ans["choices"][0]["turns"][0]["content"]
            md = ans["conv_metadata"]
            assert getattr(row, f"meta_tokens_{side}") == md["token_len"]
            assert getattr(row, f"meta_header_count_{side}") == sum(md["header_count"].values())
            assert getattr(row, f"meta_list_count_{side}") == sum(md["list_count"].values())
            assert getattr(row, f"meta_bold_count_{side}") == sum(md["bold_count"].values())


def upstream_v01_battles(judgment_dir: Path, baseline: str = "gpt-4-0314", multiplier: int = 3) -> Counter:
    """v0.1 ``show_result.py::get_battles_from_row`` restated: rows (question_id, model_a, model_b, winner)."""
    rows: Counter = Counter()
    for f in sorted(judgment_dir.glob("*.jsonl")):
        for row in readable_jsonl(f):
            for k, game in enumerate(row["games"][:2]):
                s = game["score"]
                flip = {"model_a": "model_b", "model_b": "model_a", "tie": "tie"}
                first = {
                    "A=B": "tie",
                    "A>B": "model_a",
                    "A>>B": "model_a",
                    "B>A": "model_b",
                    "B>>A": "model_b",
                }
                if s not in first:
                    continue  # weight 0
                weight = multiplier if s in ("A>>B", "B>>A") else 1
                winner = first[s] if k == 0 else flip[first[s]]
                rows[(row["question_id"], baseline, row["model"], winner)] += weight
    return rows


def baseline_oriented(battles: pd.DataFrame) -> Counter:
    """Our battles turned to upstream v0.1's orientation (model_a = baseline), each counted ``weight`` times."""
    rows: Counter = Counter()
    flip = {"model_a": "model_b", "model_b": "model_a", "tie": "tie"}
    for r in battles.itertuples(index=False):
        if r.model_a == r.baseline:
            key = (r.question_id, r.model_a, r.model_b, r.winner)
        else:
            key = (r.question_id, r.model_b, r.model_a, flip[r.winner])
        rows[key] += int(r.weight)
    return rows


def test_arena_hard_v01_reproduces_upstream_battles(tmp_path: Path) -> None:
    # votes only (no answers): upstream's plain leaderboard reads judgments alone
    data = load(votes_only_copy(V01, tmp_path))
    assert data.battles["response_a"].isna().all()
    upstream = upstream_v01_battles(V01 / "model_judgment" / "gpt-4-1106-preview")
    # the one difference, by design: upstream drops the alias 'A<B' silently (weight 0); here it is a reject
    assert baseline_oriented(data.battles) == upstream
    assert sum(upstream.values()) == int(data.battles["weight"].sum())


# -------------------------------------------------------------------------------------------- Arena-Hard v2


def test_arena_hard_v2_aliases_unpaired_games_and_missing_baseline() -> None:
    data = load(V2)
    g41 = by_record(data, "gpt-4.1")
    assert g41["4:g1"] == "no vote: game 1 is null (the judge call failed)"
    assert g41["4:g2"].startswith("unpaired game: the position-swapped game 1 has no verdict")
    assert g41["5:g1"].startswith("missing response: no answer file for model 'gemini-2.0-flash-001'")
    assert set(g41) == {"4:g1", "4:g2", "5:g1", "5:g2"}
    gem = by_record(data, "gemini-2.5")
    assert gem["1:g2"].startswith("unknown vote label: verdict 'A>>>B'")
    assert gem["3:g1"] == "no vote: game 1 has no verdict label (score is null)"

    b = data.battles.set_index("battle_id")
    # aliases (show_result.py label_to_score): B<<A = A much better, A<B = B better, B=A = tie
    row = b.loc["gemini-2.5:63ce43d385e349f9:sky-t1-32b:g1"]
    assert (row["verdict"], row["winner"], row["weight"], row["model_a"]) == (
        "B<<A",
        "model_a",
        3.0,
        "o3-mini-2025-01-31",
    )
    assert b.loc["gemini-2.5:6a02a908d61e46c5:sky-t1-32b:g1", "winner"] == "model_b"
    assert b.loc["gemini-2.5:6a02a908d61e46c5:sky-t1-32b:g2", "winner"] == "tie"
    row = b.loc["gpt-4.1:35e8642789d74eaf:sky-t1-32b:g2"]
    assert (row["model_a"], row["verdict"], row["winner"]) == ("sky-t1-32b", "B<A", "model_a")
    assert set(data.battles["judge"]) == {"gpt-4.1", "gemini-2.5"}
    assert set(data.battles["category"]) == {"hard_prompt"} and set(data.battles["subcategory"]) == {
        "coding",
        "math",
    }


def test_arena_hard_v2_texts_and_metadata() -> None:
    data = load(V2)
    questions = {q["uid"]: q for q in jsonl(V2 / "question.jsonl")}
    answers = {
        m: {a["uid"]: a for a in jsonl(V2 / "model_answer" / f"{m}.jsonl")}
        for m in ("o3-mini-2025-01-31", "sky-t1-32b")
    }
    assert len(data.battles) == 9
    for row in data.battles.itertuples(index=False):
        assert row.prompt == questions[row.question_id]["prompt"]
        for side, model in (("a", row.model_a), ("b", row.model_b)):
            ans = answers[model][row.question_id]
            assert getattr(row, f"response_{side}") == ans["messages"][-1]["content"]["answer"]
            assert getattr(row, f"meta_tokens_{side}") == ans["metadata"]["token_len"]
            assert getattr(row, f"meta_list_count_{side}") == sum(ans["metadata"]["list_count"].values())


def upstream_v2_load_judgments(judgment_dir: Path, weight: int = 3) -> pd.DataFrame:
    """v2 ``show_result.py::load_judgments`` restated on the raw files (pandas, as upstream)."""
    data = pd.concat([pd.read_json(f, lines=True) for f in sorted(judgment_dir.glob("*.jsonl"))]).reset_index(
        drop=True
    )
    null = data.games.map(
        lambda x: x[0] is None or x[1] is None or x[0]["score"] is None or x[1]["score"] is None
    )
    d = data[~null].reset_index(drop=True)
    scores = label_to_score(weight)
    d["scores"] = d.games.map(lambda x: scores[x[1]["score"]] + [1 - s for s in scores[x[0]["score"]]])
    return d[["uid", "model", "category", "scores"]].explode("scores").reset_index(drop=True)


def score_multiset(uids, models, scores) -> Counter:
    return Counter(zip(map(str, uids), models, (float(s) for s in scores), strict=True))


def test_arena_hard_v2_reproduces_upstream_load_judgments(tmp_path: Path) -> None:
    judgments = V2 / "model_judgment" / "gpt-4.1"  # upstream's default judge; gemini-2.5's 'A>>>B' crashes it
    upstream = upstream_v2_load_judgments(judgments)
    # votes only: exactly upstream's table (same rows, same repetitions of strong verdicts)
    data = load(votes_only_copy(V2, tmp_path))
    ours = arena_hard.upstream_scores(data.battles[data.battles["judge"] == "gpt-4.1"])
    assert score_multiset(ours["question_id"], ours["model"], ours["score"]) == score_multiset(
        upstream["uid"], upstream["model"], upstream["scores"]
    )
    # plain score = mean per model, as print_leaderboard computes it before bootstrapping
    assert ours.groupby("model")["score"].mean().to_dict() == pytest.approx(
        upstream.assign(scores=upstream["scores"].astype(float)).groupby("model")["scores"].mean().to_dict()
    )
    # with answers: the same minus the creative-writing record whose baseline has no answer file
    with_answers = arena_hard.upstream_scores(load(V2).battles.query("judge == 'gpt-4.1'"))
    kept = upstream[upstream["category"] != "creative_writing"]
    assert score_multiset(
        with_answers["question_id"], with_answers["model"], with_answers["score"]
    ) == score_multiset(kept["uid"], kept["model"], kept["scores"])


def test_arena_hard_judgments_alone_with_answers_option(tmp_path: Path) -> None:
    lone = tmp_path / "judgments" / "sky-t1-32b.jsonl"
    lone.parent.mkdir()
    shutil.copy(V2 / "model_judgment" / "gpt-4.1" / "sky-t1-32b.jsonl", lone)
    with pytest.warns(UserWarning, match="votes only"):
        votes = load_battles(lone)
    assert (
        votes.battles["response_a"].isna().all() and votes.accepted == 8
    )  # nothing to join: nothing rejected
    for folder in (V2 / "model_answer", V2):  # the answer folder, or the benchmark folder holding it
        joined = load_battles(lone, answers=folder)
        ref = load(V2 / "model_judgment" / "gpt-4.1")
        cols = ["battle_id", "model_a", "model_b", "winner", "weight", "prompt", "response_a", "response_b"]
        pd.testing.assert_frame_equal(joined.battles[cols], ref.battles[cols])
        assert joined.rejects["reason"].tolist() == ref.rejects["reason"].tolist()
    with pytest.raises(Exception, match="no such directory"):
        load_battles(lone, answers=tmp_path / "nope")


def test_arena_hard_answer_file_found_by_the_model_named_inside(tmp_path: Path) -> None:
    root = tmp_path / "bench"
    shutil.copytree(V2, root)
    (root / "model_answer" / "sky-t1-32b.jsonl").rename(root / "model_answer" / "renamed.jsonl")
    assert load(root).battles.equals(load(V2).battles.assign(source_file=load(root).battles["source_file"]))


def test_arena_hard_model_names_with_an_organisation(tmp_path: Path) -> None:
    root = tmp_path / "bench"
    shutil.copytree(V2, root)
    (root / "model_answer" / "novasky").mkdir()
    (root / "model_answer" / "sky-t1-32b.jsonl").rename(
        root / "model_answer" / "novasky" / "sky-t1-32b.jsonl"
    )
    for f in (root / "model_judgment").rglob("*.jsonl"):
        f.write_text(f.read_text().replace('"model": "sky-t1-32b"', '"model": "novasky/sky-t1-32b"'))
    b = load(root).battles
    assert len(b) == len(load(V2).battles) and "novasky/sky-t1-32b" in set(b["model_a"])  # kept whole
    assert b["response_a"].notna().all()


def test_arena_hard_early_v01_answers_without_conv_metadata(tmp_path: Path) -> None:
    root = tmp_path / "arena-hard-v0.1"
    shutil.copytree(V01, root)
    for f in (root / "model_answer").glob("*.jsonl"):
        rows = jsonl(f)
        for r in rows:
            del r["conv_metadata"]  # the first published answers: token_len per turn only
        f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    b = load(root).battles
    assert b["meta_tokens_a"].notna().all() and "meta_header_count_a" not in b.columns
    assert b["meta_tokens_a"].tolist() == load(V01).battles["meta_tokens_a"].tolist()


def test_arena_hard_detection_and_directory_layout(tmp_path: Path) -> None:
    assert detect_format(V01 / "model_judgment" / "gpt-4-1106-preview" / "gpt-4-0613.jsonl") == "arena_hard"
    assert detect_format(V2 / "model_judgment" / "gpt-4.1" / "sky-t1-32b.jsonl") == "arena_hard"
    # a folder of benchmarks: only judgment files are battle files; answers and questions are joined
    data = load([V01, V2, MT])
    assert all("model_judgment" in f for f in data.sources["file"])
    with pytest.raises(DataError, match="needs column"):
        load_battles(V01 / "question.jsonl", format="arena_hard")
    with pytest.raises(DataError, match="unknown battle format"):
        load_battles(V01 / "model_answer" / "gpt-4-0314.jsonl")  # answers alone are not battles


def test_arena_hard_unreadable_answer_lines_reject_with_the_reason(tmp_path: Path) -> None:
    root = tmp_path / "arena-hard-v2.0"
    shutil.copytree(V2, root)
    f = root / "model_answer" / "sky-t1-32b.jsonl"
    lines = f.read_text().split("\n")
    lines[0] = lines[0][:50]  # the answer to the first question no longer parses
    f.write_text("\n".join(lines))
    with pytest.warns(UserWarning, match="could not be read"):
        data = load_battles(root)
    reasons = by_record(data, "gpt-4.1")
    assert reasons["1:g1"].startswith(
        "missing response: 'sky-t1-32b' has no answer to question 63ce43d385e349f9"
    )
    assert "could not be read" in reasons["1:g1"]


def test_arena_hard_cli_rank_reads_a_benchmark_folder() -> None:
    res = CliRunner().invoke(app, ["validate", str(V2), "--json", "-", "-q"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["data"] == {"read": 16, "accepted": 9, "rejected": 7}


# ------------------------------------------------------------------------------------------------ MT-Bench


def test_mtbench_pair_games_as_show_result_decides() -> None:
    with pytest.warns(UserWarning, match="gpt-4_single"):
        data = load_battles(MT)  # the single-answer grades beside the pair file are skipped, with a warning
    assert data.sources["format"].tolist() == ["mtbench"]
    assert data.accounting() == {"read": 7, "accepted": 4, "rejected": 3}
    r = by_record(data, "gpt-4_pair")
    assert r["5"] == "no vote: g1_winner is 'error' (the judge gave no verdict)"
    assert r["6"].startswith("missing response: no answer file for model 'alpaca-13b'")
    assert r["7"].startswith("unknown vote label: g1_winner='model_3'")
    b = data.battles.set_index("source_record")
    assert (b.loc[1, "winner"], b.loc[1, "inconsistent"]) == ("model_a", False)  # both games: model_1
    assert (b.loc[2, "winner"], b.loc[2, "inconsistent"]) == ("tie", True)  # orders disagree: a tie
    assert (b.loc[3, "winner"], b.loc[3, "inconsistent"]) == ("tie", True)  # g1 tie: a tie
    assert (b.loc[4, "winner"], b.loc[4, "turns"]) == ("model_b", 2)
    assert set(b["judge"]) == {"gpt-4"} and b.loc[4, "judge_prompt"] == "pair-v2-multi-turn"


def test_mtbench_texts_follow_the_judged_turn() -> None:
    data = load(MT)
    q = {r["question_id"]: r for r in jsonl(MT / "question.jsonl")}
    gpt4 = {r["question_id"]: r for r in jsonl(MT / "model_answer" / "gpt-4.jsonl")}
    b = data.battles.set_index("source_record")
    assert (
        b.loc[1, "prompt"] == q[101]["turns"][0]
        and b.loc[1, "response_a"] == gpt4[101]["choices"][0]["turns"][0]
    )
    assert b.loc[4, "prompt"] == TURN_SEPARATOR.join(q[102]["turns"])  # turn 2 was judged on both turns
    assert b.loc[4, "response_a"] == TURN_SEPARATOR.join(gpt4[102]["choices"][0]["turns"])
    assert b.loc[1, "category"] == "reasoning"


def upstream_mtbench_pairwise(path: Path) -> pd.DataFrame:
    """``show_result.py::display_result_pairwise`` (pairwise-all) restated: win / loss / tie per model."""
    df_all = pd.read_json(path, lines=True)
    df_all = df_all[(df_all["g1_winner"] != "error") & (df_all["g2_winner"] != "error")]
    res = []
    for _, row in df_all.iterrows():
        if row["g1_winner"] == "tie" or row["g1_winner"] != row["g2_winner"]:
            res.append({"model": row["model_1"], "win": 0, "loss": 0, "tie": 1})
            res.append({"model": row["model_2"], "win": 0, "loss": 0, "tie": 1})
        else:
            winner, loser = (
                (row["model_1"], row["model_2"])
                if row["g1_winner"] == "model_1"
                else (row["model_2"], row["model_1"])
            )
            res.append({"model": winner, "win": 1, "loss": 0, "tie": 0})
            res.append({"model": loser, "win": 0, "loss": 1, "tie": 0})
    return pd.DataFrame(res).groupby("model").sum()


def test_mtbench_reproduces_upstream_win_loss_tie(tmp_path: Path) -> None:
    pair = MT / "model_judgment" / "gpt-4_pair.jsonl"
    clean = tmp_path / "mt_bench" / "model_judgment" / "gpt-4_pair.jsonl"
    clean.parent.mkdir(parents=True)
    # upstream counts the unknown 'model_3' game as a tie (g1 != g2); here it is a reject, so leave it out
    clean.write_text("".join(line + "\n" for line in pair.read_text().splitlines() if "model_3" not in line))
    upstream = upstream_mtbench_pairwise(clean)
    data = load(clean)  # votes only: the answers are not needed for the counts
    res = Counter()
    for r in data.battles.itertuples(index=False):
        if r.winner == "tie":
            res[(r.model_a, "tie")] += 1
            res[(r.model_b, "tie")] += 1
        else:
            win, lose = (r.model_a, r.model_b) if r.winner == "model_a" else (r.model_b, r.model_a)
            res[(win, "win")] += 1
            res[(lose, "loss")] += 1
    for model, row in upstream.iterrows():
        for col in ("win", "loss", "tie"):
            assert res[(model, col)] == row[col], (model, col)


def test_mtbench_human_judgments() -> None:
    path = BENCH / "mt_bench_human_judgments.json"
    assert detect_format(path) == "mtbench_human"
    data = load_battles(path)
    assert data.accounting() == {"read": 7, "accepted": 5, "rejected": 2}
    r = {int(k): v for k, v in by_record(data, "human").items()}
    assert r[6] == "unknown vote label: winner='model_c'"
    assert r[7].startswith("turn-count mismatch: turn 2 judged but conversation_b has 1 user")
    b = data.battles.set_index("source_record")
    assert b["judge"].tolist() == ["human", "human", "author", "gpt4_pair", "human"]  # get_judge_name
    assert b.loc[1, "annotator"] == "expert_0"
    assert (b.loc[4, "winner"], b.loc[4, "inconsistent"]) == ("tie", True)
    assert b.loc[5, "winner"] == "tie_bothbad"
    raw = json.loads(path.read_text())
    assert b.loc[1, "response_a"] == raw[0]["conversation_a"][1]["content"]  # turn 1: the first answer only
    assert b.loc[2, "response_a"] == TURN_SEPARATOR.join(m["content"] for m in raw[1]["conversation_a"][1::2])
    assert b.loc[2, "prompt"] == TURN_SEPARATOR.join(m["content"] for m in raw[1]["conversation_a"][0::2])


def test_mtbench_human_keys_do_not_steal_lmarena_files() -> None:
    fx = Path(__file__).resolve().parent / "fixtures" / "formats"
    assert detect_format(fx / "lmarena_conversations.jsonl") == "lmarena"


# -------------------------------------------------------------------------------------- corrupted inputs

_edit = st.tuples(
    st.sampled_from(["overwrite", "delete", "insert", "duplicate", "truncate"]),
    st.floats(0, 1, exclude_max=True),
    st.integers(1, 40),
    st.binary(min_size=1, max_size=8),
)


def corrupt(data: bytes, edits: list) -> bytes:
    """The byte-level corruptions of ``tests/test_formats_fuzz.py``."""
    for kind, where, size, junk in edits:
        i = int(where * len(data)) if data else 0
        if kind == "overwrite":
            data = data[:i] + junk + data[i + len(junk) :]
        elif kind == "delete":
            data = data[:i] + data[i + size :]
        elif kind == "insert":
            data = data[:i] + junk + data[i:]
        elif kind == "duplicate":
            data = data[:i] + data[i : i + size] + data[i:]
        else:
            data = data[: max(i, 1)]
    return data


#: corrupted file -> (benchmark, that file, the judgment file loaded, games per judgment line)
_TARGETS = {
    "v2 judgments": (
        V2,
        "model_judgment/gpt-4.1/sky-t1-32b.jsonl",
        "model_judgment/gpt-4.1/sky-t1-32b.jsonl",
        2,
    ),
    "v2 answers": (V2, "model_answer/sky-t1-32b.jsonl", "model_judgment/gpt-4.1/sky-t1-32b.jsonl", 2),
    "v2 questions": (V2, "question.jsonl", "model_judgment/gpt-4.1/sky-t1-32b.jsonl", 2),
    "mt pair judgments": (MT, "model_judgment/gpt-4_pair.jsonl", "model_judgment/gpt-4_pair.jsonl", 1),
    "mt answers": (MT, "model_answer/gpt-4.jsonl", "model_judgment/gpt-4_pair.jsonl", 1),
}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::stylebias.errors.StyleBiasWarning")
@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target=st.sampled_from(sorted(_TARGETS)), edits=st.lists(_edit, min_size=1, max_size=4))
def test_corrupted_benchmark_files_account_for_every_record(target: str, edits: list) -> None:
    src, corrupted, judged, games = _TARGETS[target]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / src.name
        shutil.copytree(src, root)
        f = root / corrupted
        f.write_bytes(corrupt(f.read_bytes(), edits))
        judgments = root / judged
        try:
            data = load_battles(judgments, allow_empty=True, max_record_bytes=8192)
        except DataError as exc:
            assert str(judgments) in str(exc)
            return
        body = judgments.read_bytes().removeprefix(b"\xef\xbb\xbf")
        nonblank = sum(1 for line in body.split(b"\n") if line.strip())
    data.check_accounting()
    # every judgment line is one record (unparsable) or one per game
    assert nonblank <= data.read <= games * nonblank
    assert data.rejects["reason"].map(lambda r: isinstance(r, str) and ":" in r).all()
