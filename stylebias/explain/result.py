"""``ExplainResult``: the per-model story (win rates, points, intervals, the BT view) and its words and JSON.

One definition is used everywhere: a model's **style-neutral** win rate is its expected share of the vote in
its own battles (same opponents, same screen sides) if both answers had the same value of every style pair
feature, i.e. every pair feature set to 0, under the fitted model. The vote model and the Bradley-Terry view
both report it, with an interval, and so answer the same question (``docs/methods.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..outputs import plain
from .cv import CVReport
from .design import GROUP_WORDS
from .votemodel import VoteModel

#: numbers of the ``--json`` document, rounded like every other command's
_clean = partial(plain, digits=6)


def _finite(*vals: Any) -> bool:
    return all(v is not None and isinstance(v, int | float | np.floating) and math.isfinite(v) for v in vals)


def fmt_points(v: float) -> str:
    """Points with one decimal below 10, none above ("0.4", "3.2", "14")."""
    return f"{v:.1f}" if abs(v) < 9.95 else f"{v:.0f}"


def fmt_signed(v: float) -> str:
    """ "+1.2", "-0.4"; values that round to 0 print as "+0.0" (never "-0.0")."""
    return "+0.0" if abs(v) < 0.05 else f"{v:+.1f}"


def fmt_pct(v: float) -> str:
    return f"{100 * v:.0f}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


#: What the agreement check calls a status (see :meth:`ExplainResult.model_notes`).
AGREEMENT = ("agree", "weaker", "disagree")
#: A same-sign but weaker vote-model effect gets a note only from this many BT points on (disagreements always).
NOTE_POINTS = 0.5


@dataclass
class ExplainResult:
    """Everything ``stylebias explain`` shows; tables are DataFrames, ``to_json()`` is the ``--json`` document.

    * ``models``: one row per model — ``battles, observed, predicted, neutral`` (win rates in [0, 1], ties
      half, from the model's side), ``style_points`` (= 100 (predicted - neutral)), ``mover`` (= 100 |observed
      - neutral|); with intervals ``neutral_low/high``, ``predicted_low/high``, ``style_points_low/high``;
      the Bradley-Terry view under the same definition ``predicted_bt``, ``neutral_bt``, ``neutral_bt_low/high``;
      and ``rating_raw``, ``rating``, ``bt_shift`` (raw - controlled Elo: the ranking's ``style_gain``, the
      leaderboard's Δ) when the BT view ran. Everything else here is in win rates and win-rate points against
      *no* style difference: a different quantity from Δ (Elo, relative to the average model or the anchor),
      so the two need not agree in sign.
    * ``group_points``: index model, one column per style group, win-rate points bought (+) or cost (-);
      rows add up to ``style_points`` exactly. ``group_points_low`` / ``group_points_high``: its interval
      (``None`` without intervals). (``family_points`` is the same table.)
    * ``bt_points`` (+ ``bt_points_low`` / ``bt_points_high``): the same split from the BT fit, same scale.
    * ``agreement``: one row per (model, group) where the BT view's interval excludes 0: both views' points
      and intervals, ``status`` (``agree`` / ``weaker`` / ``disagree``) and ``reason``.
    * ``feature_shap``: index model, mean log-odds contribution per feature from the model's side.
    * ``bt_contributions``: index model, Elo points per feature (gamma_k x mean z_k on its side).
    * ``features``: one row per feature: group, mean |contribution|, mean (A's side), BT coefficient.
    * ``cv``: nested held-out scores of the vote model and baselines (``None`` when a saved model was reused).
    """

    models: pd.DataFrame
    group_points: pd.DataFrame
    feature_shap: pd.DataFrame
    bt_contributions: pd.DataFrame
    features: pd.DataFrame
    vote_model: VoteModel
    cv: CVReport | None
    battles: pd.DataFrame  # model_a, model_b, pref_a, prompt group id
    X: pd.DataFrame
    shap: np.ndarray
    group_phi: pd.DataFrame
    p: np.ndarray
    p_neutral: np.ndarray
    groups: dict[str, list[str]]
    rank: Any = None
    data: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    group_points_low: pd.DataFrame | None = None
    group_points_high: pd.DataFrame | None = None
    bt_points: pd.DataFrame | None = None
    bt_points_low: pd.DataFrame | None = None
    bt_points_high: pd.DataFrame | None = None
    agreement: pd.DataFrame = field(default_factory=pd.DataFrame)
    level: float = 0.95

    @property
    def family_points(self) -> pd.DataFrame:
        """Alias of ``group_points`` (the groups are the extractor's feature families, refined)."""
        return self.group_points

    @property
    def has_intervals(self) -> bool:
        return self.group_points_low is not None

    # ------------------------------------------------------------------------------------------------
    def top_movers(self, n: int = 5) -> list[str]:
        """Models with the largest |observed - style-neutral| win rate, largest first (ties by name)."""
        m = self.models.sort_values(["mover", "model"], ascending=[False, True], kind="stable")
        return [str(x) for x in m["model"].head(n)]

    def model_row(self, model: str) -> dict[str, Any]:
        rows = self.models[self.models["model"] == model]
        if not len(rows):
            close = [m for m in self.models["model"] if model.lower() in str(m).lower()]
            hint = f" (did you mean: {', '.join(close[:5])}?)" if close else ""
            raise UsageError(f"model {model!r} is not in these battles{hint}")
        return rows.iloc[0].to_dict()

    def point_interval(self, model: str, group: str) -> tuple[float, float]:
        if self.group_points_low is None or self.group_points_high is None:
            return (math.nan, math.nan)
        return (float(self.group_points_low.at[model, group]), float(self.group_points_high.at[model, group]))

    def groups_of(self, model: str) -> list[dict[str, Any]]:
        """Per style group: points, interval, whether the interval excludes 0, and the BT view's points."""
        out = []
        for g, v in self.group_points.loc[model].items():
            lo, hi = self.point_interval(model, str(g))
            row: dict[str, Any] = {
                "group": str(g),
                "words": GROUP_WORDS.get(str(g), str(g)),
                "points": float(v),
                "low": lo,
                "high": hi,
                "distinguishable": bool(_finite(lo, hi) and (lo > 0 or hi < 0)),
                "used": bool(self.vote_model.uses_group(self.groups.get(str(g), []))),
            }
            if self.bt_points is not None and model in self.bt_points.index:
                row["bt_points"] = float(self.bt_points.at[model, g])
                if self.bt_points_low is not None and self.bt_points_high is not None:
                    row["bt_low"] = float(self.bt_points_low.at[model, g])
                    row["bt_high"] = float(self.bt_points_high.at[model, g])
            out.append(row)
        return out

    # ------------------------------------------------------------------------------------------------
    def model_sentence(self, model: str, min_points: float = 0.5) -> str:
        """ "M won 64 % of its battles (vote model 62 %; style-neutral 55 %, 95 % CI 51-59); length bought 9
        points (95 % CI 6 to 12), emoji 3 (1 to 5); refusals cost 2 points (0.4 to 3.6); markdown not
        distinguishable from 0." Without intervals, groups under ``min_points`` are left out.

        "Bought" here is win-rate points against identical style (the vote model's style-neutral win rate),
        not the leaderboard's Δ = raw − controlled Elo; the report prints the sentence under that label."""
        r = self.model_row(model)
        pct = f"{round(100 * self.level)} %"
        neutral = f"style-neutral {fmt_pct(r['neutral'])} %"
        if _finite(r.get("neutral_low"), r.get("neutral_high")):
            neutral += f", {pct} CI {fmt_pct(r['neutral_low'])}–{fmt_pct(r['neutral_high'])}"
        head = f"{model} won {fmt_pct(r['observed'])} % of its battles (vote model {fmt_pct(r['predicted'])} %; {neutral})"
        rows = self.groups_of(model)
        bought, cost, unclear, tiny = [], [], [], []
        for g in rows:
            v = g["points"]
            if self.has_intervals and _finite(g["low"], g["high"]):
                if g["distinguishable"] and abs(v) < 0.05:  # real but prints as "0.0 (0.0 to 0.0)"
                    tiny.append(g)
                elif g["distinguishable"]:
                    (bought if v > 0 else cost).append(g)
                elif g["used"] and abs(v) >= 0.05:
                    unclear.append(g)
            elif abs(v) >= min_points:
                (bought if v > 0 else cost).append(g)
        bought.sort(key=lambda g: (-g["points"], g["group"]))
        cost.sort(key=lambda g: (g["points"], g["group"]))

        def words(items: list[dict[str, Any]], verb: str) -> str:
            out = []
            for i, g in enumerate(items):
                v = abs(g["points"])
                unit = " point" if fmt_points(v) in ("1", "1.0") else " points"
                text = (
                    f"{g['words']} {verb} {fmt_points(v)}{unit}"
                    if i == 0
                    else f"{g['words']} {fmt_points(v)}"
                )
                if _finite(g["low"], g["high"]):
                    lo, hi = sorted((abs(g["low"]), abs(g["high"])))
                    ci = f"{pct} CI " if i == 0 else ""
                    text += f" ({ci}{fmt_points(lo)} to {fmt_points(hi)})"
                out.append(text)
            return ", ".join(out)

        parts = [p for p in (words(bought, "bought"), words(cost, "cost")) if p]
        if unclear:
            parts.append(_join([g["words"] for g in unclear]) + " not distinguishable from 0")
        if tiny:
            parts.append(_join([g["words"] for g in tiny]) + " moved it by less than 0.05 points")
        if not parts:
            what = (
                "no style group's effect is distinguishable from 0"
                if self.has_intervals
                else (f"no style group moved it by {min_points:g} points or more")
            )
            return head + f"; {what}."
        return head + "; " + "; ".join(parts) + "."

    def model_notes(self, model: str) -> list[str]:
        """Plain sentences on where the vote model and the Bradley-Terry view differ for this model, and why."""
        notes: list[str] = []
        r = self.model_row(model)
        kind = self.vote_model.kind
        label = self.vote_model.candidate.get("label", kind)
        nb, lo, hi = r.get("neutral_bt"), r.get("neutral_bt_low"), r.get("neutral_bt_high")
        if _finite(nb):
            bt_ci = f" (CI {fmt_pct(lo)}–{fmt_pct(hi)})" if _finite(lo, hi) else ""
            vm_lo, vm_hi = r.get("neutral_low"), r.get("neutral_high")
            if kind in ("prior", "length_only"):
                notes.append(
                    f"The chosen vote model ({label}) has no model strengths: its style-neutral score is its "
                    f"intercept seen from the model's side (A or B), the same for every model on that side; "
                    f"Bradley-Terry + style, which rates each model, puts it at {fmt_pct(nb)} %{bt_ci}."
                )
            elif _finite(vm_lo, vm_hi, lo, hi) and (hi < vm_lo or lo > vm_hi):
                notes.append(
                    f"Bradley-Terry + style puts its style-neutral score at {fmt_pct(nb)} %{bt_ci}, outside the "
                    f"vote model's interval: the two fits penalise strengths and style differently (the vote "
                    f"model's penalties are chosen by grouped cross-validation)."
                )
        if len(self.agreement):
            rows = self.agreement[self.agreement["model"] == model]
            for a in rows.to_dict("records"):
                if a["status"] == "disagree" or (
                    a["status"] == "weaker" and abs(a["bt_points"]) >= NOTE_POINTS
                ):
                    notes.append(a["reason"])
        return notes

    def model_card(self, model: str) -> dict[str, Any]:
        """Everything a "why it won" card shows for one model, as plain data (used by the report).

        Keys: ``model, battles, observed, predicted, neutral, neutral_low, neutral_high, neutral_bt,
        neutral_bt_low, neutral_bt_high, style_points (+ _low/_high), groups`` (see :meth:`groups_of`),
        ``sentence``, ``notes`` (where BT and the vote model differ, and why), ``vote_model`` (the chosen
        candidate's label), ``level``.
        """
        r = self.model_row(model)
        keys = (
            "battles",
            "observed",
            "predicted",
            "neutral",
            "neutral_low",
            "neutral_high",
            "neutral_bt",
            "neutral_bt_low",
            "neutral_bt_high",
            "predicted_bt",
            "style_points",
            "style_points_low",
            "style_points_high",
        )
        card: dict[str, Any] = {"model": model}
        for k in keys:
            v = r.get(k, math.nan)
            card[k] = int(v) if k == "battles" else (float(v) if v is not None else math.nan)
        card.update(
            groups=self.groups_of(model),
            sentence=self.model_sentence(model),
            notes=self.model_notes(model),
            vote_model=self.vote_model.candidate.get("label", self.vote_model.kind),
            level=self.level,
        )
        return card

    def models_csv(self) -> tuple[list[str], list[list[Any]]]:
        """The ``--csv`` table (header, rows): one row per model, win rates with intervals, points per group
        with intervals, the BT view."""
        groups = list(self.group_points.columns)
        base = [
            "model",
            "battles",
            "observed",
            "predicted",
            "neutral",
            "neutral_low",
            "neutral_high",
            "style_points",
        ]
        bt_cols = ("neutral_bt", "neutral_bt_low", "neutral_bt_high", "rating_raw", "rating", "bt_shift")
        bt = [c for c in bt_cols if c in self.models.columns]
        header = base + [f"points_{g}{x}" for g in groups for x in ("", "_low", "_high")] + bt
        if self.bt_points is not None:
            header += [f"bt_points_{g}" for g in groups]
        rows = []
        for r in self.models.to_dict("records"):
            m = r["model"]
            cells: list[Any] = [r.get(c) for c in base]
            for g in groups:
                lo, hi = self.point_interval(m, g)
                cells += [float(self.group_points.at[m, g]), lo, hi]
            cells += [r.get(c) for c in bt]
            if self.bt_points is not None:
                cells += [float(self.bt_points.at[m, g]) for g in groups]
            rows.append(cells)
        return header, rows

    # ------------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """``{"vote_model": {...}, "models": {name: {...}}, "features": {name: {...}}, "groups", ...}``."""
        vm = dict(self.cv.vote_model_json()) if self.cv is not None else dict(self.vote_model.metrics)
        vm.update(
            {
                "reused_saved_model": self.cv is None,
                "rounds": self.vote_model.num_rounds,
                "offset": "bt_strength" if self.vote_model.use_strength else "intercept",
                "features": list(self.vote_model.features),
                "shown_model": self.vote_model.candidate.get("label", self.vote_model.kind),
                "coef_per_unit": {f: _clean(v) for f, v in self.vote_model.coef.items()},
            }
        )
        models: dict[str, Any] = {}
        for r in self.models.to_dict("records"):
            m = str(r["model"])
            card = self.model_card(m)
            entry: dict[str, Any] = {
                "battles": int(r["battles"]),
                "observed_winrate": _clean(r["observed"]),
                "predicted_winrate": _clean(r["predicted"]),
                "neutral_winrate": _clean(r["neutral"]),
                "neutral_winrate_ci": [_clean(r.get("neutral_low")), _clean(r.get("neutral_high"))],
                "style_points": _clean(r["style_points"]),
                "style_points_ci": [_clean(r.get("style_points_low")), _clean(r.get("style_points_high"))],
                "groups": {g["group"]: _clean(g["points"]) for g in card["groups"]},
                "groups_ci": {g["group"]: [_clean(g["low"]), _clean(g["high"])] for g in card["groups"]},
                "shap_log_odds": {f: _clean(v) for f, v in self.feature_shap.loc[m].items()},
                "sentence": card["sentence"],
                "notes": card["notes"],
            }
            if "rating" in r and r.get("rating") is not None and not pd.isna(r.get("rating")):
                bt = self.bt_contributions.loc[m] if m in self.bt_contributions.index else None
                entry["bradley_terry"] = {
                    "rating_raw": _clean(r["rating_raw"]),
                    "rating_controlled": _clean(r["rating"]),
                    "raw_minus_controlled": _clean(r["bt_shift"]),
                    "predicted_winrate": _clean(r.get("predicted_bt")),
                    "neutral_winrate": _clean(r.get("neutral_bt")),
                    "neutral_winrate_ci": [_clean(r.get("neutral_bt_low")), _clean(r.get("neutral_bt_high"))],
                    "groups": {g["group"]: _clean(g.get("bt_points")) for g in card["groups"]},
                    "groups_ci": {
                        g["group"]: [_clean(g.get("bt_low")), _clean(g.get("bt_high"))]
                        for g in card["groups"]
                    },
                    "style_elo": {} if bt is None else {f: _clean(v) for f, v in bt.items()},
                    "groups_elo": {}
                    if bt is None
                    else {g: _clean(sum(bt.get(f, 0.0) for f in fs)) for g, fs in self.groups.items()},
                }
            models[m] = entry
        features = {
            str(r["feature"]): {k: _clean(v) for k, v in r.items() if k != "feature"}
            for r in self.features.to_dict("records")
        }
        agreement = [{k: _clean(v) for k, v in a.items()} for a in self.agreement.to_dict("records")]
        return {
            "vote_model": vm,
            "models": models,
            "features": features,
            "groups": {g: list(fs) for g, fs in self.groups.items()},
            "agreement": agreement,
            "top_movers": self.top_movers(),
            "data": dict(self.data),
            "settings": dict(self.settings),
        }
