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

// Replay of an ended run: Play shows the run after epoch 0, 1, 2, ... at the chosen pace,
// each frame the server's page of the run as it was then (GET /train/runs/{id}?epoch=N),
// swapped into #live. Without this file the form's range and Show button do the same one
// epoch at a time. The frame replaces the form too, so the state lives here.
(function () {
  var replay = { playing: false, timer: null, pace: 0, focusPlay: false };

  function form() { return document.querySelector("form[data-replay]"); }

  function epochOf(f) { return Number(f.querySelector("input[name=epoch]").value); }

  function show(f, epoch) {
    var last = Number(f.getAttribute("data-last"));
    var url = "/train/runs/" + encodeURIComponent(f.getAttribute("data-run")) +
      (epoch < last ? "?epoch=" + epoch : "");
    window.htmx.ajax("GET", url, { target: "#live", swap: "outerHTML" });
  }

  function schedule() {
    clearTimeout(replay.timer);
    replay.timer = setTimeout(function () {
      var f = form();
      if (!f || !replay.playing) return;
      var last = Number(f.getAttribute("data-last"));
      var next = Math.min(epochOf(f) + 1, last);
      if (next >= last) replay.playing = false; // the last frame is the run's end
      show(f, next);
    }, replay.pace);
  }

  function sync() {
    var f = form();
    if (!f || !window.htmx) return;
    f.querySelector("[data-replay-js]").hidden = false;
    var pace = f.querySelector("[data-replay-pace]");
    if (replay.pace) pace.value = String(replay.pace); else replay.pace = Number(pace.value);
    var play = f.querySelector("[data-replay-play]");
    play.textContent = play.getAttribute(replay.playing ? "data-stop" : "data-play");
    play.setAttribute("aria-pressed", replay.playing ? "true" : "false");
    if (replay.focusPlay) play.focus();
    replay.focusPlay = false;
    if (replay.playing) schedule();
  }

  document.addEventListener("click", function (event) {
    var play = event.target.closest && event.target.closest("[data-replay-play]");
    if (!play) return;
    var f = form();
    replay.playing = !replay.playing;
    replay.focusPlay = true;
    clearTimeout(replay.timer);
    if (replay.playing && epochOf(f) >= Number(f.getAttribute("data-last"))) {
      show(f, 0); // from the start; the frame's arrival schedules the next one
    } else {
      sync();
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-replay-pace]")) {
      replay.pace = Number(event.target.value);
      if (replay.playing) schedule();
    }
  });
  document.addEventListener("input", function (event) {
    if (!(event.target.matches && event.target.matches("form[data-replay] input[name=epoch]"))) return;
    var f = form();
    f.querySelector("[data-replay-shown]").textContent =
      event.target.value + " / " + f.getAttribute("data-last");
  });
  document.addEventListener("submit", function (event) {
    var f = event.target;
    if (!(f.matches && f.matches("form[data-replay]")) || !window.htmx) return;
    event.preventDefault();
    replay.playing = false;
    clearTimeout(replay.timer);
    show(f, epochOf(f));
  });
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    if (active && active.matches && active.matches("[data-replay-play]")) replay.focusPlay = true;
  });
  document.addEventListener("htmx:afterSettle", sync);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", sync);
  } else {
    sync();
  }
})();

// Keyboard focus survives the live block's swaps: the control pressed (Pause, Resume, Train
// one more epoch), or, when it is gone because the run changed state, the first control now
// offered, so a keyboard user never falls back to the top of the page.
(function () {
  var focused = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var live = document.getElementById("live");
    focused = live && active && live.contains(active) && active.closest(".run-controls")
      ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focused) return;
    var again = document.getElementById(focused);
    var target = again && !again.disabled ? again
      : document.querySelector("#live .run-controls button:not([disabled])");
    focused = null;
    if (target) target.focus();
  });
})();
