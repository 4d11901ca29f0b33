"""The command line in the corners where it used to mislead: degenerate results, groups, piped output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylebias.cli import main


def run(capsys, *args):
    """Run the console entry point; return (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


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
