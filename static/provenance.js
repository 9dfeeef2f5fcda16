/* Where each number came from (templates/components/_provenance.html): focusing or pointing
   at an output cell highlights the input cells it came from (for mm: the row and the column)
   and writes its source, and an mm cell's sum, into the live line below the grid. Output
   cells are one tab stop (a roving tabindex); the arrow keys move between them. */
(function () {
  "use strict";

  function setUp(root) {
    if (root.dataset.ready) { return; }
    root.dataset.ready = "1";
    var cells = Array.prototype.slice.call(root.querySelectorAll("td[data-pv-from]"));
    var explain = root.querySelector("[data-pv-explain]");
    var hint = root.querySelector("[data-pv-hint]");
    if (!cells.length) { return; }
    var lit = [];
    var current = null;

    function clear() {
      lit.forEach(function (cell) { cell.classList.remove("pv-hit"); });
      lit = [];
      if (current) { current.classList.remove("pv-focus"); }
    }

    function show(cell) {
      clear();
      current = cell;
      cell.classList.add("pv-focus");
      (cell.dataset.pvFrom || "").split(" ").forEach(function (id) {
        var source = id && document.getElementById(id);
        if (source) { source.classList.add("pv-hit"); lit.push(source); }
      });
      var text = cell.dataset.pvSource || "";
      if (cell.dataset.pvDetail) { text += ": " + cell.dataset.pvDetail; }
      explain.textContent = text;
    }

    function rows() {
      // The cells grouped by table row, so Up and Down keep the column.
      var byRow = [];
      root.querySelectorAll(".pv-output tbody tr").forEach(function (tr) {
        byRow.push(Array.prototype.slice.call(tr.querySelectorAll("td[data-pv-from]")));
      });
      return byRow;
    }

    cells.forEach(function (cell, i) {
      cell.tabIndex = i === 0 ? 0 : -1;
      cell.addEventListener("focus", function () {
        // Roving tabindex: the focused cell is the one Tab returns to.
        cells.forEach(function (other) { other.tabIndex = other === cell ? 0 : -1; });
        show(cell);
      });
      cell.addEventListener("mouseenter", function () { show(cell); });
      cell.addEventListener("keydown", function (event) {
        var grid = rows();
        var r = -1, c = -1;
        grid.forEach(function (row, ri) { var ci = row.indexOf(cell); if (ci >= 0) { r = ri; c = ci; } });
        var target = null;
        if (event.key === "ArrowRight") { target = grid[r][c + 1]; }
        else if (event.key === "ArrowLeft") { target = grid[r][c - 1]; }
        else if (event.key === "ArrowDown") { target = grid[r + 1] && grid[r + 1][Math.min(c, grid[r + 1].length - 1)]; }
        else if (event.key === "ArrowUp") { target = grid[r - 1] && grid[r - 1][Math.min(c, grid[r - 1].length - 1)]; }
        else { return; }
        event.preventDefault();
        if (target) { target.focus(); }
      });
    });
    if (hint) { hint.hidden = false; }
  }

  function enhance(scope) {
    scope.querySelectorAll("[data-provenance]").forEach(setUp);
  }

  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
