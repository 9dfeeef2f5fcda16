/* The step-through trace and the backward stepper (templates/components/_stepper.html,
   _gradtrace.html). The server writes every frame and node; this only shows one at a time.
   Without this script the page shows the plain list of steps and every node. */
(function () {
  "use strict";

  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  function setUpStepper(root) {
    if (root.dataset.ready) { return; }
    root.dataset.ready = "1";
    var frames = root.querySelectorAll("[data-frame]");
    var slider = root.querySelector("[data-step-slider]");
    var index = root.querySelector("[data-step-index]");
    var current = 1;
    function show(step) {
      current = clamp(step, 1, frames.length);
      frames.forEach(function (frame, i) { frame.hidden = i + 1 !== current; });
      slider.value = String(current);
      index.textContent = String(current);
    }
    slider.addEventListener("input", function () { show(Number(slider.value)); });
    root.querySelectorAll("[data-step]").forEach(function (button) {
      button.addEventListener("click", function () { show(current + Number(button.dataset.step)); });
    });
    root.tabIndex = 0;
    root.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };
      if (event.target === slider || !(event.key in moves)) { return; }
      event.preventDefault();
      show(current + moves[event.key]);
    });
    root.hidden = false;
    show(1);
  }

  function setUpBackward(root) {
    if (root.dataset.ready) { return; }
    root.dataset.ready = "1";
    var nodes = root.querySelectorAll("[data-grad-node]");
    var controls = root.querySelector("[data-backward-controls]");
    var index = root.querySelector("[data-backward-index]");
    if (!nodes.length || !controls) { return; }
    var current = 1;
    function show(step) {
      current = clamp(step, 1, nodes.length);
      // The nodes autograd already ran stay visible, the current one is marked: the pass
      // is read top to bottom, as it happened.
      nodes.forEach(function (node, i) {
        node.hidden = i + 1 > current;
        node.classList.toggle("current", i + 1 === current);
      });
      index.textContent = String(current);
      // The drawn graph marks the same node: each SVG node lists the (call:order) steps
      // at which autograd ran it.
      var step = root.dataset.backwardCall + ":" + current;
      document.querySelectorAll(".autograd [data-grad-steps]").forEach(function (node) {
        node.classList.toggle("grad-current", node.dataset.gradSteps.split(" ").indexOf(step) >= 0);
      });
    }
    controls.querySelectorAll("[data-backward-step]").forEach(function (button) {
      button.addEventListener("click", function () { show(current + Number(button.dataset.backwardStep)); });
    });
    root.tabIndex = 0;
    root.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 };
      if (!(event.key in moves)) { return; }
      event.preventDefault();
      show(current + moves[event.key]);
    });
    controls.hidden = false;
    show(1);
  }

  function enhance(scope) {
    scope.querySelectorAll("[data-stepper]").forEach(setUpStepper);
    scope.querySelectorAll("[data-backward-stepper]").forEach(setUpBackward);
  }

  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
