"""The command line in the corners where it used to mislead: degenerate results, groups, piped output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylebias.cli import main
from tests._cli import run

LONG = "a-model-name-long-enough-to-be-wrapped-at-eighty-columns-v1.5-instruct"


def votes_csv(path, n=600, seed=0, labels=("left", "right", "tie"), models=("m1", "m2", "m3", LONG)):
    """A generic table: left/right models, a verdict column with the file's own labels, both answers."""
    rng = np.random.default_rng(seed)
    k = len(models)
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    strength = np.linspace(0.6, -0.6, k)
    p = 1 / (1 + 10 ** -(strength[a] - strength[b]))
    u = rng.random(n)
    verdict = np.where(u < 0.2, labels[2], np.where(rng.random(n) < p, labels[0], labels[1]))
    pd.DataFrame(
        {
            "left_model": np.array(models)[a],
            "right_model": np.array(models)[b],
            "verdict": verdict,
            "question": [f"question {i % 97}" for i in range(n)],
            "answer_left": ["word " * int(5 + i % 40) for i in range(n)],
            "answer_right": ["text " * int(5 + (i * 7) % 40) for i in range(n)],
        }
    ).to_csv(path, index=False)
    return path


MAPPED = ["--column", "model_a=left_model", "--column", "model_b=right_model", "--column", "winner=verdict",
          "--column", "prompt=question", "--column", "response_a=answer_left", "--column",
          "response_b=answer_right"]  # fmt: skip
LABELS = ["--label", "winner=left:model_a,right:model_b,tie:tie"]


@pytest.fixture(scope="module")
def votes(tmp_path_factory):
    return votes_csv(tmp_path_factory.mktemp("honest") / "votes.csv")


def test_piped_tables_do_not_wrap_model_names(capsys, votes):
    code, out, err = run(capsys, "rank", str(votes), *MAPPED, *LABELS, "--features", "none")
    assert code == 0, err
    assert any(LONG in line for line in out.splitlines()), out


# ------------------------------------------------------------------------------------------------ compare
def two_judges_csv(path, n=800, seed=3):
    """Two judges who saw disjoint models: two components overall, one per --by judge group."""
    rng = np.random.default_rng(seed)
    rows = []
    for judge, models in (("alice", ["a1", "a2", "a3"]), ("bob", ["b1", "b2", "b3"])):
        for i in range(n // 2):
            x, y = rng.choice(models, 2, replace=False)
            longer = rng.random() < 0.5
            rows.append(
                {
                    "left_model": x,
                    "right_model": y,
                    "verdict": str(rng.choice(["model_a", "model_b", "tie"], p=[0.45, 0.4, 0.15])),
                    "judge": judge,
                    "question": f"q{i % 50}",
                    "answer_left": "word " * (60 if longer else 10),
                    "answer_right": "word " * (10 if longer else 60),
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


JUDGED = [*MAPPED, "--column", "judge=judge", "--features", "tokens"]


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    d = tmp_path_factory.mktemp("boards")
    csv = two_judges_csv(d / "two.csv")
    for args, name in (([], "split.json"), (["--by", "judge"], "by.json")):
        try:
            main(["rank", str(csv), *JUDGED, *args, "--json", str(d / name), "-q"])
        except SystemExit as exc:
            assert not exc.code, exc
    return d


def test_compare_reads_every_component_of_our_board(capsys, boards):
    import json

    out = boards / "cmp.json"
    code, _, err = run(
        capsys, "compare", str(boards / "split.json"), str(boards / "split.json"), "--json", str(out)
    )
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert {m["model"] for m in doc["models"]} == {"a1", "a2", "a3", "b1", "b2", "b3"}
    assert all(m["present"] == "both" and m["delta"] == 0.0 for m in doc["models"])


def test_compare_reads_rank_by_json_one_group_at_a_time(capsys, boards):
    import json

    by = str(boards / "by.json")
    code, _, err = run(capsys, "compare", by, by)
    assert code == 1 and "--group" in err and "alice, bob" in err
    out = boards / "by_cmp.json"
    code, _, err = run(
        capsys, "compare", by, str(boards / "split.json"), "--group", "bob", "--json", str(out)
    )
    assert code == 0, err
    doc = json.loads(out.read_text())
    both = [m for m in doc["models"] if m["present"] == "both"]
    assert {m["model"] for m in both} == {"b1", "b2", "b3"}
    code, _, err = run(capsys, "compare", by, by, "--group", "carol")
    assert code == 1 and "no judge = 'carol'" in err


def test_compare_one_board_is_what_style_bought_with_its_interval(capsys, boards):
    import json

    ranks = json.loads((boards / "split.json").read_text())
    gain = {m["model"]: m for c in ranks["components"] for m in c["models"]}
    out = boards / "gain.json"
    code, stdout, err = run(capsys, "compare", str(boards / "split.json"), "--json", str(out))
    assert code == 0, err
    assert "Δ raw − ctrl" in stdout and "what style bought" not in err
    for m in json.loads(out.read_text())["models"]:
        g = gain[m["model"]]
        assert m["delta"] == pytest.approx(g["style_gain"], abs=1e-5)
        assert (m["delta_low"], m["delta_high"]) == (g["style_gain_low"], g["style_gain_high"])


# ------------------------------------------------------------------------------------- degenerate results
def test_unmapped_vote_labels_are_said_first_and_exit_3(capsys, votes, tmp_path):
    """The reported case: left/right votes mapped with --column only. Most rows are rejected (unknown vote
    label), the ties that survive rate every model 1000.0 with a zero-width interval: exit 3, said first."""
    import json

    code, out, err = run(capsys, "rank", str(votes), *MAPPED, "--features", "none", "--json", "-")
    assert code == 3, err
    doc = json.loads(out)
    kinds = [p["kind"] for p in doc["problems"]]
    assert kinds == ["rejected", "equal_ratings"]
    assert "unknown vote label" in doc["problems"][0]["message"]
    # with --json - the tables go to stderr: the problems come before them
    assert err.index("problem:") < err.index("Leaderboard")
    assert "exit 3" in err.splitlines()[-1]
    # a larger share allowed: only the equal ratings remain
    code, _, err = run(capsys, "rank", str(votes), *MAPPED, "--features", "none", "--max-rejected", "1")
    assert code == 3 and "same controlled rating (1000.0)" in err and "rejected, more than" not in err
    # mapped as the file means it: a normal ranking, exit 0
    code, out, err = run(capsys, "rank", str(votes), *MAPPED, *LABELS, "--features", "none", "--json", "-")
    assert code == 0 and json.loads(out)["problems"] == [], err


def test_validate_and_fit_share_the_rejected_share_rule(capsys, votes, tmp_path):
    code, _, err = run(capsys, "validate", str(votes), *MAPPED)
    assert code == 3 and "--max-rejected 50%" in err
    assert run(capsys, "validate", str(votes), *MAPPED, "--max-rejected", "0.9")[0] == 0
    code, _, err = run(
        capsys, "fit", str(votes), *MAPPED, "--features", "tokens", "--save", str(tmp_path / "m")
    )
    assert code == 3 and "problem:" in err


def test_davidson_on_the_demo_rates_the_part_it_can_and_says_why_not_the_other(capsys):
    """AlpacaEval's weighted judge preferences are soft (a share of the vote such as 0.99999903), which an
    explicit tie model cannot read; PandaLM's majority votes are hard and are rated."""
    import json

    code, out, err = run(capsys, "rank", "--ties", "davidson", "--features", "none", "--json", "-")
    assert code == 3, err
    doc = json.loads(out)
    assert {m["model"] for m in doc["models"]} >= {"llama-7b", "opt-7b"}  # PandaLM is rated
    (skipped,) = doc["skipped"]
    assert skipped["component"] == 1 and skipped["battles"] == 14436
    assert "soft preference" in skipped["reason"] and "0.99999903" in skipped["reason"]
    assert "np.float64" not in err + out and "--ties half" in err
    assert doc["problems"][0]["kind"] == "skipped"


def test_rank_by_with_an_anchor_missing_from_a_group_rates_every_group(capsys):
    import json

    code, out, err = run(capsys, "rank", "--by", "judge", "--anchor", "llama-7b=1200", "--features", "none",
                         "--json", "-")  # fmt: skip
    assert code == 0, err
    groups = {g["value"]: g for g in json.loads(out)["groups"]}
    human = {m["model"]: m for m in groups["human"]["models"]}
    assert human["llama-7b"]["rating"] == 1200.0 and groups["human"]["notes"] == []
    alpaca = groups["weighted_alpaca_eval_gpt4_turbo"]
    assert "models" in alpaca and "has no battles of llama-7b" in alpaca["notes"][0]
    assert alpaca["style_gain_relative_to"] is None
    assert "has no battles of llama-7b" in err  # said next to the group's table (on stderr with --json -)
    code, _, err = run(capsys, "rank", "--by", "judge", "--anchor", "nobody=1200", "--features", "none")
    assert code == 1 and "in none of the battles" in err
    code, out, err = run(capsys, "rank", "--by", "judge", "--winrate-vs", "llama-7b", "--features", "none",
                         "--json", "-")  # fmt: skip
    assert code == 0, err
    groups = {g["value"]: g for g in json.loads(out)["groups"]}
    assert (
        "winrate" in groups["human"]["models"][0]
        and "winrate" not in groups["weighted_alpaca_eval_gpt4_turbo"]["models"][0]
    )
