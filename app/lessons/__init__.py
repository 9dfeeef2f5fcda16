"""Lessons: every topic of the seed guide as an interactive, checked lesson.

The lessons are data (``catalog/NN-slug.toml``, validated by ``models``); this package
loads them (``loader``), turns their text and formulas into HTML (``render``), checks a
student's program against the reference solution (``checker``), draws charts from a
program's result (``plot``) and runs the epoch/iteration calculator (``calculator``).
Nothing here imports FastAPI: the routes in ``app/routes/lessons.py`` only call in.
"""
