// Small progressive enhancements; every feature also works without this file.
// No inline handlers anywhere (the CSP forbids them): listeners are attached here.
"use strict";

(function () {
  // Ctrl+Enter / Cmd+Enter in a program box runs it. requestSubmit() fires the submit
  // event, so htmx sends it as a fragment request (or the browser posts the form).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (event.defaultPrevented) return;  // the code editor ran it already (editor.js)
    var form = event.target.closest && event.target.closest("form[data-run-form]");
    if (!form) return;
    event.preventDefault();
    form.requestSubmit();
  });

  function announce(text) {
    var region = document.getElementById("announce");
    if (!region) return;
    region.textContent = "";
    // A fresh text node after a tick makes screen readers announce it again.
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function copyText(text, button) {
    var done = function () {
      var old = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", old);
      button.textContent = button.getAttribute("data-done") || old;
      announce(button.textContent);
      window.setTimeout(function () { button.textContent = old; }, 1800);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text) && done(); });
    } else if (fallbackCopy(text)) {
      done();
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  // Copy buttons are hidden in the HTML and shown only once they can work.
  function enhance(root) {
    root.querySelectorAll("[data-copy-link], [data-copy-from]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-link], [data-copy-from]");
    if (!button) return;
    if (button.hasAttribute("data-copy-link")) {
      var link = button.parentElement.querySelector("[data-permalink]");
      if (link) copyText(new URL(link.getAttribute("href"), window.location.href).href, button);
    } else {
      var source = document.getElementById(button.getAttribute("data-copy-from"));
      if (source) copyText(source.textContent, button);
    }
  });

  // The language form returns to the current address: after a run that is the permalink.
  function syncLanguageForm() {
    document.querySelectorAll("[data-next-url]").forEach(function (input) {
      input.value = window.location.pathname + window.location.search;
    });
  }

  // On a phone the results start below the editor, out of sight: bring the summary to the
  // top so the Run button visibly did something. Left alone when it is already well in view
  // (the desktop layout, where the results sit beside the editor).
  function reveal(element) {
    var box = element.getBoundingClientRect();
    if (box.top >= 0 && box.bottom <= window.innerHeight * 0.6) return;
    element.scrollIntoView({ block: "start" });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target) target.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var target = event.detail.target;
    if (target) target.removeAttribute("aria-busy");
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    enhance(event.detail.elt || document);
    var summary = event.detail.elt && event.detail.elt.querySelector("[data-announce]");
    if (summary) {
      announce(summary.textContent.trim());
      reveal(summary);
    }
    syncLanguageForm();
  });
  document.addEventListener("htmx:pushedIntoHistory", syncLanguageForm);
  document.addEventListener("htmx:historyRestore", function () { enhance(document); syncLanguageForm(); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
