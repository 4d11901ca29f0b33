"""Draw the responses to hand-label, reproducibly, from ``../shared/data``.

    python bench/labels/draw.py --out /tmp/pool      # writes pool.jsonl (locators) and shard_NN.md (texts to read)

Per source a quota; half of it drawn uniformly at random, half enriched: likely flattery, likely refusal,
likely emoji, and hard negatives (plain politeness, empathy, caveats, role-play and fiction prompts). The
enrichment patterns below only decide *what is drawn*; every label is decided by a person reading the prompt and
the whole response against the rubric (``README.md``). Responses already in ``labels/dev.jsonl`` are skipped
(same text), so the two sets never overlap.

The frozen test split is decided here, once, from the prompt: a row is ``test`` when the first hex digits of the
SHA-256 of its normalised prompt fall in the lowest 30 %, unless that prompt also occurs in ``dev.jsonl`` (then it
is ``dev``: the old rules were tuned on dev). Grouping by prompt keeps the several answers to one AlpacaEval
instruction on one side of the split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sources  # noqa: E402
import symbols  # noqa: E402

SEED = 20261201
TEST_SHARE = 0.30

# How many responses each source contributes (sources marked new are not in dev.jsonl).
QUOTA = {
    "lmarena_llama3_battles": 600,  # new: real Chatbot Arena answers, both sides
    "llmbar_pairs": 350,  # new: MT-Bench / LLMEval2 / FairEval / LLMBar pairs
    "vicuna_blog": 250,  # new: 2023 chat models
    "alpaca_eval_ae2": 350,  # models not sampled in dev preferred
    "alpaca_eval_model_outputs": 250,
    "hh_rlhf_harmless": 250,
    "pandalm": 50,
}

# A second, smaller round drawn after the first was labelled: positives were scarce outside the Arena answers
# (166 flattery and 165 refusal labels in 2,100), so two thirds of it is enriched.
QUOTA_ROUND2 = {
    "lmarena_llama3_battles": 100,
    "llmbar_pairs": 80,
    "vicuna_blog": 80,
    "alpaca_eval_ae2": 100,
    "alpaca_eval_model_outputs": 120,
    "hh_rlhf_harmless": 100,
    "pandalm": 20,
}
# A third round, drawn after the first detector redesign had been evaluated once on the frozen test split: it adds
# training data where the detectors were weakest (red-team deflections, partial refusals, flattery outside the
# Arena answers) and a second held-out set, "holdout", that no one designing the detectors has seen.
QUOTA_ROUND3 = {
    "hh_rlhf_harmless": 300,
    "lmarena_llama3_battles": 200,
    "alpaca_eval_model_outputs": 200,
    "alpaca_eval_ae2": 200,
    "llmbar_pairs": 150,
    "vicuna_blog": 100,
    "pandalm": 50,
}
# A fourth round, drawn after both held-out sets had been scored: a third held-out set, "holdout2", for one more
# clean figure. Only prompts new to every earlier round and to dev.jsonl; at least 60 red-team chats and 60 Arena
# answers, where the detectors were weakest. vicuna_blog has no new prompt left (its 80 questions were all read in
# rounds 1-3), so its share went to the red-team chats and the Arena answers (only 214 Arena answers have a new
# prompt). Outside the AlpacaEval sources the enrichment strata are nearly empty among new prompts (the earlier
# rounds took them), so most of the enriched half is topped up at random there.
QUOTA_ROUND4 = {
    "hh_rlhf_harmless": 75,
    "lmarena_llama3_battles": 75,
    "alpaca_eval_ae2": 45,
    "alpaca_eval_model_outputs": 45,
    "llmbar_pairs": 45,
    "pandalm": 15,
    "vicuna_blog": 0,
}
# Among new prompts only the AlpacaEval sources still hold likely refusals, flattery and emoji, and the main
# quota's preference for models dev.jsonl never sampled left none of them in reach; so round 4 adds an enriched
# supplement from those two sources, any model, positives' strata only (hard negatives were plentiful already).
SUPPLEMENT_ROUND4 = {"alpaca_eval_ae2": 25, "alpaca_eval_model_outputs": 15}
# A fifth round, drawn after all three earlier held-out sets had been scored: a fourth held-out set, "holdout3",
# for the next design's one clean figure. Same rules as round 4 (only prompts new to every earlier round, its own
# salt); the red-team chats weighted again (the weakest source, and the one with new prompts to spare), and the
# AlpacaEval answers of any model (round 4 showed that preferring unsampled models leaves no positives in reach),
# so no supplement is needed. Decided before anything was drawn.
QUOTA_ROUND5 = {
    "hh_rlhf_harmless": 100,
    "lmarena_llama3_battles": 60,
    "alpaca_eval_ae2": 50,
    "alpaca_eval_model_outputs": 50,
    "llmbar_pairs": 30,
    "pandalm": 10,
    "vicuna_blog": 0,
}
# Round 6 (drawn 2026-12-02, after holdout3 had been scored twice): the fifth held-out set, ``holdout4``, for the
# next design's one clean figure. Same rules as rounds 4 and 5. Few answers to new prompts are left outside the
# red-team chats (counted before drawing: 14 Arena, 96 + 225 AlpacaEval, 493 LLMBar, 2,945 HH), and almost none
# match an enrichment pattern - earlier enriched draws took those prompts - so most of the enriched half is
# topped up at random. Decided before anything was drawn.
QUOTA_ROUND6 = {
    "hh_rlhf_harmless": 120,
    "lmarena_llama3_battles": 14,
    "alpaca_eval_ae2": 50,
    "alpaca_eval_model_outputs": 36,
    "llmbar_pairs": 80,
    "pandalm": 0,
    "vicuna_blog": 0,
}
# Round 7 (drawn 2026-12-02, after holdout4 had been scored once): the sixth held-out set, ``holdout5``, drawn
# before the next detector design was written, so that design has one clean figure. Same rules as rounds 4-6. The
# quota asked for 150 HH, 80 LLMBar and 30 + 40 AlpacaEval; the draw found no AlpacaEval or Arena answer to a new
# prompt left (counted then: 2,750 HH answers to 1,393 prompts, 356 LLMBar to 168, one PandaLM), so the AlpacaEval
# quotas are written as 0 (the draw is the same: an empty pool takes nothing from the shuffle). None of what is
# left matches an enrichment pattern, so all 230 rows are random.
QUOTA_ROUND7 = {
    "hh_rlhf_harmless": 150,
    "lmarena_llama3_battles": 0,
    "alpaca_eval_ae2": 0,
    "alpaca_eval_model_outputs": 0,
    "llmbar_pairs": 80,
    "pandalm": 0,
    "vicuna_blog": 0,
}
# Round 8 (drawn 2026-12-02, after holdout5 had been scored once): the seventh held-out set, ``holdout6``, drawn and
# labelled now but reserved (``load.RESERVED``) for the next detector design. Same rules as rounds 4-7. Left of
# answers to new prompts before drawing: about 2,600 HH and 276 LLMBar answers, nothing else. Decided before
# anything was drawn.
QUOTA_ROUND8 = {
    "hh_rlhf_harmless": 150,
    "lmarena_llama3_battles": 0,
    "alpaca_eval_ae2": 0,
    "alpaca_eval_model_outputs": 0,
    "llmbar_pairs": 60,
    "pandalm": 0,
    "vicuna_blog": 0,
}
#: each round's quota table: the one list of rounds (``--round`` takes exactly these)
QUOTAS = {
    1: QUOTA,
    2: QUOTA_ROUND2,
    3: QUOTA_ROUND3,
    4: QUOTA_ROUND4,
    5: QUOTA_ROUND5,
    6: QUOTA_ROUND6,
    7: QUOTA_ROUND7,
    8: QUOTA_ROUND8,
}
SUPPLEMENT_STRATA = ("likely_emoji", "likely_refusal", "likely_flattery")
RANDOM_SHARE = {1: 0.5, 2: 1 / 3, 3: 0.5, 4: 0.5, 5: 0.5, 6: 0.5, 7: 0.5, 8: 0.5}
HOLDOUT_SHARE = 0.40  # of round-3 rows whose prompt is new to every earlier round
HOLDOUT_SALT = "holdout-2026-12-01"
# Rounds 4 and 5 seed their shuffle from their own salt (not from SEED + round), so each draw is reproducible and
# independent of every earlier round's random order; all of a round's rows are its held-out set.
ROUND4_SALT = "holdout2-2026-12-02"
HELD_OUT_ROUNDS = {
    4: ("holdout2", ROUND4_SALT),
    5: ("holdout3", "holdout3-2026-12-02"),
    6: ("holdout4", "holdout4-2026-12-02"),
    7: ("holdout5", "holdout5-2026-12-02"),
    8: ("holdout6", "holdout6-2026-12-02"),
}

# Draw-time enrichment only (never a label).
LIKELY = {
    "flattery": re.compile(
        r"\b(great|excellent|fantastic|wonderful|interesting|fascinating|intriguing|thoughtful|insightful|"
        r"lovely|brilliant|good question|what a|you'?re (absolutely )?right|glad you|it'?s great that|"
        r"i love (this|that|your)|love your|impressive|neat|nice)\b",
        re.I,
    ),
    "refusal": re.compile(
        r"(i can'?t|i cannot|i can not|i'?m sorry|i am sorry|as an ai|as a language model|i don'?t have|"
        r"i do not have|unable to|i won'?t|not appropriate|i'?m not able|i am not able|cannot provide|"
        r"can'?t help|i must decline|not comfortable|against (my|the) (policy|guidelines)|i apologi[sz]e)",
        re.I,
    ),
    "emoji": re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\u231a-\u23ff]"),
}
HARD_NEGATIVE = re.compile(
    r"(^(sure|absolutely|certainly|of course|happy to help|gladly)\b|sorry to hear|i understand|"
    r"it'?s important to|consult (a|your)|however,|please note|keep in mind)",
    re.I,
)
ROLEPLAY_PROMPT = re.compile(
    r"\b(pretend|act as|imagine|role-?play|you are a|in character|story|poem)\b", re.I
)


def norm_prompt(p: str) -> str:
    return " ".join(p.lower().split())


def prompt_in_test(prompt: str) -> bool:
    h = int(hashlib.sha256(norm_prompt(prompt).encode("utf-8")).hexdigest()[:8], 16)
    return h < TEST_SHARE * 16**8


def prompt_in_holdout(prompt: str) -> bool:
    """Round 3's held-out set: a salted hash, independent of the test split's."""
    key = (HOLDOUT_SALT + norm_prompt(prompt)).encode("utf-8")
    return int(hashlib.sha256(key).hexdigest()[:8], 16) < HOLDOUT_SHARE * 16**8


def stratum(text: dict) -> str | None:
    head = text["response"][:600]
    whole = text["response"]
    if LIKELY["refusal"].search(head):
        return "likely_refusal"
    if LIKELY["flattery"].search(head[:300]):
        return "likely_flattery"
    if LIKELY["emoji"].search(whole):
        return "likely_emoji"
    if HARD_NEGATIVE.search(head) or ROLEPLAY_PROMPT.search(text["prompt"][:500]):
        return "hard_negative"
    return None


def supplement(
    by_source: dict[str, list[tuple[dict, dict]]], taken: set[str], rng: random.Random
) -> list[dict]:
    """Round 4's enrichment supplement: likely refusal / flattery / emoji answers of the AlpacaEval sources, any
    model, taken round-robin (the main quota's strata were nearly empty among new prompts)."""
    out = []
    for src, quota in SUPPLEMENT_ROUND4.items():
        pool = [(loc, t) for loc, t in by_source[src] if loc["sha"] not in taken]
        rng.shuffle(pool)
        strata: dict[str, list] = {s: [] for s in SUPPLEMENT_STRATA}
        for loc, t in pool:
            s = stratum(t)
            if s in strata:
                strata[s].append((loc, t))
        while quota > 0 and any(strata.values()):
            for s in SUPPLEMENT_STRATA:
                if quota and strata[s]:
                    loc, t = strata[s].pop()
                    out.append({**loc, "model": t["model"], "drawn": s, "split": "holdout2"})
                    quota -= 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--dev", type=Path, default=sources.SHARED / "labels" / "dev.jsonl")
    ap.add_argument("--shard-size", type=int, default=300)
    ap.add_argument(
        "--round",
        type=int,
        choices=tuple(QUOTAS),
        default=1,
        help=f"2-{max(QUOTAS)}: later rounds, skipping earlier ones",
    )
    ap.add_argument(
        "--earlier",
        type=Path,
        help="locators of every earlier round (default: OUT/pool.jsonl; labels.jsonl holds them from round 4)",
    )
    args = ap.parse_args(argv)
    quota_table = QUOTAS[args.round]
    earlier: list[dict] = []
    if args.round > 1:
        earlier_path = args.earlier or args.out / "pool.jsonl"
        earlier = [json.loads(line) for line in earlier_path.read_text().splitlines() if line.strip()]
        # rows of this round or later (labels.jsonl once this round is assembled) are not "earlier": skipping
        # them keeps the draw reproducible from the assembled file
        earlier = [r for r in earlier if r.get("round", 1) < args.round]

    dev = [json.loads(line) for line in args.dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    dev_texts = {sources.digest(r["response"]) for r in dev}
    dev_prompts = {norm_prompt(r["prompt"]) for r in dev}
    dev_models = Counter(r["model"] for r in dev)
    skip = dev_texts | {r["sha"] for r in earlier}

    earlier_split = {}
    for r in earlier:
        earlier_split.setdefault(norm_prompt(sources.resolve(r)["prompt"]), r["split"])
    by_source: dict[str, list[tuple[dict, dict]]] = {s: [] for s in QUOTA}
    seen: set[str] = set()
    for loc in sources.iter_candidates():
        text = sources.resolve(loc)
        resp = text["response"]
        if not isinstance(resp, str) or not resp.strip():
            continue
        if args.round in HELD_OUT_ROUNDS and (
            norm_prompt(text["prompt"]) in dev_prompts or norm_prompt(text["prompt"]) in earlier_split
        ):
            continue  # held-out rounds only read prompts no earlier round and no dev.jsonl row has
        sha = sources.digest(resp)
        if sha in skip or sha in seen:
            continue
        seen.add(sha)
        loc = {**loc, "sha": sha}
        by_source[loc["source"]].append((loc, text))

    if args.round in HELD_OUT_ROUNDS:
        salt = HELD_OUT_ROUNDS[args.round][1]
        rng = random.Random(int(hashlib.sha256(salt.encode()).hexdigest()[:16], 16))
    else:
        rng = random.Random(SEED + args.round - 1)
    drawn: list[dict] = []
    for src, quota in quota_table.items():
        pool = by_source[src]
        if src == "alpaca_eval_ae2" and args.round < 5:  # prefer models dev.jsonl has not sampled
            unsampled = [p for p in pool if dev_models.get(p[1]["model"], 0) == 0]
            pool = unsampled if len(unsampled) >= quota else pool
        rng.shuffle(pool)
        n_random = round(quota * RANDOM_SHARE[args.round])
        picked = [(loc, t, "random") for loc, t in pool[:n_random]]
        taken = {loc["sha"] for loc, _ in pool[:n_random]}
        strata: dict[str, list] = {
            "likely_refusal": [],
            "likely_flattery": [],
            "likely_emoji": [],
            "hard_negative": [],
        }
        for loc, t in pool[n_random:]:
            s = stratum(t)
            if s and loc["sha"] not in taken:
                strata[s].append((loc, t))
        want = quota - n_random
        # Round-robin over strata so each kind is represented even where one dominates.
        while want > 0 and any(strata.values()):
            for s in list(strata):
                if want and strata[s]:
                    loc, t = strata[s].pop()
                    picked.append((loc, t, s))
                    want -= 1
        for loc, t in pool[n_random:]:  # top up at random where strata ran dry
            if want <= 0:
                break
            if loc["sha"] not in {p[0]["sha"] for p in picked}:
                picked.append((loc, t, "random"))
                want -= 1
        for loc, t, how in picked:
            p = norm_prompt(t["prompt"])
            if args.round in HELD_OUT_ROUNDS:
                split = HELD_OUT_ROUNDS[args.round][0]  # every prompt is new (filtered above)
            elif args.round < 3:
                split = "dev" if p in dev_prompts or not prompt_in_test(t["prompt"]) else "test"
            elif p in dev_prompts:
                split = "dev"
            elif p in earlier_split:  # a tuning prompt stays tuning; a test prompt's new answers are held out
                split = "dev" if earlier_split[p] == "dev" else "holdout"
            else:
                split = "holdout" if prompt_in_holdout(t["prompt"]) else "dev"
            drawn.append({**loc, "model": t["model"], "drawn": how, "split": split})

    if args.round == 4:
        drawn += supplement(by_source, {r["sha"] for r in drawn}, rng)
    rng.shuffle(drawn)
    for i, row in enumerate(drawn, start=len(earlier)):
        row["id"] = f"L{i:04d}"
        row["round"] = args.round
    args.out.mkdir(parents=True, exist_ok=True)
    append = bool(earlier) and args.earlier is None  # with --earlier, pool.jsonl holds this round only
    with open(args.out / "pool.jsonl", "a" if append else "w", encoding="utf-8") as fh:
        for row in drawn:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    first_shard = (len(earlier) + args.shard_size - 1) // args.shard_size
    for k in range(0, len(drawn), args.shard_size):
        name = f"shard_{first_shard + k // args.shard_size:02d}.md"
        write_shard(args.out / name, drawn[k : k + args.shard_size])
    print(f"{len(drawn)} responses drawn")
    print(Counter(r["source"] for r in drawn))
    print(Counter(r["drawn"] for r in drawn))
    print(Counter(r["split"] for r in drawn))
    return 0


SHOW_HEAD, SHOW_TAIL = 5000, 1500


def symbol_line(text: str) -> str:
    """The emoji aid of ``symbols.py``: every symbol character of the whole response with its Unicode name."""
    found = symbols.symbols(text)
    return (
        ", ".join(f"{c!r} U+{ord(c):04X} {unicodedata.name(c, '?')} x{n}" for c, n in found.items())
        or "(none)"
    )


def write_shard(path: Path, rows: list[dict]) -> None:
    """A Markdown file a labeller reads top to bottom: id, source, the conversation, the whole response."""
    out = []
    for row in rows:
        t = sources.resolve(row)
        resp = t["response"]
        shown = (
            resp
            if len(resp) <= SHOW_HEAD + SHOW_TAIL
            else (
                resp[:SHOW_HEAD]
                + f"\n\n[... {len(resp) - SHOW_HEAD - SHOW_TAIL} characters not shown ...]\n\n"
                + resp[-SHOW_TAIL:]
            )
        )
        ctx = t["context"]
        if len(ctx) > 3000:
            ctx = ctx[:1500] + "\n[...]\n" + ctx[-1500:]
        out.append(
            f"\n\n=============== {row['id']} · source {row['source']} · model {t['model']} ===============\n"
            f"----- PROMPT / CONVERSATION -----\n{ctx}\n----- RESPONSE ({len(resp)} chars) -----\n{shown}\n"
            f"----- SYMBOLS (symbols.py) -----\n{symbol_line(resp)}\n"
            f"----- END {row['id']} -----"
        )
    path.write_text("".join(out), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
