"""The browser playground's domain: plain Python that turns /eval views into what the
templates draw (heatmap classes, grids, storage groups, graph layout, compare diffs,
permalinks, exports). Nothing here imports FastAPI or Jinja, so it is tested directly.
"""
