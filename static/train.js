// The training form: show only the settings that apply to the chosen optimizer, scheduler
// and data set. Without this file every field shows, and the server ignores the ones that
// do not apply. No inline handlers (the CSP forbids them): listeners are attached here.
"use strict";

(function () {
  function update(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (field) {
      var control = form.querySelector("[name='" + field.getAttribute("data-show-when") + "']");
      if (!control) return;
      var wanted = field.getAttribute("data-show-values").split(" ");
      field.hidden = wanted.indexOf(control.value) < 0;
    });
  }

  function enhance(root) {
    var forms = root.matches && root.matches("form[data-train-form]")
      ? [root] : root.querySelectorAll("form[data-train-form]");
    forms.forEach(function (form) { update(form); });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-train-form]");
    if (form && event.target.tagName === "SELECT") update(form);
  });
  // The form is swapped in again when the server sends it back with errors.
  document.addEventListener("htmx:afterSettle", function (event) {
    enhance(event.detail.elt || document);
    var errors = document.querySelector("form[data-train-form] .form-errors");
    if (errors && event.detail.elt && event.detail.elt.contains(errors)) errors.focus();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
