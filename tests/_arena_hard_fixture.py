"""Build a tiny Arena-Hard-Auto benchmark folder, laid out and shaped exactly as upstream writes it.

Both schema generations are written, deterministic from ``--seed``:

v0.1 (lmarena/arena-hard-auto @ 3071ef95, the last commit of the v0.1 layout)::

    <out>/arena-hard-v0.1/question.jsonl                    {question_id, category, cluster, turns:[{content}]}
    <out>/arena-hard-v0.1/model_answer/<model>.jsonl        {question_id, answer_id, model_id,
                                                             choices:[{index, turns:[{content[, token_len]}]}],
                                                             tstamp, conv_metadata:{token_len, header_count{h1..h6},
                                                             list_count{ordered, unordered}, bold_count{**, __}}}
    <out>/arena-hard-v0.1/model_judgment/gpt-4-1106-preview/<model>.jsonl
                                                            {question_id, model, judge,
                                                             games:[{user_prompt, judgment, score}, {...}]}

    (gen_answer.py:get_answer writes conv_metadata; gen_judgment.py:judgment writes games; game 0 has the
    baseline as assistant A, game 1 swaps the two answers.)

v2 (lmarena/arena-hard-auto @ 196f6b82, HEAD)::

    <out>/arena-hard-v2.0/question.jsonl                    {uid, category, subcategory, prompt}
    <out>/arena-hard-v2.0/model_answer/<model>.jsonl        {uid, ans_id, model, messages:[{role, content}...,
                                                             {role: assistant, content:{answer[, thought]}}],
                                                             tstamp, metadata:{token_len, header_count, list_count,
                                                             bold_count}}
    <out>/arena-hard-v2.0/model_judgment/gpt-4.1/<model>.jsonl
                                                            {uid, category, judge, model, baseline,
                                                             games:[{score, judgment:{answer}, prompt:[...]}, {...}]}

    (gen_judgment.py:judgment round 1 puts the baseline as ANSWER_A, round 2 swaps; a failed API call stores
    ``null`` for the game.)

The markdown counts are computed with a restatement of upstream's ``utils/add_markdown_info.py``
(``count_markdown_elements`` after ``remove_pattern(answer, re.compile("```([^`]*)```"))``); ``token_len`` with
tiktoken ``cl100k_base`` (stylebias's offline copy; upstream v0.1 uses cl100k_base via
``encoding_for_model("gpt-3.5-turbo")``; v2 uses ``o200k_base`` via ``encoding_for_model("gpt-4o")``, which is not
available offline here, so v2 ``token_len`` values are cl100k counts: upstream only *reads* them, so parity is
unaffected).

Verdicts come from a simulated judge with per-model quality, a length and a markdown bias, a position bias
towards assistant A, five ordinal labels (``A>>B`` … ``B>>A``), a few upstream aliases (``B<A``, ``A<<B``, …), and
a few games with no verdict (``score: null``; v2 also a few ``null`` games).

Usage::

    python -m tests._arena_hard_fixture --out /tmp/ahfix --seed 7 [--questions 80] [--drop-answer MODEL]

(A test helper: ``build(out, seed)`` writes both folders and returns the manifest.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import string

import numpy as np

# --------------------------------------------------------------------------------------------------------------
# upstream restatements used to fill metadata
# --------------------------------------------------------------------------------------------------------------

_CODE = re.compile("```([^`]*)```")


def remove_pattern(answer: str, pattern: re.Pattern = _CODE) -> str:
    """utils/add_markdown_info.py:remove_pattern: findall returns the *inner* group; every occurrence of each
    inner text is replaced by "" (the ``` fences stay)."""
    for block in pattern.findall(answer):
        answer = answer.replace(block, "")
    return answer


def count_markdown_elements(text: str) -> dict:
    """utils/add_markdown_info.py:count_markdown_elements (suffix="")."""
    return {
        "header_count": {
            f"h{i}": len(re.findall(r"^#{" + str(i) + r"}\s", text, re.MULTILINE)) for i in range(1, 7)
        },
        "list_count": {
            "ordered": len(re.findall(r"^\s*\d+\.\s", text, re.MULTILINE)),
            "unordered": len(re.findall(r"^\s*[-*+]\s", text, re.MULTILINE)),
        },
        "bold_count": {
            "**": len(re.findall(r"\*\*[^*\n]+\*\*", text)),
            "__": len(re.findall(r"__[^_\n]+__", text)),
        },
    }


def token_len(text: str) -> int:
    """cl100k_base tokens (upstream v0.1's ``encoding_for_model("gpt-3.5-turbo")``), counted offline with
    stylebias's verified copy of the ranks; v2 upstream uses o200k_base, but upstream only *reads*
    ``token_len``, so the fixture's counts are as good as any."""
    from stylebias.extract.tokens import count_tokens

    return count_tokens(text)


TOKENIZER = "cl100k_base (stylebias.extract.tokens)"


# --------------------------------------------------------------------------------------------------------------
# simulated models and texts
# --------------------------------------------------------------------------------------------------------------

WORDS = (
    "the model answer uses a simple approach to solve this problem with clear steps and careful checks of each "
    "result while keeping the code readable and the explanation short enough for a reader who wants details "
    "about edge cases performance memory and correctness in real systems"
).split()

# name: (quality, mean paragraphs, markdown propensity, emoji/enthusiasm propensity)
MODELS_V01 = {
    "gpt-4-0314": (0.0, 4, 0.2, 0.0),  # upstream default baseline
    "athena-70b-chat": (0.6, 7, 0.8, 0.1),
    "borealis-8b-instruct": (-0.7, 3, 0.3, 0.0),
    "cirrus-verbose-v1": (0.1, 12, 0.9, 0.2),
    "dune-32b": (0.3, 4, 0.1, 0.0),
    "ember-mini-emoji": (-0.2, 6, 0.6, 0.9),
    "fjord-405b": (0.9, 5, 0.5, 0.0),
}
MODELS_V2 = {
    "o3-mini-2025-01-31": (0.0, 5, 0.5, 0.0),  # hard_prompt baseline (utils/judge_utils.py:JUDGE_SETTINGS)
    "gemini-2.0-flash-001": (-0.1, 6, 0.6, 0.1),  # creative_writing baseline
    "athena-70b-chat": (0.4, 7, 0.8, 0.1),
    "borealis-8b-instruct": (-0.9, 3, 0.3, 0.0),
    "cirrus-verbose-v1": (0.0, 12, 0.9, 0.3),
    "dune-32b-thinking": (0.5, 4, 0.2, 0.0),  # writes {"thought", "answer"} and a system message
    "ember-mini-emoji": (-0.3, 6, 0.6, 0.9),
}
V2_BASELINES = {"hard_prompt": "o3-mini-2025-01-31", "creative_writing": "gemini-2.0-flash-001"}
BASELINE_V01 = "gpt-4-0314"
JUDGE_V01 = "gpt-4-1106-preview"
JUDGE_V2 = "gpt-4.1"

EMOJI = ["🚀", "✅", "😊", "🎉", "💡", "👍", "🔥"]
PRAISE = ["Great question!", "What a fantastic idea!", "Absolutely, happy to help!", "Love this question!"]


def _sentence(rng: np.random.Generator, n: int | None = None) -> str:
    n = n or int(rng.integers(6, 16))
    s = " ".join(rng.choice(WORDS, size=n))
    return s[0].upper() + s[1:] + "."


def make_text(rng: np.random.Generator, style: tuple) -> str:
    """A response whose length, markdown and enthusiasm follow the model's style, with the odd code block
    holding '#' and '-' lines that upstream's code removal must hide from the counts."""
    _, paras, md, emo = style
    n_par = max(1, int(rng.poisson(paras)))
    out: list[str] = []
    if rng.random() < emo * 0.8:
        out.append(str(rng.choice(PRAISE)) + (" " + str(rng.choice(EMOJI)) if rng.random() < emo else ""))
    for _ in range(n_par):
        if rng.random() < md * 0.5:
            out.append("#" * int(rng.integers(1, 4)) + " " + " ".join(rng.choice(WORDS, size=3)).title())
        if rng.random() < md * 0.6:
            marker = rng.choice(["-", "*", "1."])
            items = []
            for i in range(int(rng.integers(2, 6))):
                lead = f"{i + 1}." if marker == "1." else str(marker)
                word = str(rng.choice(WORDS))
                bold = f"**{word.title()}**: " if rng.random() < md else ""
                items.append(f"{lead} {bold}{_sentence(rng, 6)}")
            out.append("\n".join(items))
        else:
            sents = [_sentence(rng) for _ in range(int(rng.integers(2, 5)))]
            if rng.random() < md * 0.3:
                sents[0] = f"__{rng.choice(WORDS)}__ " + sents[0]
            if rng.random() < emo:
                sents[-1] = sents[-1][:-1] + "! " + str(rng.choice(EMOJI))
            out.append(" ".join(sents))
        if rng.random() < 0.12:
            out.append("```python\n# a comment, not a header\n- not a list\nx = 1\n```")
    return "\n\n".join(out)


def style_metrics(text: str) -> tuple[int, int]:
    md = count_markdown_elements(remove_pattern(text))
    return token_len(text), sum(sum(v.values()) for v in md.values())


def simulate_label(rng: np.random.Generator, q_a: float, q_b: float, m_a: tuple, m_b: tuple) -> str | None:
    """One judge verdict for (A, B): quality + length bias + markdown bias + position bias + logistic noise."""
    (len_a, md_a), (len_b, md_b) = m_a, m_b
    u = (
        (q_a - q_b)
        + 0.9 * (len_a - len_b) / (len_a + len_b + 1)
        + 0.25 * np.tanh((md_a - md_b) / 5)
        + 0.15  # position bias towards A
        + rng.logistic(0, 0.9)
    )
    if rng.random() < 0.02:
        return None
    if u > 2.0:
        return "A>>B"
    if u > 0.6:
        return "A>B"
    if u > -0.6:
        return "A=B"
    if u > -2.0:
        return "B>A"
    return "B>>A"


ALIASES = {"A>B": "B<A", "B>A": "A<B", "A>>B": "B<<A", "B>>A": "A<<B", "A=B": "B=A"}


def maybe_alias(rng: np.random.Generator, label: str | None) -> str | None:
    if label is not None and rng.random() < 0.03:
        return ALIASES[label]
    return label


def judgment_text(rng: np.random.Generator, label: str | None) -> str:
    body = " ".join(_sentence(rng) for _ in range(3))
    if label is None:
        return body + " Both answers have merits and I cannot settle on one."
    return f"{body}\n\nMy final verdict is: [[{label}]]"


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("0123456789abcdef"), size=n))


def _shortuuid(rng: np.random.Generator) -> str:
    return "".join(rng.choice(list(string.ascii_letters + string.digits), size=22))


def _write(path: str, rows: list[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------------------------


def write_v01(
    out: str, rng: np.random.Generator, n_q: int, drop_answer: str | None, baseline: str = BASELINE_V01
) -> dict:
    bench = os.path.join(out, "arena-hard-v0.1")
    models = {(baseline if m == BASELINE_V01 else m): st for m, st in MODELS_V01.items()}
    qs = [
        {
            "question_id": _hex(rng, 32),
            "category": "arena-hard-v0.1",
            "cluster": f"Cluster {i % 7}",
            "turns": [{"content": _sentence(rng) + " Explain."}],
        }
        for i in range(n_q)
    ]
    _write(os.path.join(bench, "question.jsonl"), qs)
    texts: dict[str, dict[str, str]] = {}
    for m, style in models.items():
        rows = []
        texts[m] = {}
        for q in qs:
            t = make_text(rng, style)
            texts[m][q["question_id"]] = t
            turn = {"content": t}
            # older upstream files carry token_len on the turn (show_result.py reads it first for avg #tokens)
            if m in (baseline, "dune-32b"):
                turn["token_len"] = token_len(t)
            md = count_markdown_elements(remove_pattern(t))
            rows.append(
                {
                    "question_id": q["question_id"],
                    "answer_id": _shortuuid(rng),
                    "model_id": m,
                    "choices": [{"index": 0, "turns": [turn]}],
                    "tstamp": 1711000000.0 + float(rng.random()) * 1e6,
                    "conv_metadata": {"token_len": token_len(t)} | md,
                }
            )
        if m != drop_answer:
            _write(os.path.join(bench, "model_answer", f"{m}.jsonl"), rows)
    for m, style in models.items():
        if m == baseline:
            continue
        rows = []
        for q in qs:
            qid = q["question_id"]
            mm, mb = style_metrics(texts[m][qid]), style_metrics(texts[baseline][qid])
            games = []
            for g in range(2):
                # game 0: A = baseline, B = model; game 1: swapped (gen_judgment.py:judgment)
                if g == 0:
                    lab = simulate_label(rng, models[baseline][0], style[0], mb, mm)
                else:
                    lab = simulate_label(rng, style[0], models[baseline][0], mm, mb)
                lab = maybe_alias(rng, lab)
                games.append(
                    {
                        "user_prompt": f"<|User Prompt|>\n{q['turns'][0]['content']}\n...",
                        "judgment": "\n" + judgment_text(rng, lab),
                        "score": lab,
                    }
                )
            rows.append({"question_id": qid, "model": m, "judge": JUDGE_V01, "games": games})
        _write(os.path.join(bench, "model_judgment", JUDGE_V01, f"{m}.jsonl"), rows)
    return {"bench": bench, "baseline": baseline, "judge": JUDGE_V01, "models": list(models)}


def write_v2(out: str, rng: np.random.Generator, n_q: int, drop_answer: str | None) -> dict:
    bench = os.path.join(out, "arena-hard-v2.0")
    qs = []
    for i in range(n_q):
        cat = "creative_writing" if i % 3 == 2 else "hard_prompt"
        sub = "creative_writing" if cat == "creative_writing" else ("coding" if i % 2 else "math")
        qs.append(
            {"uid": _hex(rng, 16), "category": cat, "subcategory": sub, "prompt": _sentence(rng) + " Go."}
        )
    _write(os.path.join(bench, "question.jsonl"), qs)
    texts: dict[str, dict[str, str]] = {}
    for m, style in MODELS_V2.items():
        rows = []
        texts[m] = {}
        for q in qs:
            t = make_text(rng, style)
            texts[m][q["uid"]] = t
            content = {"answer": t}
            msgs = [{"role": "user", "content": q["prompt"]}]
            if m == "dune-32b-thinking":
                content = {"thought": _sentence(rng) + " " + _sentence(rng), "answer": t}
                msgs = [{"role": "system", "content": "You are a helpful assistant."}] + msgs
            md = count_markdown_elements(remove_pattern(t))
            rows.append(
                {
                    "uid": q["uid"],
                    "ans_id": _shortuuid(rng),
                    "model": m,
                    "messages": msgs + [{"role": "assistant", "content": content}],
                    "tstamp": 1744000000.0 + float(rng.random()) * 1e6,
                    "metadata": {"token_len": token_len(t)} | md,
                }
            )
        if m != drop_answer:
            _write(os.path.join(bench, "model_answer", f"{m}.jsonl"), rows)
    for m, style in MODELS_V2.items():
        rows = []
        for q in qs:
            base = V2_BASELINES[q["category"]]
            if m == base:
                continue
            uid = q["uid"]
            mm, mb = style_metrics(texts[m][uid]), style_metrics(texts[base][uid])
            games = []
            for g in range(2):
                if rng.random() < 0.01:  # failed API call: upstream stores None for the game
                    games.append(None)
                    continue
                if g == 0:  # round 1: baseline is ANSWER_A
                    lab = simulate_label(rng, MODELS_V2[base][0], style[0], mb, mm)
                    a_txt, b_txt = texts[base][uid], texts[m][uid]
                else:  # round 2: swapped
                    lab = simulate_label(rng, style[0], MODELS_V2[base][0], mm, mb)
                    a_txt, b_txt = texts[m][uid], texts[base][uid]
                lab = maybe_alias(rng, lab)
                prompt = [
                    {"role": "system", "content": "Please act as an impartial judge ..."},
                    {
                        "role": "user",
                        "content": f"<|User Prompt|>\n{q['prompt']}\n\n<|The Start of Assistant A's "
                        f"Answer|>\n{a_txt[:80]}...\n<|The End of Assistant A's Answer|>\n\n<|The Start of Assistant "
                        f"B's Answer|>\n{b_txt[:80]}...\n<|The End of Assistant B's Answer|>",
                    },
                ]
                games.append(
                    {"score": lab, "judgment": {"answer": judgment_text(rng, lab)}, "prompt": prompt}
                )
            rows.append(
                {
                    "uid": uid,
                    "category": q["category"],
                    "judge": JUDGE_V2,
                    "model": m,
                    "baseline": base,
                    "games": games,
                }
            )
        _write(os.path.join(bench, "model_judgment", JUDGE_V2, f"{m}.jsonl"), rows)
    return {"bench": bench, "baselines": V2_BASELINES, "judge": JUDGE_V2, "models": list(MODELS_V2)}


def build(
    out: str,
    seed: int = 7,
    questions: int = 80,
    drop_answer: str | None = None,
    v01_baseline: str = BASELINE_V01,
) -> dict:
    """Write ``<out>/arena-hard-v0.1`` and ``<out>/arena-hard-v2.0``; returns the manifest."""
    rng = np.random.default_rng(seed)
    return {
        "seed": seed,
        "questions": questions,
        "tokenizer": TOKENIZER,
        "drop_answer": drop_answer,
        "v0.1": write_v01(out, rng, questions, drop_answer, v01_baseline),
        "v2": write_v2(out, rng, questions, drop_answer),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--questions", type=int, default=80)
    ap.add_argument(
        "--drop-answer", default=None, help="leave out this model's answer file (upstream crash case)"
    )
    ap.add_argument(
        "--v01-baseline",
        default=BASELINE_V01,
        help="name of the v0.1 baseline (not gpt-4-0314: upstream's bootstrap anchor bug shows)",
    )
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    man = {
        "seed": args.seed,
        "questions": args.questions,
        "tokenizer": TOKENIZER,
        "drop_answer": args.drop_answer,
        "v0.1": write_v01(args.out, rng, args.questions, args.drop_answer, args.v01_baseline),
        "v2": write_v2(args.out, rng, args.questions, args.drop_answer),
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(man, fh, indent=1)
    print(json.dumps(man, indent=1))


if __name__ == "__main__":
    main()
