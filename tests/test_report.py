"""The HTML report: escaping of everything that came from data, self-containment, numbers that match the
library, and the ``stylebias report`` command."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from stylebias.report import build_report, render_html, write_report
from stylebias.report.markup import Markup, el, h
from stylebias.report.svg import figure_svg, nice_ticks
from stylebias.rows import validate_battles
from tests._cli import run

EVIL_MODEL = "<script>alert(1)</script>"
EVIL_QUOTES = "q\"u'o&te <b>bold</b>"
EVIL_PROMPT = "<img src=x onerror=alert(1)> \"'&"
EVIL_JUDGE = "<iframe src=//evil>"
EVIL_FEATURE = "<svg onload=alert(1)>"
EVIL_ANSWER = "</script><script>alert(2)</script><details open ontoggle=alert(3)>"
#: Long enough to be cut in the example battles (and the note saying so).
LONG_ANSWER = "<b>" + "very long answer " * 100

#: Every element the report may contain; anything else (img, script, iframe, link, ...) came from data.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "nav", "main", "footer", "section", "div",
    "span", "h1", "h2", "h3", "h4", "p", "a", "strong", "code", "table", "thead", "tbody", "tr", "th", "td",
    "label", "input", "script",
    "ul", "li", "details", "summary", "svg", "g", "desc", "line", "rect", "circle", "text", "path", "defs", "clippath", "use",
    "polyline", "polygon", "tspan", "lineargradient", "stop", "image",
}  # fmt: skip


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def our_script_only(page: str) -> str:
    """The page without its one inline script, after checking that it is exactly the package's constant
    and that the Content-Security-Policy allows it by hash and nothing else."""
    from stylebias.report.script import SCRIPT, script_hash

    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S | re.I)
    assert scripts == [SCRIPT]
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1)
    assert csp.startswith("default-src &#x27;none&#x27;; ")
    assert f"script-src {script_hash(scripts[0])};".replace("'", "&#x27;") in csp
    return page.replace(f"<script>{SCRIPT}</script>", "")


def parse(page: str) -> TagCollector:
    p = TagCollector()
    p.feed(page)
    p.close()
    return p


def hostile_battles(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Four models (two with hostile names), a hostile prompt and judge, and one invalid row."""
    rng = np.random.default_rng(seed)
    models = [EVIL_MODEL, EVIL_QUOTES, "plain-model", "other-model"]
    strength = {m: s for m, s in zip(models, [0.8, 0.2, -0.3, -0.7], strict=True)}
    rows = []
    for i in range(n):
        a, b = rng.choice(4, size=2, replace=False)
        p = 1 / (1 + np.exp(-(strength[models[a]] - strength[models[b]])))
        winner = "model_a" if rng.random() < p else "model_b"
        rows.append(
            {
                "battle_id": f"b{i}",
                "model_a": models[a],
                "model_b": models[b],
                "prompt": EVIL_PROMPT,
                "response_a": EVIL_ANSWER + "x" * int(rng.integers(5, 50)) if i % 3 else LONG_ANSWER,
                "response_b": "y" * int(rng.integers(5, 50)),
                "winner": winner,
                "judge": EVIL_JUDGE,
            }
        )
    rows.append({**rows[0], "battle_id": "bad", "winner": "<script>bad()</script>"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def hostile_report():
    df = hostile_battles()
    data = validate_battles(df)
    rng = np.random.default_rng(1)
    feats = pd.DataFrame(
        {EVIL_FEATURE: rng.normal(size=len(data.battles)), "tokens": rng.normal(size=len(data.battles))}
    )
    report = build_report(data, features=feats, explain=False, title="Report for <script>x</script>")
    return data, report, render_html(report)


def test_markup_helpers_escape_by_default():
    assert h(EVIL_MODEL) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert h("\"'&") == "&quot;&#x27;&amp;"
    assert el("td", EVIL_MODEL, title=EVIL_QUOTES) == (
        '<td title="q&quot;u&#x27;o&amp;te &lt;b&gt;bold&lt;/b&gt;">&lt;script&gt;alert(1)&lt;/script&gt;</td>'
    )
    assert el("p", Markup("<b>ok</b>")) == "<p><b>ok</b></p>"  # trusted markup passes
    assert h("a\x00b\x1bc") == "a\ufffdb\ufffdc"  # control characters cannot break the parser
    assert h(None) == ""


def test_every_data_string_is_escaped(hostile_report):
    data, report, page = hostile_report
    page = our_script_only(page)
    low = page.lower()
    assert "<script" not in low and "<img" not in low and "<iframe" not in low and "<svg onload" not in low
    parsed = parse(page)
    assert set(parsed.tags) <= ALLOWED_TAGS, set(parsed.tags) - ALLOWED_TAGS
    assert not [name for name, _ in parsed.attrs if name.startswith("on")]
    text = "".join(parsed.text)
    # the hostile strings are shown to the reader as text
    for s in (
        EVIL_MODEL,
        EVIL_QUOTES,
        EVIL_JUDGE,
        EVIL_FEATURE,
        EVIL_PROMPT,
        EVIL_ANSWER,
        "<DataFrame>",
        "Report for <script>x</script>",
    ):
        assert s in text, s
    assert "ontoggle" not in [name for name, _ in parsed.attrs]
    # and the rejected row's reason (which quotes the bad label) is there, escaped
    assert data.rejected == 1 and "&lt;script&gt;bad()&lt;/script&gt;" in page


def test_svg_fragments_are_well_formed_xml(hostile_report):
    _, _, page = hostile_report
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    assert len(svgs) >= 3 + 4  # forest, slope, effects + one small chart per model card
    names = set()
    for s in svgs:
        root = ET.fromstring(s)
        names |= {t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text}
    assert any(EVIL_MODEL in n for n in names)
    assert EVIL_FEATURE in names


def test_page_is_self_contained(hostile_report):
    assert_self_contained(hostile_report[2])


def assert_self_contained(page: str) -> None:
    """No stylesheet links, imports or fetched URLs; references are fragments or inline data URIs."""
    page = our_script_only(page)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"@import|url\((?!#)", page, re.I)  # url(#clip) is a reference inside the page
    for name, value in parse(page).attrs:
        if name in ("src", "href", "xlink:href", "action", "poster", "srcset"):
            assert value is not None and value.startswith(("#", "data:image/png;base64,")), (name, value[:80])
    # the only absolute URLs are the SVG/XLink namespace names (identifiers, never fetched)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_numbers_match_the_library(hostile_report):
    data, report, page = hostile_report
    acc = data.accounting()
    m = re.search(r'<table class="files" id="accounting">.*?</table>', page, re.S)
    assert m
    total = re.findall(r"<td[^>]*>([^<]*)</td>", m.group(0).split("total")[-1])
    assert [int(x.replace(",", "")) for x in total if x.strip()] == [
        acc["read"],
        acc["accepted"],
        acc["rejected"],
    ]
    result = report.rank
    board = re.search(r'<table class="leaderboard sortable">.*?</table>', page, re.S).group(0)
    for r in result.models.to_dict("records"):
        assert h(r["model"]) in board
        assert f"{r['rating']:,.1f}" in board and f"{r['rating_raw']:,.1f}" in board
    # every model has a card, and cards agree with the fit
    assert [c.model for c in report.cards] == list(result.models["model"])
    for c in report.cards:
        assert 0 <= c.observed <= 1 and 0 <= c.neutral <= 1


def test_card_scores_are_the_bradley_terry_quantities():
    """Observed score = share of the vote; style-neutral = mean model probability with identical styles."""
    df = hostile_battles(300, seed=3)
    data = validate_battles(df)
    report = build_report(data, features=None, explain=False)  # no style: neutral = fitted probabilities
    b = data.battles
    est = report.rank.controlled
    for card in report.cards:
        as_a, as_b = b["model_a"] == card.model, b["model_b"] == card.model
        obs = (b.loc[as_a, "pref_a"].sum() + (1 - b.loc[as_b, "pref_a"]).sum()) / (as_a.sum() + as_b.sum())
        assert card.observed == pytest.approx(obs)
        pa = est.predict_proba(b.loc[as_a, "model_a"], b.loc[as_a, "model_b"])[:, 0]
        pb = est.predict_proba(b.loc[as_b, "model_a"], b.loc[as_b, "model_b"])[:, 2]
        assert card.neutral == pytest.approx((pa.sum() + pb.sum()) / (len(pa) + len(pb)))
        assert card.families == []
    page = render_html(report)
    assert "No style features in this fit, so no Δ" in page and "Δ raw − ctrl" not in page


def test_split_graph_gets_one_table_per_component():
    df = hostile_battles(200, seed=5)
    other = df.assign(
        model_a=df["model_a"].map(lambda m: f"z-{m}"), model_b=df["model_b"].map(lambda m: f"z-{m}")
    )
    data = validate_battles(pd.concat([df, other], ignore_index=True))
    page = render_html(build_report(data, features=None, explain=False))
    assert page.count('<table class="leaderboard sortable">') == 2
    assert "2 disconnected components" in page and "Component 2 of 2" in page


def test_write_is_atomic_and_leaves_no_temp_files(hostile_report, tmp_path, monkeypatch):
    _, report, page = hostile_report
    out = tmp_path / "sub" / "r.html"
    write_report(report, out)
    assert out.read_text(encoding="utf-8") == page
    # a failing render leaves the previous file untouched and no temporary file behind
    import stylebias.report.html as mod

    def boom(_):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mod, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_report(report, out)
    assert out.read_text(encoding="utf-8") == page
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]


def test_nice_ticks_cover_the_range():
    t = nice_ticks(583.0, 1636.0)
    assert t[0] <= 583 and t[-1] >= 1636 and len(t) <= 8
    assert np.allclose(np.diff(t), t[1] - t[0])


def test_matplotlib_figures_embed_escaped():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.barh([EVIL_MODEL, EVIL_PROMPT], [1, 2])
    ax.set_title(EVIL_QUOTES)
    svg = figure_svg(fig, title="t")
    assert svg.startswith("<svg") and "<?xml" not in svg and "<script" not in svg.lower()
    ET.fromstring(svg)  # well-formed
    assert "&lt;script&gt;" in svg


def test_cli_writes_report_and_json(capsys, tmp_path):
    src = tmp_path / "votes.csv"
    hostile_battles(200, seed=7).to_csv(src, index=False)
    out = tmp_path / "r.html"
    js = tmp_path / "r.json"
    code, stdout, err = run(
        capsys, "report", str(src), "-o", str(out), "--features", "none", "--no-explain", "--json", str(js),
        "--title", "T <x>", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "wrote" in stdout and "r.html" in stdout and "kB" in stdout
    page = out.read_text(encoding="utf-8")
    assert "<title>T &lt;x&gt;</title>" in page and "<script" not in our_script_only(page).lower()
    import json

    doc = json.loads(js.read_text())
    assert doc["report"]["bytes"] == out.stat().st_size
    assert {m["model"] for m in doc["models"]} == {EVIL_MODEL, EVIL_QUOTES, "plain-model", "other-model"}


def test_cli_errors_have_exit_codes(capsys, tmp_path):
    code, _, err = run(capsys, "report", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "x.html"))
    assert code in (1, 2) and "missing.jsonl" in err
    assert not (tmp_path / "x.html").exists()
    code, _, _ = run(capsys, "report", "--ci", "nope", "--features", "none", "-o", str(tmp_path / "y.html"))
    assert code == 1


@pytest.mark.slow
def test_demo_report(capsys, tmp_path):
    """The embedded demo: every model appears, accounting matches, size is reasonable."""
    from stylebias import load_battles

    out = tmp_path / "demo.html"
    code, stdout, err = run(
        capsys, "report", "-o", str(out), "--features", "lmarena", "--no-explain", "--quiet"
    )
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 3 * 1024 * 1024
    data = load_battles()
    acc = data.accounting()
    assert (
        f"{acc['read']:,} records read, {acc['accepted']:,} accepted as battles, {acc['rejected']:,} rejected"
        in page
    )
    models = set(data.battles["model_a"]) | set(data.battles["model_b"])
    for m in models:  # every leaderboard row links to its model's card
        link = re.search(f'<td class="model"><a href="#(card-[0-9]+)">{re.escape(h(m))}</a></td>', page)
        assert link, m
        assert re.search(
            f'<details class="card" id="{link.group(1)}" data-model="{re.escape(h(m))}"><summary><h4>', page
        )
    assert page.count('<table class="leaderboard sortable">') == 2  # AlpacaEval and PandaLM share no model
    assert_cards_agree_with_delta(page, len(models))
    assert page.count('<details class="example">') == 3 * len(models)  # three example battles per model


def test_explain_seam_embeds_shap_and_sentences(monkeypatch):
    """With an explain module present, the SHAP figure and per-model sentences land in the page, escaped."""
    import sys
    import types

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import stylebias

    calls = {}

    class FakeResult:
        def model_sentence(self, model: str) -> str:
            return f'{model} won because <b>length</b> & "style"'

    def explain_battles(data, features=None, **kw):
        calls["n"] = len(data.battles)
        result = FakeResult()
        n = len(data.battles)
        result.battles = data.battles[["model_a", "model_b", "pref_a"]].reset_index(drop=True)
        result.p_neutral = np.full(n, 0.5)
        result.p = 0.5 + np.linspace(-0.3, 0.3, n)  # the vote model's per-battle numbers
        return result

    def shap_beeswarm(result):
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.scatter([0.1, -0.2], [0, 1])
        ax.set_yticks([0, 1], [EVIL_FEATURE, "tokens"])
        return fig

    plots = types.ModuleType("stylebias.explain.plots")
    plots.shap_beeswarm = shap_beeswarm
    fake = types.ModuleType("stylebias.explain")
    fake.explain_battles = explain_battles
    fake.plots = plots
    monkeypatch.setitem(sys.modules, "stylebias.explain", fake)
    monkeypatch.setitem(sys.modules, "stylebias.explain.plots", plots)
    monkeypatch.setattr(stylebias, "explain", fake, raising=False)

    data = validate_battles(hostile_battles(200, seed=9))
    feats = pd.DataFrame({"tokens": np.random.default_rng(0).normal(size=len(data.battles))})
    report = build_report(data, features=feats, explain=True)
    page = render_html(report)
    assert calls["n"] == len(data.battles)
    assert report.shap_svg and report.explain_note is None
    assert "SHAP summary of the vote model" in page
    assert "&lt;svg onload=alert(1)&gt;" in page and "<svg onload" not in page
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; won because &lt;b&gt;length&lt;/b&gt; &amp; &quot;style&quot;"
        in page
    )
    assert set(parse(page).tags) <= ALLOWED_TAGS
    # example battles come from the vote model's per-battle numbers when it ran
    move = np.linspace(-0.3, 0.3, len(data.battles))
    b = data.battles.reset_index(drop=True)
    for card in report.cards:
        mine = ((b["model_a"] == card.model) | (b["model_b"] == card.model)).to_numpy()
        assert [abs(e["move"]) for e in card.examples] == pytest.approx(sorted(np.abs(move[mine]))[::-1][:3])
        assert {e["source"] for e in card.examples} == {"vote model"}
    assert "battles where style moved its vote most (vote model)" in page


def test_explain_failure_leaves_a_note(monkeypatch):
    import sys
    import types

    import stylebias

    def explain_battles(data, features=None, **kw):
        raise ValueError("too few <battles>")

    fake = types.ModuleType("stylebias.explain")
    fake.explain_battles = explain_battles
    monkeypatch.setitem(sys.modules, "stylebias.explain", fake)
    monkeypatch.setattr(stylebias, "explain", fake, raising=False)
    data = validate_battles(hostile_battles(200, seed=9))
    feats = pd.DataFrame({"tokens": np.random.default_rng(0).normal(size=len(data.battles))})
    with pytest.warns(stylebias.StyleBiasWarning, match="SHAP explanations failed"):
        report = build_report(data, features=feats, explain=True)
    page = render_html(report)
    assert "SHAP explanations failed on this data: too few &lt;battles&gt;" in page
    assert len(report.cards) == 4


def test_metadata_only_bootstrap_report(capsys, tmp_path):
    """An LMArena-shaped metadata-only file (no texts): lmarena features from conv_metadata, bootstrap CIs."""
    from tests.test_rank_cli import write_meta_jsonl

    src = write_meta_jsonl(tmp_path / "meta.jsonl", n=1500)
    out = tmp_path / "meta.html"
    code, _, err = run(
        capsys,
        "report",
        str(src),
        "-o",
        str(out),
        "--ci",
        "bootstrap",
        "--rounds",
        "20",
        "--jobs",
        "1",
        "--quiet",
    )
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    for feature in ("tokens", "header_count", "list_count", "bold_count"):
        assert f'<td class="model">{feature}</td>' in page
    assert "bootstrap (95%), 20 rounds, seed 0" in page
    assert "(85 more) · " in page  # 97 judges: the top 12 as tags, then the rest summed
    assert "<h4>=echo</h4>" in page
    # the real explain module ran (LightGBM + SHAP): beeswarm embedded, vote-model view on every card
    assert "SHAP summary of the vote model" in page and page.count("neutral · vote model</span>") == 5
    assert "Win-rate points per style group" in page
    # the vote model's sentence is labelled as the different quantity it is (win rates, not Δ)
    assert (
        page.count(
            "<strong>Vote model</strong> (win rates and win-rate points against no style difference; a different quantity from Δ)"
        )
        == 5
    )
    assert "No example answers: these battles carry no answer texts" in page
    assert '<table class="scores">' in page and "length-only logistic" in page  # held-out scores vs baselines
    assert_self_contained(page)
    assert set(parse(page).tags) <= ALLOWED_TAGS


# ---------------------------------------------------------------------------------------------------- Δ
class RowsAndCards(HTMLParser):
    """Leaderboard rows (model -> cell texts and sort keys) and cards (model -> gain sentence, summary)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, list[tuple[str | None, str]]] = {}
        self.gain: dict[str, str] = {}
        self.summary: dict[str, str] = {}
        self._row: str | None = None
        self._cell: list[str] | None = None
        self._card: str | None = None
        self._grab: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-model" in a:
            self._row = a["data-model"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self.rows[self._row].append((a.get("data-v"), ""))
        elif tag == "details" and a.get("class") == "card":
            self._card = a["data-model"]
        elif self._card is not None and tag == "p" and a.get("class") == "gain":
            self._grab, self.gain[self._card] = "gain", ""
        elif self._card is not None and tag == "summary" and self._card not in self.summary:
            self._grab, self.summary[self._card] = "summary", ""

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None
        if (tag == "p" and self._grab == "gain") or (tag == "summary" and self._grab == "summary"):
            self._grab = None

    def handle_data(self, data):
        if self._row is not None and self.rows[self._row]:
            key, text = self.rows[self._row][-1]
            self.rows[self._row][-1] = (key, text + data)
        if self._grab == "gain":
            self.gain[self._card] += data
        elif self._grab == "summary":
            self.summary[self._card] += data


DELTA_COLUMN = 6  # rank, model, battles, raw, raw rank, controlled, then Δ


def assert_cards_agree_with_delta(page: str, n_models: int) -> dict[str, float]:
    """Every card's "style bought/cost" sentence and summary line say the leaderboard's Δ: same sign, same
    size, same model; nothing else on the page claims what style added or took. Returns model -> Δ."""
    board = re.search(r'<section id="leaderboard">.*?</section>', page, re.S).group(0)
    rows = RowsAndCards()
    rows.feed(board)
    cards = RowsAndCards()
    cards.feed(re.search(r'<section id="cards">.*?</section>', page, re.S).group(0))
    assert len(rows.rows) == len(cards.gain) == n_models
    out = {}
    for model, cells in rows.rows.items():
        key, text = cells[DELTA_COLUMN]
        shown = text.split("to")[0].strip()
        shown = re.match(r"[+-][0-9,.]+", shown).group(0)  # "+333.3" then its interval "+310 to +356"
        delta = float(shown.replace(",", ""))
        assert abs(float(key) - delta) <= 0.05 + 1e-9, (model, key, shown)
        sentence = cards.gain[model]
        m = re.fullmatch(
            r"Style (bought|cost) (.+) ([0-9,]+\.[0-9]) Elo .*= ([+-][0-9,]+\.[0-9])\.", sentence
        )
        assert m, sentence
        assert m.group(2) == model
        assert (m.group(1) == "bought") == (not shown.startswith("-")), (sentence, shown)
        assert float(m.group(3).replace(",", "")) == abs(delta) and m.group(4) == shown, (sentence, shown)
        assert f"Δ {shown} Elo" in cards.summary[model], cards.summary[model]
        out[model] = delta
    low = page.lower()
    assert "style added" not in low and "style took" not in low
    return out


def test_leaderboard_and_cards_show_one_delta(hostile_report):
    """The Δ column is rating/gain.py's style_gain, interval included; every card says the same number."""
    _, report, page = hostile_report
    deltas = assert_cards_agree_with_delta(page, len(report.rank.models))
    for r in report.rank.models.to_dict("records"):
        assert deltas[r["model"]] == round(r["style_gain"], 1)
        assert f"{r['style_gain_low']:+.0f} to {r['style_gain_high']:+.0f}" in page
        assert np.isclose(r["style_gain"], r["rating_raw"] - r["rating"])
    assert report.rank.reference_text() in page  # the caption names where Δ's zero is


def test_effects_table_shows_support_and_too_few(hostile_report):
    """Support columns from rating/support.py; a feature on too few battles gets "too few battles to tell"."""
    from stylebias.rating.support import TOO_FEW

    df = hostile_battles(400, seed=2)
    data = validate_battles(df)
    n = len(data.battles)
    rare = np.zeros(n)
    rare[:12] = 1.0  # 12 battles differ in it: below the minimum whatever the interval
    feats = pd.DataFrame({"tokens": np.random.default_rng(0).normal(size=n), "rare": rare})
    report = build_report(data, features=feats, explain=False)
    page = render_html(report)
    table_ = re.search(r'<table class="effects sortable">.*?</table>', page, re.S).group(0)
    assert "battles differing" in table_ and "prompts" in table_
    f = report.rank.features.set_index("name")
    assert f.at["rare", "battles_nonzero"] == 12 and f.at["rare", "verdict"] == TOO_FEW
    row = re.search(r'<tr><td class="model">rare</td>.*?</tr>', table_, re.S).group(0)
    assert TOO_FEW in row and '<td class="n" data-v="12.0">12</td>' in row
    assert f"{f.at['tokens', 'battles_nonzero']:,.0f}" in table_


def test_example_battles_are_where_style_moved_the_vote_most(hostile_report):
    """The fallback (no vote model): BT's P(win) with the answers' style minus with identical style, largest
    |change| per model; prompt and answers escaped, long ones cut with a note."""
    from stylebias.report.examples import MAX_CHARS, PER_MODEL

    data, report, page = hostile_report
    est = report.rank.controlled
    b = data.battles.reset_index(drop=True)
    rng = np.random.default_rng(1)  # the features of the fixture
    X = pd.DataFrame({EVIL_FEATURE: rng.normal(size=len(b)), "tokens": rng.normal(size=len(b))})
    with_style = est.predict_proba(b["model_a"], b["model_b"], X)[:, 0]
    same_style = est.predict_proba(b["model_a"], b["model_b"], X * 0.0)[:, 0]  # raw pair features 0
    move = with_style - same_style
    for card in report.cards:
        mine = ((b["model_a"] == card.model) | (b["model_b"] == card.model)).to_numpy()
        expected = sorted(np.abs(move[mine]), reverse=True)[:PER_MODEL]
        assert [abs(e["move"]) for e in card.examples] == pytest.approx(expected)
        for e in card.examples:
            assert 0 <= e["p"] <= 1 and 0 <= e["p_neutral"] <= 1
            assert e["move"] == pytest.approx(e["p"] - e["p_neutral"])
            assert e["source"] == "Bradley-Terry + style"
    assert page.count('<details class="example">') == PER_MODEL * len(report.cards)
    assert f"first {MAX_CHARS:,} of {len(LONG_ANSWER):,} characters shown" in page
    assert h(LONG_ANSWER[:MAX_CHARS]) in page and h(LONG_ANSWER) not in page


def test_by_group_panels(capsys, tmp_path):
    """--by: one folded panel per group with its own leaderboard (rows linked to the cards) and effects."""
    df = hostile_battles(400, seed=4)
    df["judge"] = [EVIL_JUDGE if i % 2 else "judge-2" for i in range(len(df))]
    data = validate_battles(df)
    feats = pd.DataFrame({"tokens": np.random.default_rng(0).normal(size=len(data.battles))})
    report = build_report(data, features=feats, explain=False, by="judge")
    page = render_html(report)
    section = re.search(r'<section id="groups">.*?</section>', page, re.S).group(0)
    assert section.count('<details class="group">') == 2
    assert f"judge = {h(EVIL_JUDGE)}" in section and "judge = judge-2" in section
    ids = set(re.findall(r'<details class="card" id="(card-[0-9]+)"', page))
    links = set(re.findall(r'<a href="#(card-[0-9]+)">', section))
    assert links and links <= ids
    assert '<a href="#groups">By group</a>' in page
    code, _, err = run(
        capsys, "report", str(tmp_path / "x.csv"), "--by", "nope", "-o", str(tmp_path / "n.html")
    )
    assert code in (1, 2)
    src = tmp_path / "v.csv"
    df.to_csv(src, index=False)
    code, _, err = run(
        capsys,
        "report",
        str(src),
        "--by",
        "nope",
        "--features",
        "none",
        "--no-explain",
        "-o",
        str(tmp_path / "n.html"),
    )
    assert code == 1 and "--by: no column 'nope'" in err
