// The dashboard polls only while its tab is visible: a hidden tab's request is cancelled
// before it leaves, and coming back refreshes at once.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.detail.elt.hasAttribute("data-poll-while-visible")) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) { return; }
    document.querySelectorAll("[data-poll-while-visible]").forEach(function (elt) {
      window.htmx.ajax("GET", elt.getAttribute("hx-get"), { target: elt, swap: "outerHTML" });
    });
  });
})();
