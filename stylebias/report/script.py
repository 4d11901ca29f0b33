"""The report's one inline script and the Content-Security-Policy that lets only it run.

The page stays one offline file: no script, style, font or image is ever fetched. The policy says so to the
browser (``default-src 'none'``), and allows exactly one script, this constant, by its SHA-256 hash. The
script never contains data (every name and answer is in the escaped HTML; the script reads the page), so its
hash is the same for every report and no data string can become code. What it adds, all optional: click a
table header to sort (numeric columns by the cell's ``data-v``), a model filter over the leaderboards, the
group panels and the cards, and opening the folded section that holds a linked card.
"""

from __future__ import annotations

import base64
import hashlib

from .markup import Markup

SCRIPT = Markup(
    r"""
(function () {
  "use strict";
  var each = function (list, f) { Array.prototype.forEach.call(list, f); };
  function value(row, col, numeric) {
    var cell = row.cells[col];
    if (!cell) { return numeric ? NaN : ""; }
    return numeric ? parseFloat(cell.getAttribute("data-v")) : cell.textContent.trim().toLowerCase();
  }
  function sortTable(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.length > 0 && rows.every(function (r) {
      return r.cells[col] && r.cells[col].hasAttribute("data-v");
    });
    var down = th.getAttribute("aria-sort") === "ascending";
    var keyed = rows.map(function (r, i) { return [value(r, col, numeric), i, r]; });
    keyed.sort(function (x, y) {
      var a = x[0], b = y[0], d;
      if (numeric) {
        if (isNaN(a) || isNaN(b)) { return isNaN(a) - isNaN(b) || x[1] - y[1]; }
        d = a - b;
      } else {
        d = a < b ? -1 : a > b ? 1 : 0;
      }
      return (down ? -d : d) || x[1] - y[1];
    });
    keyed.forEach(function (k) { body.appendChild(k[2]); });
    each(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", down ? "descending" : "ascending");
  }
  each(document.querySelectorAll("table.sortable"), function (table) {
    each(table.tHead.rows[0].cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.title = "sort by this column";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortTable(table, col, th); });
    });
  });

  var box = document.getElementById("model-filter");
  var count = document.getElementById("filter-count");
  function filter() {
    var q = box.value.trim().toLowerCase();
    var shown = 0, total = 0;
    each(document.querySelectorAll("[data-model]"), function (el) {
      var hit = q === "" || el.getAttribute("data-model").toLowerCase().indexOf(q) !== -1;
      el.hidden = !hit;
      if (el.classList.contains("card")) { total += 1; shown += hit ? 1 : 0; }
    });
    count.textContent = q === "" ? "" : shown + " of " + total + " models";
  }
  if (box) {
    box.closest(".filter").hidden = false;
    box.addEventListener("input", filter);
  }

  function reveal() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!target) { return; }
    for (var p = target; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; }
    }
    if (target.hidden && box) { box.value = ""; filter(); }
    target.scrollIntoView({block: "start"});
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
"""
)


def script_hash(script: str = SCRIPT) -> str:
    """The CSP source for ``script``: ``'sha256-<base64 of its UTF-8 bytes' SHA-256>'``."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


#: Nothing may be fetched or submitted; only the script above runs; inline CSS and the SHAP figure's
#: embedded PNG (a ``data:`` URI) are the page's own.
CSP = (
    f"default-src 'none'; script-src {script_hash()}; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
