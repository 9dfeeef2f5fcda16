// Lesson progress, kept in this browser only (localStorage): lessons visited and
// exercises solved. The server keeps no account; without this file the lessons still work,
// only the marks are missing. No inline script anywhere (the CSP forbids it).
"use strict";

(function () {
  var KEY = "torch-playground.lessons.v1";

  function load() {
    try {
      var data = JSON.parse(window.localStorage.getItem(KEY) || "{}");
      return {
        visited: (data && typeof data.visited === "object" && data.visited) || {},
        solved: (data && typeof data.solved === "object" && data.solved) || {}
      };
    } catch (e) {
      return { visited: {}, solved: {} };  // storage blocked or damaged: start afresh
    }
  }

  function save(progress) {
    try { window.localStorage.setItem(KEY, JSON.stringify(progress)); } catch (e) { /* full or blocked */ }
  }

  // The index: "visited" and "n of m exercises solved" under each lesson. The texts come
  // translated from the page (data-text-*), with {n} placeholders (plain text for gettext).
  function markIndex(root, progress) {
    var list = root.querySelector("[data-lesson-index]");
    if (!list) return;
    var visitedText = list.getAttribute("data-text-visited") || "visited";
    var solvedText = list.getAttribute("data-text-solved") || "{n} / {total}";
    list.querySelectorAll("[data-lesson]").forEach(function (item) {
      var id = item.getAttribute("data-lesson");
      var exercises = (item.getAttribute("data-exercises") || "").split(" ").filter(Boolean);
      var solved = exercises.filter(function (e) { return progress.solved[id + "/" + e]; }).length;
      var parts = [];
      if (progress.visited[id]) parts.push("✓ " + visitedText);
      if (solved > 0) {
        parts.push(solvedText.replace("{n}", String(solved)).replace("{total}", String(exercises.length)));
      }
      var mark = item.querySelector("[data-progress]");
      if (mark && parts.length) {
        mark.textContent = parts.join(" · ");
        mark.hidden = false;
        item.classList.toggle("is-done", exercises.length > 0 && solved === exercises.length);
        item.classList.add("is-visited");
      }
    });
  }

  function markSolved(root, progress) {
    root.querySelectorAll("[data-exercise]").forEach(function (section) {
      var mark = section.querySelector("[data-solved-mark]");
      if (mark) mark.hidden = !progress.solved[section.getAttribute("data-exercise")];
    });
  }

  function start() {
    var progress = load();
    var page = document.querySelector("[data-lesson-page]");
    if (page) {
      progress.visited[page.getAttribute("data-lesson-page")] = true;
      // A check answered as a whole page (a form post) carries its verdict in the page.
      document.querySelectorAll("[data-solved]").forEach(function (el) {
        progress.solved[el.getAttribute("data-solved")] = true;
      });
      save(progress);
    }
    markIndex(document, progress);
    markSolved(document, progress);
  }

  // A passed check comes back as a fragment carrying data-solved="lesson/exercise".
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt;
    if (!root || !root.querySelectorAll) return;
    var passed = root.matches && root.matches("[data-solved]") ? [root] : Array.prototype.slice.call(root.querySelectorAll("[data-solved]"));
    if (!passed.length) return;
    var progress = load();
    passed.forEach(function (el) { progress.solved[el.getAttribute("data-solved")] = true; });
    save(progress);
    markSolved(document, progress);
  });

  // "Reset to the starter code": put the starter back without reloading the page (the
  // link's own target, the lesson page, is the fallback without this script).
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("[data-reset]") : null;
    if (!link) return;
    var area = document.getElementById(link.getAttribute("data-reset"));
    if (!area) return;
    event.preventDefault();
    var starter = link.getAttribute("data-starter") || "";
    area.value = starter;
    var view = area.editorView;  // the code editor (editor.js), when it is there
    if (view) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: starter } });
      view.focus();
    } else {
      area.focus();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
