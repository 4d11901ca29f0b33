"""The feature catalogue: every per-response feature, its family, and how it becomes a pair feature.

One table drives everything downstream: :func:`resolve_features` validates user input against it, the batch
runner asks it which families to compute, and :func:`stylebias.extract.pair_features` asks it how to turn the
two sides of a battle into one antisymmetric number. Adding a feature means adding a row here and a column in
the family module that computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

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
        if as_list and item in FEATURE_BY_NAME:
            names: tuple[str, ...] | None = (item,)
        else:
            names = FEATURE_SETS.get(item) or ((item,) if item in FEATURE_BY_NAME else None)
        if names is None:
            unknown.append(item)
            continue
        for n in names:
            if n not in out:
                out.append(n)
    if unknown:
        raise UsageError(
            f"unknown feature(s): {', '.join(repr(u) for u in unknown)}. Valid sets: "
            f"{', '.join(FEATURE_SETS)}; valid features: {', '.join(FEATURE_BY_NAME)}"
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
    needed = {FEATURE_BY_NAME[f].family for f in features}
    return [fam for fam in FAMILIES if fam in needed]
