// Turns each program textarea marked data-editor (the scratchpad, lesson examples and
// exercises, the compare page) into a CodeMirror 6 editor (static/vendor/codemirror,
// built by tools/codemirror). The textarea stays in the form, hidden and kept in step with the
// editor, so htmx and a plain form post send exactly what the editor shows; without
// JavaScript the textarea is the editor.
// The editor lives in a shadow root: there CodeMirror styles itself with a constructable
// style sheet, where in the document it would add a <style> element that the CSP
// (style-src 'self', no nonce) refuses. Its look is therefore a theme here, not app.css.
"use strict";

(function () {
  var CM = window.CM6;
  if (!CM) return;  // the bundle failed to load: the plain textarea keeps working

  var setErrorLine = CM.StateEffect.define();

  var ErrorMarker = function () {};
  ErrorMarker.prototype = Object.create(CM.GutterMarker.prototype);
  ErrorMarker.prototype.constructor = ErrorMarker;
  ErrorMarker.prototype.elementClass = "cm-error-gutter";
  ErrorMarker.prototype.toDOM = function () {
    var mark = document.createElement("span");
    mark.className = "cm-error-mark";
    mark.textContent = "!";
    mark.setAttribute("aria-hidden", "true");
    return mark;
  };
  var errorMarker = new ErrorMarker();
  var errorLineDecoration = CM.Decoration.line({ attributes: { class: "cm-error-line" } });

  // The line of the last run's error, as a line decoration mapped through later edits (so
  // it follows its line), and the same position as a gutter marker.
  var errorLineField = CM.StateField.define({
    create: function () { return CM.Decoration.none; },
    update: function (marks, tr) {
      marks = marks.map(tr.changes);
      for (var i = 0; i < tr.effects.length; i++) {
        if (!tr.effects[i].is(setErrorLine)) continue;
        var line = tr.effects[i].value;
        marks = line > 0 && line <= tr.state.doc.lines
          ? CM.Decoration.set([errorLineDecoration.range(tr.state.doc.line(line).from)])
          : CM.Decoration.none;
      }
      return marks;
    },
    provide: function (field) { return CM.EditorView.decorations.from(field); }
  });

  var errorGutter = CM.gutter({
    class: "cm-error-gutter-column",
    markers: function (view) {
      var found = [];
      view.state.field(errorLineField).between(0, view.state.doc.length, function (from) {
        found.push(errorMarker.range(from));
      });
      return CM.RangeSet.of(found);
    }
  });

  var theme = CM.EditorView.theme({
    "&": { border: "1px solid #aab3bf", borderRadius: "6px", background: "#fbfbfc",
           fontSize: "0.9rem", color: "#1c2330" },
    "&.cm-focused": { outline: "2px solid #b83a1b", outlineOffset: "1px" },
    ".cm-scroller": { fontFamily: "ui-monospace, \"SFMono-Regular\", Menlo, Consolas, " +
                      "\"DejaVu Sans Mono\", \"Noto Sans Mono CJK JP\", monospace",
                      lineHeight: "1.45", minHeight: "14rem", maxHeight: "60vh" },
    ".cm-content": { padding: "0.4rem 0" },
    ".cm-gutters": { background: "#f0f2f5", borderRight: "1px solid #dde1e7", color: "#4f5966" },
    ".cm-activeLineGutter": { background: "#e2e6ec" },
    ".cm-activeLine": { background: "#f3f5f9" },
    ".cm-error-gutter-column": { minWidth: "1.1rem" },
    ".cm-error-gutter-column .cm-gutterElement": { width: "1.1rem", padding: "0",
                                                   textAlign: "center" },
    ".cm-error-mark": { display: "inline-block", width: "0.95rem", height: "0.95rem",
                        lineHeight: "0.95rem", borderRadius: "50%", background: "#a3261a",
                        color: "#fff", fontSize: "0.7rem", fontWeight: "700" },
    ".cm-line.cm-error-line": { background: "#fde8e4" },
    "@media (max-width: 600px)": { ".cm-scroller": { minHeight: "10rem", maxHeight: "50vh" } }
  });


  function mount(textarea) {
    if (textarea.editorView) return;
    // A page restored from htmx's history cache holds the old editor's DOM but no live view.
    var stale = textarea.parentNode.querySelector(".code-editor-host");
    if (stale) stale.remove();
    // IDREFs (aria-labelledby, aria-describedby) do not reach into a shadow root: the
    // label and the key hint travel as text.
    var label = document.querySelector("label[for='" + textarea.id + "']");
    var contentAttributes = { "aria-multiline": "true", spellcheck: "false",
                              autocapitalize: "off", autocorrect: "off" };
    if (label) contentAttributes["aria-label"] = label.textContent.trim();
    var host = document.createElement("div");
    host.className = "code-editor-host";
    var root = host.attachShadow({ mode: "open" });
    // The key hint of this editor's own form (a lesson page has one form per editor).
    var hint = (textarea.form && textarea.form.querySelector("[data-hint-editor]")) ||
      (document.querySelectorAll("textarea[data-editor]").length === 1 &&
       document.querySelector("[data-hint-editor]"));
    if (hint) {
      var description = document.createElement("span");
      description.id = "editor-keys";
      description.hidden = true;  // read as the description, never shown twice
      description.textContent = hint.textContent.trim();
      root.appendChild(description);
      contentAttributes["aria-describedby"] = description.id;
    }

    // A short textarea (a lesson's three-line example) gives a short editor: its own
    // height comes first, where it takes precedence over the theme's 14rem.
    var rows = parseInt(textarea.getAttribute("rows"), 10) || 12;
    var height = rows < 10 ? [CM.EditorView.theme({
      ".cm-scroller": { minHeight: rows * 1.45 + 0.8 + "em" }
    })] : [];
    var view = new CM.EditorView({
      doc: textarea.value,
      root: root,
      parent: root,
      extensions: height.concat([
        theme,
        CM.lineNumbers(),
        errorGutter,
        CM.highlightActiveLineGutter(),
        CM.highlightActiveLine(),
        CM.history(),
        CM.drawSelection(),
        CM.indentOnInput(),
        CM.bracketMatching(),
        CM.closeBrackets(),
        CM.syntaxHighlighting(CM.defaultHighlightStyle, { fallback: true }),
        CM.python(),
        CM.indentUnit.of("    "),
        CM.EditorState.tabSize.of(4),
        errorLineField,
        // Ctrl/Cmd+Enter runs (before the default keymap, where it would insert a line).
        // Tab indents; Escape then Tab moves focus on (CodeMirror's tab focus mode).
        CM.keymap.of([{ key: "Mod-Enter", run: function () {
          // the textarea's form: closest() would stop at the shadow root
          if (textarea.form) textarea.form.requestSubmit();
          return true;
        } }]),
        CM.keymap.of([CM.indentWithTab].concat(CM.closeBracketsKeymap, CM.defaultKeymap,
                                                CM.historyKeymap)),
        CM.EditorView.contentAttributes.of(contentAttributes),
        CM.EditorView.updateListener.of(function (update) {
          if (update.docChanged) textarea.value = update.state.doc.toString();
        })
      ])
    });
    textarea.parentNode.insertBefore(host, textarea.nextSibling);
    textarea.hidden = true;
    textarea.editorView = view;
    var form = textarea.closest("form");
    if (form) {
      form.querySelectorAll("[data-hint-plain]").forEach(function (el) { el.hidden = true; });
      form.querySelectorAll("[data-hint-editor]").forEach(function (el) { el.hidden = false; });
    }
  }

  // The error line of the last run, from the error card in this editor's results
  // (data-error-from, a selector); data-error-part picks the card's box on the compare page
  // ("inputs" or "program").
  function markError(textarea) {
    if (!textarea.editorView) return;
    var scope = document.querySelector(textarea.getAttribute("data-error-from") || "#results");
    var part = textarea.getAttribute("data-error-part");
    var line = 0;
    if (scope) {
      scope.querySelectorAll("[data-error-line]").forEach(function (card) {
        if (line || (part && card.getAttribute("data-error-part") !== part)) return;
        line = parseInt(card.getAttribute("data-error-line"), 10) || 0;
      });
    }
    textarea.editorView.dispatch({ effects: setErrorLine.of(line) });
  }

  function enhance(root) {
    root.querySelectorAll("textarea[data-editor]").forEach(mount);
    document.querySelectorAll("textarea[data-editor]").forEach(markError);
  }

  document.addEventListener("htmx:afterSettle", function () { enhance(document); });
  document.addEventListener("htmx:historyRestore", function () { enhance(document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
