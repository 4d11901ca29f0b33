"""The feature catalogue: every per-response feature, its family, and how it becomes a pair feature.

One table drives everything downstream: :func:`resolve_features` validates user input against it, the batch
runner asks it which families to compute, and :func:`stylebias.extract.pair_features` asks it how to turn the
two sides of a battle into one antisymmetric number. Adding a feature means adding a row here and a column in
the family module that computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import UsageError

#: How a per-response value becomes a pair value. Every kind is antisymmetric in (a, b).
#:
#: * ``count``: non-negative counts -> LMArena's normalised difference (a - b) / (a + b + 1);
#: * ``level``: ordinal levels and 0/1 flags -> a - b;
#: * ``score``: ratios and scores (readability, sentiment, diversity, rates) -> a - b;
#: * ``label``: a per-response description (the script), never a pair feature or a style covariate.
PairKind = Literal["count", "level", "score", "label"]


@dataclass(frozen=True)
class Feature:
    """One per-response feature."""

    name: str
    family: str
    kind: PairKind
    description: str
    #: an English measure: not applicable (NaN; refusal ``"n/a"``) on prose not in Latin script
    english: bool = False


FEATURES: tuple[Feature, ...] = (
    # verbosity
    Feature("tokens", "verbosity", "count", "cl100k_base (tiktoken) tokens, as LMArena counts length"),
    Feature(
        "words",
        "verbosity",
        "count",
        "words (whitespace tokens after punctuation removal, as textstat; a Han or Kana character is one)",
    ),
    Feature(
        "sentences", "verbosity", "count", "sentences in prose (code removed); a line without end mark is one"
    ),
    Feature("paragraphs", "verbosity", "count", "blocks separated by blank lines"),
    Feature("chars", "verbosity", "count", "characters (Unicode code points)"),
    Feature(
        "flesch_reading_ease", "verbosity", "score", "Flesch reading ease (textstat-compatible)", english=True
    ),
    Feature("grade_level", "verbosity", "score", "Flesch-Kincaid grade (textstat-compatible)", english=True),
    Feature("mattr", "verbosity", "score", "moving-average type-token ratio, window 50 words"),
    # structure (LMArena's markdown rules)
    Feature("header_count", "structure", "count", "markdown headers ^#{1,6}\\s, fenced code removed first"),
    Feature(
        "list_count", "structure", "count", "ordered and unordered list items, fenced code removed first"
    ),
    Feature("bold_count", "structure", "count", "**bold** and __bold__ spans, fenced code removed first"),
    Feature("code_blocks", "structure", "count", "fenced code blocks (``` or ~~~)"),
    Feature("tables", "structure", "count", "markdown tables (header row + delimiter row)"),
    Feature("links", "structure", "count", "markdown links [text](url) and bare http(s) URLs"),
    # emoji
    Feature(
        "emoji_count", "emoji", "count", "emoji pictographs; ZWJ sequences, flags, skin tones count once"
    ),
    # flattery
    Feature(
        "flattery_count",
        "flattery",
        "count",
        "sentences that praise or effusively validate the user",
        english=True,
    ),
    Feature("flattery", "flattery", "level", "1 if the reply flatters the user, else 0", english=True),
    # refusal
    Feature("refusal", "refusal", "level", "refusal level: none=0, partial=1, full=2", english=True),
    Feature(
        "refusal_score", "refusal", "score", "graded refusal in [0, 1], > 0.5 iff not none", english=True
    ),
    # tone
    Feature("exclamations", "tone", "score", "exclamation marks per 100 words (code removed)"),
    Feature("positivity", "tone", "score", "VADER compound sentiment of the prose, in [-1, 1]", english=True),
    # script
    Feature(
        "script",
        "script",
        "label",
        "writing system of most of the prose's letters (latin, cyrillic, hangul, han, japanese, ...)",
    ),
)

FEATURE_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}

#: Families in the order they are computed.
FAMILIES: tuple[str, ...] = ("verbosity", "structure", "emoji", "flattery", "refusal", "tone", "script")

#: Named feature sets. ``lmarena`` is exactly LMArena's style-control set.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "lmarena": ("tokens", "header_count", "list_count", "bold_count"),
    "full": tuple(f.name for f in FEATURES if f.kind != "label"),  # every style covariate
}
for _family in FAMILIES:
    FEATURE_SETS[_family] = tuple(f.name for f in FEATURES if f.family == _family)
#: One feature per concept, for fits whose coefficients will be read one by one. ``full`` holds near-duplicate
#: pairs (on the demo battles |corr| of pair values: flattery_count/flattery 0.996, tokens/chars 0.988,
#: tokens/words 0.954, flesch/grade 0.908, refusal/refusal_score 0.906), whose coefficients split one effect
#: between them, sometimes with opposite signs.
FEATURE_SETS["style"] = (
    "tokens",
    "header_count",
    "list_count",
    "bold_count",
    "code_blocks",
    "tables",
    "links",
    "emoji_count",
    "flattery",
    "refusal",
    "exclamations",
    "positivity",
    "flesch_reading_ease",
    "mattr",
)

#: Refusal levels and their ordinal codes (the per-response ``refusal`` column holds the label).
REFUSAL_LEVELS: dict[str, int] = {"none": 0, "partial": 1, "full": 2}
#: the refusal label of a response the English refusal detector cannot read (its pair value: no difference)
REFUSAL_NOT_APPLICABLE = "n/a"
#: features that are English measures (see :attr:`Feature.english`)
ENGLISH_FEATURES: frozenset[str] = frozenset(f.name for f in FEATURES if f.english)


# ---------------------------------------------------------------------------------- derived pair features
# Other pipelines' style terms, built from the per-response features above by a fixed formula on the two
# sides (``extract/derived.py`` computes them). ``meta``: the inputs are read from a battle's ``meta_*``
# columns first (the pipeline's own counts, e.g. Arena-Hard-Auto's ``token_len`` from another tokenizer),
# from the texts only where those are missing.
#
# Formulas (a = side A, b = side B; every one flips sign when A and B swap):
#   ``count``   (a - b) / (a + b + 1)                        on the first input
#   ``share``   (a - b) / (a + b)                            on the first input (no +1: 0/0 is not finite)
#   ``density`` d = input0 / (input1 + 1) per side, then (d_a - d_b) / (d_a + d_b + 1)
#   ``tone:L``  1 if the side's tone level (:func:`tone_levels`) is L, else 0; then a - b

DerivedFormula = Literal["count", "share", "density"] | str


@dataclass(frozen=True)
class DerivedFeature:
    """A pair feature computed from per-response features of both sides by a named formula."""

    name: str
    inputs: tuple[str, ...]
    formula: DerivedFormula
    meta: bool
    description: str


_AH = "Arena-Hard-Auto"
_TONE_INPUTS = ("positivity", "exclamations", "emoji_count", "flattery")
DERIVED_FEATURES: tuple[DerivedFeature, ...] = (
    # Arena-Hard-Auto v2 (show_result.py::print_leaderboard_with_style_features)
    DerivedFeature(
        "arena_hard_length", ("tokens",), "share", True, f"{_AH} v2 length: (a - b) / (a + b) of token_len"
    ),
    *(
        DerivedFeature(
            f"arena_hard_{c.split('_')[0]}_density",
            (c, "tokens"),
            "density",
            True,
            f"{_AH} v2 markdown density: {c} / (token_len + 1) per side, then (a - b) / (a + b + 1)",
        )
        for c in ("header_count", "list_count", "bold_count")
    ),
    # Arena-Hard-Auto v0.1 (utils_math.py::construct_style_matrices): LMArena's terms on its own counts
    *(
        DerivedFeature(
            f"arena_hard_v01_{c}",
            (c,),
            "count",
            True,
            f"{_AH} v0.1: (a - b) / (a + b + 1) of {c} (metadata first)",
        )
        for c in ("tokens", "header_count", "list_count", "bold_count")
    ),
    # LMArena 2025 sentiment control: one tone level per answer, neutral the reference (offline stand-in)
    *(
        DerivedFeature(
            f"tone_{level.replace(' ', '_')}",
            _TONE_INPUTS,
            f"tone:{level}",
            False,
            f"tone level {level!r} (offline: VADER positivity, exclamations, emoji, flattery), 1/0 per side",
        )
        for level in ("very negative", "negative", "positive", "very positive")
    ),
)
DERIVED_BY_NAME: dict[str, DerivedFeature] = {f.name: f for f in DERIVED_FEATURES}

FEATURE_SETS["arena-hard"] = (
    "arena_hard_length",
    "arena_hard_header_density",
    "arena_hard_list_density",
    "arena_hard_bold_density",
)
FEATURE_SETS["arena-hard-v0.1"] = tuple(f"arena_hard_v01_{c}" for c in FEATURE_SETS["lmarena"])
FEATURE_SETS["lmarena-2025"] = (
    *FEATURE_SETS["lmarena"],
    "emoji_count",
    "tone_very_negative",
    "tone_negative",
    "tone_positive",
    "tone_very_positive",
)

#: Tone levels, in order, and the offline rule's cut-offs (fixed a priori, not tuned: VADER's usual +-0.05
#: for positive/negative, stronger outer bands; see docs/features.md).
TONE_LEVELS: tuple[str, ...] = ("very negative", "negative", "neutral", "positive", "very positive")
TONE_CUTS: dict[str, float] = {
    "very_positive": 0.5,
    "enthusiastic": 0.2,
    "positive": 0.05,
    "negative": -0.05,
    "very_negative": -0.4,
    "exclamations": 1.0,
}


def tone_levels(positivity: Any, exclamations: Any, emoji_count: Any, flattery: Any) -> np.ndarray:
    """Tone level per answer (index into :data:`TONE_LEVELS`) from its offline tone signals.

    very positive: positivity >= 0.5, or >= 0.2 with an enthusiasm marker (>= 1 exclamation per 100 words,
    an emoji, or flattery of the user); positive: >= 0.05; very negative: <= -0.4; negative: <= -0.05;
    else neutral. Arrays in, an int array out.
    """
    pos = np.asarray(positivity, dtype=np.float64)
    keen = (
        (np.asarray(exclamations, dtype=np.float64) >= TONE_CUTS["exclamations"])
        | (np.asarray(emoji_count, dtype=np.float64) >= 1)
        | (np.asarray(flattery, dtype=np.float64) > 0)
    )
    c = TONE_CUTS
    level = np.full(pos.shape, 2, dtype=np.int64)
    level[pos >= c["positive"]] = 3
    level[(pos >= c["very_positive"]) | ((pos >= c["enthusiastic"]) & keen)] = 4
    level[pos <= c["negative"]] = 1
    level[pos <= c["very_negative"]] = 0
    return level


def needs_text(name: str) -> bool:
    """Whether a feature can only come from response texts (not from a battle's ``meta_*`` counts)."""
    if name in DERIVED_BY_NAME:
        d = DERIVED_BY_NAME[name]
        return not d.meta or any(i not in FEATURE_SETS["lmarena"] for i in d.inputs)
    return name not in FEATURE_SETS["lmarena"]


def base_features(names: list[str]) -> list[str]:
    """The per-response features behind ``names`` (derived ones replaced by their inputs), in order."""
    out: list[str] = []
    for n in names:
        for i in DERIVED_BY_NAME[n].inputs if n in DERIVED_BY_NAME else (n,):
            if i not in out:
                out.append(i)
    return out


def resolve_features(spec: str | list[str] | tuple[str, ...] | None = "lmarena") -> list[str]:
    """Turn a feature spec into an ordered list of feature names.

    Accepts a named set (``"lmarena"``, ``"style"``, ``"full"``, or a family name such as ``"refusal"``), a comma-separated
    string mixing sets and names (``"lmarena,emoji_count"``), or a list of those. Duplicates are dropped, first
    occurrence wins. Unknown names raise :class:`UsageError` listing every unknown name and the valid choices,
    so a typo never silently shrinks the model.
    """
    if spec is None:
        spec = "lmarena"
    # A list names features: "flattery"/"refusal" are both a feature and a family, and a resolved list passed
    # back in must stay the same list. A string spec (CLI) reads such a name as the family.
    as_list = not isinstance(spec, str)
    items = spec.split(",") if isinstance(spec, str) else [str(s) for s in spec]
    out: list[str] = []
    unknown: list[str] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        known = item in FEATURE_BY_NAME or item in DERIVED_BY_NAME
        if as_list and known:
            names: tuple[str, ...] | None = (item,)
        else:
            names = FEATURE_SETS.get(item) or ((item,) if known else None)
        if names is None:
            unknown.append(item)
            continue
        for n in names:
            if n not in out:
                out.append(n)
    if unknown:
        raise UsageError(
            f"unknown feature(s): {', '.join(repr(u) for u in unknown)}. Valid sets: "
            f"{', '.join(FEATURE_SETS)}; valid features: {', '.join([*FEATURE_BY_NAME, *DERIVED_BY_NAME])}"
        )
    if not out:
        raise UsageError("no features selected: give a set name (lmarena, full) or feature names")
    return out


def resolve_spec(spec: Any, has_text: bool) -> tuple[list[str], str | None]:
    """What a feature request means for these battles: ``(feature names, the named set or None)``.

    ``"auto"`` is ``"style"`` (one feature per style concept) when every battle has both response texts and
    ``"lmarena"`` when the data is metadata-only (LMArena's ``conv_metadata`` counts are all there is).
    ``"full"`` is available but holds near-duplicates (chars/words/tokens, refusal flag/score) whose effects
    split between them. ``None`` or an empty list means no style control: ``([], None)``. The second value
    names the set, family or feature a plain string asked for; a comma list or a list of names has none.
    """
    if spec is None or (isinstance(spec, list | tuple) and not spec):
        return [], None
    if isinstance(spec, str) and spec == "auto":
        spec = "style" if has_text else "lmarena"
    named = spec if isinstance(spec, str) and "," not in spec else None
    return resolve_features(spec if isinstance(spec, str) else list(spec)), named


def families_for(features: list[str]) -> list[str]:
    """Families that must run to produce ``features`` (in computation order)."""
    needed = {FEATURE_BY_NAME[f].family for f in base_features(features)}
    return [fam for fam in FAMILIES if fam in needed]
