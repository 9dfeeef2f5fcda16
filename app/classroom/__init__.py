"""The classroom: teachers host classes, students join with a code and keep a seat, exercise
checks become attempts a teacher's dashboard shows. No FastAPI here (routes/classroom.py)."""
