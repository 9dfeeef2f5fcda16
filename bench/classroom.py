"""A class in session against the real server (issue 10, "Proof"): students join with the
code and work at classroom pace while the teacher's dashboard is open.

A live ``uvicorn app.main:app`` is started on a free loopback port with this machine's default
settings (bench/classroom_load.py's LiveServer; only ``data_dir`` is a temporary directory of
the bench's own, so the classroom database starts empty). A teacher account is made in that
database, the teacher logs in over HTTP, creates a class and assigns ``--exercises`` exercises
from the catalog. Then ``--students`` simulated students (default 200), each from its own
source address (127.0.x.y, as bench/classroom_load.py), join with the code and a name during
the first ``--join-seconds`` and then act once every 5 to 10 s (uniform) until ``--duration``
is over, each action picked at random:

    scratchpad /eval   30 %  POST /eval (JSON), a small program as in classroom_load
    scratchpad form    15 %  POST /run (the playground's htmx form)
    exercise check     30 %  POST /lessons/{lesson}/check/{exercise}, an assigned exercise,
                             the reference solution or the catalog's wrong answer (recorded
                             as an attempt: the dashboard fills up)
    lesson page        20 %  GET /lessons/{lesson}
    my progress         5 %  GET /me

Meanwhile the teacher's class page is open: its dashboard grid is polled every 10 s as htmx
does (``GET /teacher/classes/{id}/dashboard`` with ``HX-Request``).

Printed: latency per action kind (client-side: n, p50, p99, max) next to a baseline measured
first in the same run (one student alone doing each action `--repeat` times: its p50 and the
ratio), then once everyone has joined and per 10 s window; errors of every kind, the
load average before and after (this machine is shared), CPU of the server and the clients,
and the issue's aims: p99 < 250 ms for page and check actions (joins, lesson pages, exercise
checks, /me, dashboard polls), 0 errors. The exit status is 1 when an aim is missed.

    .venv/bin/python bench/classroom.py                         # 200 students, 75 s
    .venv/bin/python bench/classroom.py --students 20 --duration 20   # smoke
Results and how to read them: docs/BENCHMARKS.md, section "Classroom in session".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import ssl
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.classroom import service  # noqa: E402
from app.classroom.db import Database  # noqa: E402
from app.lessons.loader import catalog  # noqa: E402
from bench.classroom_load import (  # noqa: E402
    PROGRAMS,
    SERVER_OPTIONS,
    LiveServer,
    _client_cpu,
    percentile,
    report_aims,
    student_address,
)
from bench.eval_latency import _process_tree_cpu  # noqa: E402

AIM_P99_MS = 250.0
WINDOW_S = 10.0
PASSWORD = "bench teacher password"
# Weights of what a student does next (the docstring's table).
ACTIONS = (("scratchpad /eval", 30), ("scratchpad form", 15), ("exercise check", 30),
           ("lesson page", 20), ("my progress", 5))
# Held to the aim: pages and checks. Scratchpad runs are reported next to them.
AIMED = ("join page", "join", "lesson page", "exercise check", "my progress", "dashboard poll")
HTMX = {"HX-Request": "true"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Exercise:
    lesson: str
    id: str
    solution: str
    wrong: str


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # (sent at, s from the start; kind; ms) of every answered request, for the windows.
    timeline: list[tuple[float, str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_kinds: Counter[str] = field(default_factory=Counter)
    cpu_s: dict[str, float] = field(default_factory=dict)


class Timed:
    """Times one request and files it under its action kind, or as an error."""

    def __init__(self, results: Results, clock: float) -> None:
        self.results, self.clock = results, clock

    async def __call__(self, kind: str, who: str,
                       send: Callable[[], Awaitable[httpx.Response]],
                       ok: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200
                       ) -> httpx.Response | None:
        started = time.monotonic()
        at = started - self.clock
        try:
            answer = await send()
        except httpx.HTTPError as failed:
            self.results.errors.append(f"{at:6.1f} s {who} {kind}: {type(failed).__name__} "
                                       f"{failed}")
            self.results.error_kinds[f"{kind}: {type(failed).__name__}"] += 1
            return None
        elapsed_ms = (time.monotonic() - started) * 1000
        if not ok(answer):
            self.results.errors.append(f"{at:6.1f} s {who} {kind}: {answer.status_code} "
                                       f"{answer.text[:160]!r}")
            self.results.error_kinds[f"{kind}: {answer.status_code}"] += 1
            return None
        self.results.latencies[kind].append(elapsed_ms)
        self.results.timeline.append((at, kind, elapsed_ms))
        return answer


def _csrf(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on {page.url}: {page.status_code}")
    return found.group(1)


def _exercises(count: int) -> list[Exercise]:
    """``count`` exercises spread over the catalog (every k-th), with a wrong answer each."""
    every = [Exercise(lesson.id, e.id, e.solution, e.wrong)
             for lesson in catalog().lessons for e in lesson.exercises if e.wrong]
    step = max(1, len(every) // count)
    return every[::step][:count]


async def set_up_class(url: str, exercises: list[Exercise]) -> tuple[httpx.AsyncClient, int,
                                                                       str]:
    """The teacher logs in, creates the class and assigns the exercises: (client, id, code)."""
    teacher = httpx.AsyncClient(base_url=url, timeout=30.0)
    login = await teacher.get("/teacher/login")
    answer = await teacher.post("/teacher/login", data={
        "csrf": _csrf(login), "username": "bench", "password": PASSWORD})
    if answer.status_code != 303:
        raise RuntimeError(f"the teacher could not log in: {answer.status_code}")
    classes = await teacher.get("/teacher/classes")
    answer = await teacher.post("/teacher/classes", data={"csrf": _csrf(classes),
                                                          "name": "Bench period 1"})
    class_id = int(answer.headers["location"].rsplit("/", 1)[1])
    chosen = {"csrf": _csrf(classes), "exercise": [f"{e.lesson}/{e.id}" for e in exercises]}
    await teacher.post(f"/teacher/classes/{class_id}/assignments", data=chosen)
    page = await teacher.get(f"/teacher/classes/{class_id}")
    code = re.search(r"<code>([A-Z0-9]{6})</code>", page.text)
    if code is None:
        raise RuntimeError("no join code on the class page")
    return teacher, class_id, code.group(1)


async def act(client: httpx.AsyncClient, kind: str, who: str, timed: Timed,
              rng: random.Random, exercises: list[Exercise]) -> None:
    """One action of a student who has joined (the docstring's table)."""
    exercise = rng.choice(exercises)
    if kind == "scratchpad /eval":
        program = rng.choice(PROGRAMS)
        await timed(kind, who, lambda: client.post("/eval", json={"code": program, "seed": 0}),
                    lambda r: r.status_code == 200 and bool(r.json().get("ok")))
    elif kind == "scratchpad form":
        program = rng.choice(PROGRAMS)
        await timed(kind, who, lambda: client.post("/run", data={"code": program, "seed": "0"},
                                                   headers=HTMX))
    elif kind == "exercise check":
        answer = exercise.solution if rng.random() < 0.5 else exercise.wrong
        await timed(kind, who, lambda: client.post(
            f"/lessons/{exercise.lesson}/check/{exercise.id}", data={"code": answer},
            headers=HTMX))
    elif kind == "lesson page":
        await timed(kind, who, lambda: client.get(f"/lessons/{exercise.lesson}"))
    else:
        await timed(kind, who, lambda: client.get("/me"))


async def join(client: httpx.AsyncClient, who: str, code: str, name: str,
               timed: Timed) -> bool:
    form = await timed("join page", who, lambda: client.get(f"/join?code={code}"))
    if form is None:
        return False
    joined = await timed("join", who, lambda: client.post("/join", data={
        "csrf": _csrf(form), "code": code, "name": name}))
    return joined is not None


# One TLS context for every client (none is used over http, but httpx builds one per client
# and per transport otherwise: 100 ms each on the loaded machine, 20 s for a class).
_TLS = ssl.create_default_context()


def student_client(index: int, url: str) -> httpx.AsyncClient:
    """A student's browser: its own source address; an idle connection is dropped after 4 s,
    before uvicorn closes it (its keep-alive is 5 s), so a request never races the close."""
    transport = httpx.AsyncHTTPTransport(local_address=student_address(index), verify=_TLS,
                                         limits=httpx.Limits(keepalive_expiry=4.0))
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=30.0, verify=_TLS)


async def student(index: int, client: httpx.AsyncClient, code: str,
                  exercises: list[Exercise], timed: Timed, stop: asyncio.Event,
                  rng: random.Random, join_seconds: float) -> None:
    who = f"student {index}"
    async with client:
        await asyncio.sleep(rng.uniform(0, join_seconds))
        if not await join(client, who, code, f"Student {index:03d}", timed):
            return
        kinds = [kind for kind, _ in ACTIONS]
        weights = [weight for _, weight in ACTIONS]
        while not stop.is_set():
            sent = time.monotonic()
            await act(client, rng.choices(kinds, weights)[0], who, timed, rng, exercises)
            # Classroom pace: the next action 5 to 10 s after this one was sent.
            pause = rng.uniform(5, 10) - (time.monotonic() - sent)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, pause))


async def alone(url: str, code: str, exercises: list[Exercise], teacher: httpx.AsyncClient,
                class_id: int, repeat: int) -> Results:
    """The baseline, measured in the same run just before the class: one student alone does
    each action ``repeat`` times in a row (and the teacher polls), nobody else on the server."""
    results = Results()
    timed = Timed(results, time.monotonic())
    rng = random.Random(0)
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
        for _ in range(repeat):
            await join(client, "alone", code, "Alone", timed)
            client.cookies.clear()
        await join(client, "alone", code, "Alone", timed)
        for kind, _ in ACTIONS:
            for _ in range(repeat):
                await act(client, kind, "alone", timed, rng, exercises)
    for _ in range(repeat):
        await poll_dashboard(teacher, class_id, timed)
    return results


async def poll_dashboard(teacher: httpx.AsyncClient, class_id: int, timed: Timed) -> None:
    await timed("dashboard poll", "teacher", lambda: teacher.get(
        f"/teacher/classes/{class_id}/dashboard", headers=HTMX),
        lambda r: r.status_code == 200 and r.text.lstrip().startswith('<div id="dashboard"'))


async def dashboard(teacher: httpx.AsyncClient, class_id: int, timed: Timed,
                    stop: asyncio.Event) -> None:
    """The class page open on the teacher's screen: its grid polled every 10 s (htmx)."""
    while not stop.is_set():
        await poll_dashboard(teacher, class_id, timed)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 10.0)


async def session(args: argparse.Namespace, data_dir: str
                  ) -> tuple[Results, Results, float, str, int]:
    # The teacher's account, made in the server's (still empty) database, as `make admin` does.
    database = Database(f"sqlite:///{Path(data_dir) / 'classroom.sqlite3'}")
    with database.session() as db:
        service.create_teacher(db, "bench", PASSWORD)
    database.close()
    server = LiveServer(settings_env={"PLAYGROUND_DATA_DIR": data_dir})
    server.start()
    try:
        await server.wait_ready()
        exercises = _exercises(args.exercises)
        teacher, class_id, code = await set_up_class(server.url, exercises)
        baseline = await alone(server.url, code, exercises, teacher, class_id, args.repeat)
        # Made before the clock starts, so making them stalls no student's request.
        clients = [student_client(i, server.url) for i in range(args.students)]
        results = Results()
        stop = asyncio.Event()
        assert server.process is not None
        web0, sandbox0 = _process_tree_cpu(server.process.pid)
        client0 = _client_cpu()
        clock = time.monotonic()
        timed = Timed(results, clock)
        tasks = [asyncio.create_task(student(i, clients[i], code, exercises, timed, stop,
                                             random.Random(args.seed * 1000 + i),
                                             args.join_seconds))
                 for i in range(args.students)]
        tasks.append(asyncio.create_task(dashboard(teacher, class_id, timed, stop)))
        await asyncio.sleep(args.duration)
        stop.set()
        await asyncio.gather(*tasks)
        wall = time.monotonic() - clock
        web1, sandbox1 = _process_tree_cpu(server.process.pid)
        results.cpu_s = {"web process": web1 - web0, "sandbox workers": sandbox1 - sandbox0,
                         "this bench (the clients)": _client_cpu() - client0}
        final = await teacher.get(f"/teacher/classes/{class_id}/dashboard", headers=HTMX)
        solved = final.text.count('class="cell-solved"')
        await teacher.aclose()
        return results, baseline, wall, server.log_text(), solved
    finally:
        server.stop()


def report(args: argparse.Namespace, results: Results, baseline: Results, wall: float,
           log: str, solved: int,
           load_before: tuple[float, float, float]) -> int:
    load_after = os.getloadavg()
    print(f"server: uvicorn app.main:app {' '.join(SERVER_OPTIONS)}, default settings "
          f"(data_dir a fresh temporary directory: SQLite)")
    print(f"baseline: one student alone did each action {args.repeat} times first "
          f"(errors: {len(baseline.errors)})")
    print(f"{args.students} students (own source addresses 127.0.x.y) joined within "
          f"{args.join_seconds:g} s, then one action every 5-10 s each; the teacher's "
          f"dashboard polled every 10 s; {wall:.0f} s in all; {os.cpu_count()} CPUs")
    print("load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} "
          "{:.2f}".format(*load_before, *load_after))
    print(f"\n{'action (client-side ms)':<26} {'n':>6} {'p50':>8} {'p99':>8} {'max':>8} "
          f"{'alone p50':>10} {'x alone':>8}  aim")
    order = ["join page", "join", *[kind for kind, _ in ACTIONS], "dashboard poll"]
    aims: list[tuple[str, bool]] = []
    for kind in order:
        values = results.latencies.get(kind, [])
        if not values:
            print(f"{kind:<26} {0:6d}")
            continue
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        alone_p50 = percentile(baseline.latencies.get(kind, []), 0.5)
        aimed = kind in AIMED
        mark = ("held" if p99 < AIM_P99_MS else "MISSED") if aimed else ""
        print(f"{kind:<26} {len(values):6d} {p50:8.1f} {p99:8.1f} {max(values):8.1f} "
              f"{alone_p50:10.1f} {p50 / alone_p50:8.2f}  {mark}")
        if aimed:
            aims.append((f"{kind} p99 < {AIM_P99_MS:g} ms ({p99:.0f} ms)", p99 < AIM_P99_MS))
    settled = [(kind, ms) for at, kind, ms in results.timeline
               if at >= args.join_seconds + WINDOW_S]
    print(f"\nonce everyone has joined (from {args.join_seconds + WINDOW_S:g} s): "
          "n, p50, p99 ms")
    for kind in order:
        values = [ms for k, ms in settled if k == kind]
        if values:
            print(f"  {kind:<24} {len(values):6d} {percentile(values, 0.5):8.1f} "
                  f"{percentile(values, 0.99):8.1f}")
    print(f"\nper {WINDOW_S:g} s window, page and check actions: start s, n, p50, p99, max ms")
    for start in range(0, int(wall) + 1, int(WINDOW_S)):
        values = [ms for at, kind, ms in results.timeline
                  if start <= at < start + WINDOW_S and kind in AIMED]
        if values:
            print(f"  {start:5d} {len(values):5d} {percentile(values, 0.5):7.1f} "
                  f"{percentile(values, 0.99):7.1f} {max(values):7.1f}")
    total = sum(len(v) for v in results.latencies.values())
    print(f"\n{total} requests answered, {total / wall:.1f} per second; solved cells on the "
          f"dashboard at the end: {solved}")
    print("CPU during the session: " + ", ".join(
        f"{name} {seconds:.1f} s ({seconds / wall:.0%} of a core)"
        for name, seconds in results.cpu_s.items()))
    server_errors = [line for line in log.splitlines() if '"level": "ERROR"' in line
                     or '"level":"ERROR"' in line or "Traceback" in line]
    print(f"\nerrors: {len(results.errors)} client-side, {len(server_errors)} in the server log"
          + "".join(f"; {kind} x {n}" for kind, n in results.error_kinds.most_common()))
    for line in (results.errors + server_errors)[:20]:
        print(f"  {line[:300]}")
    aims.append(("0 errors", not results.errors and not server_errors))
    return report_aims("issue 10", aims)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--duration", type=float, default=75.0,
                        help="seconds the class works, joining included")
    parser.add_argument("--join-seconds", type=float, default=10.0,
                        help="the students join at random times within this window")
    parser.add_argument("--exercises", type=int, default=4, help="exercises assigned")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=10,
                        help="times one student alone does each action first (the baseline)")
    args = parser.parse_args()
    if not 1 <= args.students <= 250 * 250:
        parser.error("--students must be between 1 and 62500")
    load_before = os.getloadavg()
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as data_dir:
        try:
            results, baseline, wall, log, solved = loop.run_until_complete(
                session(args, data_dir))
        finally:
            loop.close()
    return report(args, results, baseline, wall, log, solved, load_before)


if __name__ == "__main__":
    sys.exit(main())
