"""Run every command's machine output on fixed inputs into a folder, and compare two such folders byte for byte.

Why: a refactor must not change a single number a user sees. ``record`` runs ``rank``, ``fit``, ``explain``,
``rerank``, ``report``, ``features`` and ``validate`` with ``--json`` and ``--csv`` (plus the saved fit artifact,
the HTML page and the per-response feature files) on the embedded demo, on metadata-only fixtures and on real
data in ``../shared/data`` (PandaLM human votes, a six-model AlpacaEval 2 subset, the AlpacaEval 2 board with
its shared model outputs), and the Python entry points pipelines call (``StyleControl`` fit / save / load /
update / adjust, the FastChat adapter, ``to_contextual_pairs``, the vote model's strength offset). ``compare``
lists every file that differs or exists on one side only and exits 1 if there is any.

Every run uses the code on ``PYTHONPATH`` (set it to the tree under test) and a feature cache of its own choice
(``STYLEBIAS_CACHE_DIR``; a warm cache keeps a run to a few minutes, ``--fresh-cache`` re-extracts everything).

    PYTHONPATH=. python bench/compare_outputs.py record /tmp/cmp/before
    PYTHONPATH=. python bench/compare_outputs.py record /tmp/cmp/after
    python bench/compare_outputs.py compare /tmp/cmp/before /tmp/cmp/after

An artifact's ``created`` timestamp is the one line left out of the comparison; the data summary's date is
kept, so run both sides on the same day.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
if not SHARED.is_dir():  # a worktree beside the main checkout
    SHARED = Path("/work/shared/data")
FIX = ROOT / "tests" / "fixtures"
PANDALM = str(SHARED / "pandalm_human_testset" / "testset-v1.json")
AE = SHARED / "alpaca_eval"
AE_SUBSET = [
    str(AE / "annotations_ae2_weighted_gpt4_turbo" / f"{m}.annotations.json.gz")
    for m in ("alpaca-7b", "alpaca-7b_concise", "alpaca-7b_verbose", "gpt4_gamed", "NullModel", "claude-2.1")
]
AE_BOARD = str(
    AE / "leaderboards" / "src__data_AlpacaEval_2__weighted_alpaca_eval_gpt4_turbo_leaderboard.csv"
)
META_JSON = str(FIX / "formats" / "clean_battle_metadata.json")
META_JSONL = str(FIX / "formats" / "arena_metadata.jsonl")
REF = "gpt4_1106_preview"


def cli_cases() -> list[tuple[str, list[str]]]:
    """(case name, argv after ``stylebias``); ``{out}`` is the case's output prefix."""
    j = ["--jobs", "2", "-q"]
    io = ["--json", "{out}.json", "--csv", "{out}.csv"]
    return [
        ("rank_demo", ["rank", *io, *j]),
        ("rank_demo_by_judge", ["rank", "--by", "judge", *io, *j]),
        (
            "rank_demo_options",
            [
                "rank",
                "--features",
                "lmarena",
                "--ci",
                "bootstrap",
                "--rounds",
                "20",
                "--seed",
                "3",
                "--anchor",
                f"{REF}=1200",
                "--winrate-vs",
                REF,
                "--min-battles",
                "50",
                "--components",
                "largest",
                *io,
                *j,
            ],
        ),
        ("rank_demo_nostyle", ["rank", "--features", "none", "--reg", "1.0", *io, *j]),
        ("rank_pandalm", ["rank", PANDALM, "--ties", "rao-kupper", *io, *j]),
        ("rank_pandalm_davidson", ["rank", PANDALM, "--ties", "davidson", "--features", "style", *io, *j]),
        ("rank_demo_soft_davidson", ["rank", "--ties", "davidson", *io, *j]),
        ("rank_ae_full", ["rank", *AE_SUBSET, "--features", "full", *io, *j]),
        ("rank_meta_json", ["rank", META_JSON, *io, *j]),
        ("rank_meta_jsonl", ["rank", META_JSONL, "--min-battles", "2", *io, *j]),
        ("fit_demo", ["fit", "--save", "{out}_model", *io, *j]),
        (
            "fit_pandalm",
            ["fit", PANDALM, "--features", "lmarena", "--ties", "davidson", "--save", "{out}_model", *io, *j],
        ),
        (
            "fit_ae_verbosity",
            ["fit", *AE_SUBSET, "--features", "verbosity,emoji", "--save", "{out}_model", *io, *j],
        ),
        ("explain_pandalm", ["explain", PANDALM, "--folds", "3", *io, *j]),
        ("explain_ae", ["explain", *AE_SUBSET, "--folds", "3", "--features", "lmarena", *io, *j]),
        ("explain_demo_load", ["explain", "--load", "alpaca_eval_vote", "--judge", "alpaca", *io, *j]),
        (
            "rerank_fixture",
            [
                "rerank",
                str(FIX / "rerank" / "ae2_leaderboard.csv"),
                "--outputs",
                str(FIX / "rerank"),
                "--reference",
                REF,
                "--rounds",
                "30",
                *io,
                *j,
            ],
        ),
        (
            "rerank_shared",
            [
                "rerank",
                AE_BOARD,
                "--outputs",
                str(AE / "model_outputs"),
                "--reference",
                REF,
                "--load",
                "alpaca_eval_style_all",
                "--rounds",
                "20",
                *io,
                *j,
            ],
        ),
        ("report_demo", ["report", "--no-explain", "-o", "{out}.html", *io, *j]),
        ("report_pandalm", ["report", PANDALM, "-o", "{out}.html", *io, *j]),
        ("report_meta", ["report", META_JSON, "-o", "{out}.html", *io, *j]),
        (
            "features_demo",
            [
                "features",
                "-o",
                "{out}_rows.csv",
                "--features",
                "style",
                "--pairs",
                "--json",
                "{out}.json",
                *j,
            ],
        ),
        (
            "features_meta",
            [
                "features",
                META_JSON,
                "-o",
                "{out}_rows.csv",
                "--features",
                "lmarena",
                "--pairs",
                "--json",
                "{out}.json",
                *j,
            ],
        ),
        ("features_pandalm", ["features", PANDALM, "-o", "{out}_rows.csv", "--json", "{out}.json", *j]),
        ("validate_demo", ["validate", "--json", "{out}.json", "-q"]),
        ("validate_fixtures_dir", ["validate", str(FIX / "formats"), "--json", "{out}.json", "-q"]),
        (
            "validate_fixtures",
            [
                "validate",
                *(
                    str(FIX / "formats" / f)
                    for f in (
                        "pandalm_testset.json",
                        "lmarena_conversations.jsonl",
                        "kaggle_train.csv",
                        "arena140k.parquet",
                        "alpaca_eval_annotations.json.gz",
                        "arena_metadata.parquet",
                    )
                ),
                "--json",
                "{out}.json",
                "-q",
            ],
        ),
        (
            "rank_fixtures_generic",
            [
                "rank",
                str(FIX / "formats" / "generic_votes.csv"),
                "--column",
                "model_a=left_model",
                "--column",
                "model_b=right_model",
                "--column",
                "winner=verdict",
                "--column",
                "response_a=answer_left",
                "--column",
                "response_b=answer_right",
                "--column",
                "prompt=question",
                *io,
                *j,
            ],
        ),
    ]


API_SCRIPT = r"""
import json, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
out = Path(sys.argv[1]); PANDALM = sys.argv[2]; META = sys.argv[3]
from stylebias import StyleControl, load_battles, to_contextual_pairs
from stylebias import fastchat

def dump(name, obj):
    if isinstance(obj, pd.DataFrame):
        obj.to_csv(out / f"api_{name}.csv", index=True, float_format="%.10g")
    elif isinstance(obj, pd.Series):
        obj.to_csv(out / f"api_{name}.csv", float_format="%.10g")
    else:
        (out / f"api_{name}.json").write_text(json.dumps(obj, indent=1, sort_keys=True, default=str))

data = load_battles(PANDALM)
b = data.battles
sc = StyleControl(features="lmarena", n_jobs=1, ci="bootstrap", rounds=10).fit(b.iloc[:700])
dump("sc_leaderboard", sc.leaderboard()); dump("sc_coef", sc.coefficients())
sc.save(out / "api_sc_model")
sc2 = StyleControl.load(out / "api_sc_model")
dump("sc_loaded_leaderboard", sc2.leaderboard())
sc2.update(b.iloc[700:])
dump("sc_updated_leaderboard", sc2.leaderboard()); dump("sc_updated_coef", sc2.coefficients())
dump("sc_adjust", sc2.adjust(b.iloc[:50]))
sc3 = StyleControl(features=None, components="refuse", anchor=("llama-7b", 1000.0)).fit(b)
dump("sc_nostyle", sc3.leaderboard())
dump("sc_explain_bt", sc2.explain("llama-7b"))
dump("contextual", to_contextual_pairs(b.iloc[:40], "lmarena"))

meta = json.loads(Path(META).read_text())
df = pd.DataFrame([r for r in meta if isinstance(r, dict)])
bs = load_battles(META)
keep = set(bs.battles["battle_id"].astype(str))
df = df[df["question_id"].astype(str).isin(keep)].reset_index(drop=True)
r, p = fastchat.compute_style_control(df)
dump("fastchat_ratings", r); dump("fastchat_params", {"params": [float(x) for x in p]})
np.random.seed(7)
br, bp = fastchat.compute_bootstrap_style_control(df, 5, num_cpu=1)
dump("fastchat_boot", br); dump("fastchat_boot_params", {"params": bp.tolist()})
sc4 = StyleControl().fit(df)
dump("sc_fastchat_frame", sc4.leaderboard())

from stylebias.explain.votemodel import fit_strength
from stylebias.extract import pair_features
X = pair_features(b, "lmarena", jobs=1)
sf = fit_strength(b["model_a"].to_numpy(object), b["model_b"].to_numpy(object), b["pref_a"].to_numpy(float), X)
dump("strength", {k: round(v, 10) for k, v in sf.strength.items()})
sf2 = fit_strength(b["model_a"].to_numpy(object), b["model_b"].to_numpy(object), b["pref_a"].to_numpy(float), X, side_blind=False)
dump("strength_plain", {k: round(v, 10) for k, v in sf2.strength.items()})
"""


def record(folder: Path, fresh_cache: bool, only: list[str] | None) -> int:
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        str(Path(p).resolve()) for p in env.get("PYTHONPATH", str(ROOT)).split(os.pathsep) if p
    )
    tmp = None
    if fresh_cache:
        tmp = tempfile.TemporaryDirectory(prefix="sb_cmp_cache_")
        env["STYLEBIAS_CACHE_DIR"] = tmp.name
    failures = 0
    total0 = time.process_time()
    for name, argv in cli_cases():
        if only and name not in only:
            continue
        # outputs are named relative to the folder (the run's cwd), so paths written into the JSON documents
        # are the same whichever folder a run records into
        args = [a.replace("{out}", name) for a in argv]
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "stylebias", *args], env=env, capture_output=True, text=True, cwd=folder
        )
        (folder / f"{name}.exit").write_text(f"{proc.returncode}\n")
        if proc.returncode != 0:
            failures += 1
            (folder / f"{name}.stderr").write_text(proc.stderr)
        print(
            f"{name:24s} exit {proc.returncode}  {time.perf_counter() - t0:6.1f}s  load {os.getloadavg()[0]:.2f}"
        )
    if not only or "api" in only:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", API_SCRIPT, ".", PANDALM, META_JSON],
            env=env,
            capture_output=True,
            text=True,
            cwd=folder,
        )
        (folder / "api.exit").write_text(f"{proc.returncode}\n")
        if proc.returncode != 0:
            failures += 1
            (folder / "api.stderr").write_text(proc.stderr)
        print(f"{'api':24s} exit {proc.returncode}  {time.perf_counter() - t0:6.1f}s")
    print(
        f"recorded into {folder} (parent CPU {time.process_time() - total0:.1f}s); {failures} case(s) failed"
    )
    if tmp is not None:
        tmp.cleanup()
    return 0


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def same_file(a: Path, b: Path) -> str | None:
    """``None`` when byte-identical, else what differs.

    An artifact's ``created`` timestamp (the moment it was written) is left out; an artifact whose only
    other difference is a ``payload.settings`` block that ``a`` lacks is reported as such (single fits save
    their :class:`FitSettings` since the fit path was unified), not as a changed number.
    """
    if filecmp.cmp(a, b, shallow=False):
        return None
    if a.name != "artifact.json":
        return "differs"
    import json

    da, db = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
    da.pop("created", None)
    db.pop("created", None)
    if da == db:
        return None
    added = db.get("payload", {}).pop("settings", None)
    if added is not None and "settings" not in da.get("payload", {}) and da == db:
        return "settings added"
    return "differs"


def compare(a: Path, b: Path) -> int:
    fa, fb = files_under(a), files_under(b)
    only_a, only_b = sorted(fa - fb), sorted(fb - fa)
    verdicts = {f: same_file(a / f, b / f) for f in sorted(fa & fb)}
    differ = [f for f, v in verdicts.items() if v == "differs"]
    added = [f for f, v in verdicts.items() if v == "settings added"]
    for f in only_a:
        print(f"only in {a}: {f}")
    for f in only_b:
        print(f"only in {b}: {f}")
    for f in added:
        print(f"identical but for the added payload.settings: {f}")
    for f in differ:
        print(f"differs: {f}")
    same = len(fa & fb) - len(differ) - len(added)
    print(
        f"{same} of {len(fa | fb)} files identical (artifacts but for 'created'); {len(added)} gained their fit "
        f"settings; {len(differ)} differ; {len(only_a) + len(only_b)} on one side only"
    )
    return 1 if differ or only_a or only_b else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record", help="run every case into FOLDER with the code on PYTHONPATH")
    r.add_argument("folder", type=Path)
    r.add_argument("--fresh-cache", action="store_true", help="extract features into a new, empty cache")
    r.add_argument(
        "--only", action="append", help="run only this case (repeatable; 'api' for the Python cases)"
    )
    c = sub.add_parser("compare", help="compare two recorded folders byte for byte")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "record":
        return record(args.folder, args.fresh_cache, args.only)
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
