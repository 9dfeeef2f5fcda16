// The CodeMirror 6 parts static/editor.js uses, exposed as one global (window.CM6) so the
// page needs no module loader. Add an export here when the editor needs another piece.
export {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, gutter, GutterMarker, Decoration, placeholder,
} from "@codemirror/view";
export { EditorState, StateField, StateEffect, RangeSet, Compartment } from "@codemirror/state";
export {
  defaultKeymap, history, historyKeymap, indentWithTab, insertTab, indentMore, indentLess,
} from "@codemirror/commands";
export {
  syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching, indentUnit,
} from "@codemirror/language";
export { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
export { python } from "@codemirror/lang-python";
