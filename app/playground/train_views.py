"""What the training pages show, computed from a run's plain data (``Run.view()`` and its
``start`` event): counters, charts, the decision boundary, the end-of-run tables, the
comparison of several runs, and the browser's list of its recent runs.

Labels are English msgids (the templates translate them); numbers are formatted here so the
templates only place them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.inspect.floats import finite_number
from app.message import N_
from app.playground.charts import (
    BoundaryMap,
    Chart,
    Series,
    boundary_map,
    line_chart,
)
from app.playground.grid import format_number
from app.training.schemas import TERMINAL
from app.training.spec import DEFAULT_LR, task_of

RECENT_COOKIE = "train_runs"
MAX_RECENT = 12  # runs a browser remembers (newest first)
MAX_COMPARED = 6  # lines per metric stay tellable apart up to here
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Okabe-Ito tones (static/app.css tone-0 .. tone-7) in the order runs get them: the darker,
# most distinct hues first; yellow (tone-3) last, as it is faint on white.
RUN_TONES = (4, 5, 2, 6, 0, 1, 7, 3)
# The notices the training core sends (app/training/job.py), so the page can show them in
# the reader's language; any other notice is shown as the core wrote it.
CORE_NOTICES = frozenset({
    N_("This server has no GPU: the run uses the CPU."),
    N_("CUDA was requested but this server has no GPU: the run uses the CPU."),
    N_("Mixed precision on the CPU uses bfloat16 autocast; bfloat16 keeps float32's range, "
       "so no gradient scaler is needed."),
})


# --- the browser's recent runs (a cookie of run ids) ---------------------------------
def recent_ids(cookie: str | None) -> list[str]:
    """Run ids in the cookie, newest first; anything that is not an id is dropped."""
    ids = [part for part in (cookie or "").split(".") if RUN_ID.fullmatch(part)]
    return list(dict.fromkeys(ids))[:MAX_RECENT]


def remember(cookie: str | None, run_id: str) -> str:
    """The cookie value with ``run_id`` first."""
    return ".".join([run_id, *(i for i in recent_ids(cookie) if i != run_id)][:MAX_RECENT])


def selected_ids(values: Iterable[str]) -> list[str]:
    """Run ids of a compare request: ``runs=a,b`` or ``runs=a&runs=b`` (checkboxes)."""
    ids = [part.strip() for value in values for part in value.split(",")]
    return list(dict.fromkeys(i for i in ids if RUN_ID.fullmatch(i)))[:MAX_COMPARED]


def snapshot(view: dict[str, Any]) -> dict[str, Any]:
    """``Run.view()`` with its metric columns copied, so the page can be built off the event
    loop while the run keeps appending to the originals."""
    metrics = view["metrics"]
    return {**view, "metrics": {part: {name: list(column) for name, column in columns.items()}
                                for part, columns in metrics.items()}}


# --- one run ----------------------------------------------------------------------------
def run_label(view: dict[str, Any]) -> str:
    """A short name that tells runs apart: optimizer and lr, data set, id prefix."""
    spec = view["spec"]
    opt = spec["optimizer"]
    lr = opt.get("lr") or DEFAULT_LR.get(opt["name"], 0.0)
    name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
            "adagrad": "Adagrad", "adadelta": "Adadelta"}.get(opt["name"], opt["name"])
    if opt["name"] == "sgd" and opt.get("momentum"):
        name += " + Nesterov" if opt.get("nesterov") else " + momentum"
    return f"{name} lr={lr:g} · {spec['dataset']['name']} · {view['id'][:6]}"


@dataclass(frozen=True)
class Counters:
    epochs_done: int  # epochs completed
    epochs: int
    epoch: int  # epoch of the last reported step (1-based; 0 before the first)
    iteration: int  # its optimizer step within that epoch
    iterations_per_epoch: int
    total_iteration: int
    total_iterations: int

    @property
    def percent(self) -> int:
        if not self.total_iterations:
            return 0
        return min(100, round(100 * self.total_iteration / self.total_iterations))


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


# Replay paces offered on an ended run's page, as (milliseconds per epoch, label msgid):
# the default run trains 30 epochs in about 2 s, far too fast to follow; one epoch a second
# is slow enough to watch the boundary move and the loss fall, and the faster ones skim.
REPLAY_PACES: tuple[tuple[int, str], ...] = (
    (2000, N_("1 epoch every 2 s")),
    (1000, N_("1 epoch a second")),
    (500, N_("2 epochs a second")),
    (200, N_("5 epochs a second")),
)
DEFAULT_REPLAY_PACE_MS = 1000
# Epochs shorter than this went by too fast to follow live: the page says so and suggests
# the replay (the slowest pace offered is 2 s an epoch; half a second is where a moving
# boundary becomes a blur).
FAST_EPOCH_S = 0.5


@dataclass(frozen=True)
class Replay:
    """The replay of an ended run: ``epoch`` is the frame shown (None: the end, as it
    finished), ``last`` the last epoch with events."""

    epoch: int | None
    last: int
    elapsed_s: float | None  # how long the run took (it is why a replay helps)
    paces: tuple[tuple[int, str], ...] = REPLAY_PACES
    pace_ms: int = DEFAULT_REPLAY_PACE_MS

    @property
    def too_fast(self) -> bool:
        """Whether the run's epochs went by faster than a student can follow live."""
        return self.elapsed_s is not None and self.elapsed_s < FAST_EPOCH_S * max(1, self.last)


@dataclass
class RunPage:
    id: str
    label: str
    status: str
    done: bool
    cancel_requested: bool
    device: str | None
    notices: list[tuple[str, bool]]  # (text, whether it is a msgid to translate)
    counters: Counters
    task: str  # classification | regression
    loss: Chart
    accuracy: Chart | None
    lr: Chart
    grad: Chart
    grad_clip: float | None
    boundary: BoundaryMap | None = None
    fit: Chart | None = None  # 1-D regression: the model's curve over the data
    snapshot_epoch: int | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label msgid, value)
    summary: dict[str, Any] | None = None
    final: list[tuple[str, str]] = field(default_factory=list)
    parameters: Table | None = None
    optimizer_state: Table | None = None
    param_groups: Table | None = None
    epoch_table: Table | None = None
    # While the run waits for a worker: {"position", "estimated_start_s"} (GET /runs/{id}).
    queue: dict[str, Any] | None = None
    # While paused: {"epoch", "pause_left_s", "max_pause_s"}; the control sent last.
    pause: dict[str, Any] | None = None
    control_requested: str | None = None
    # Why the optimizer-state table is empty (a msgid), when it is.
    optimizer_state_note: str | None = None
    replay: Replay | None = None

    @property
    def live(self) -> bool:
        """Whether the page follows a run still going (a replay frame never is)."""
        return not self.done and (self.replay is None or self.replay.epoch is None)

    @property
    def replaying(self) -> bool:
        return self.replay is not None and self.replay.epoch is not None

    @property
    def latest(self) -> list[tuple[str, str]]:
        """The newest value of each curve, as (label msgid, value): the text the charts'
        screen-reader descriptions and the counters show."""
        out = []
        for chart in (self.loss, self.accuracy):
            for line in chart.lines if chart else []:
                if line.last_y is not None and "thin" not in line.css.split():
                    out.append((line.label, format_number(round(line.last_y, 4))))
        return out


def run_page(view: dict[str, Any], start: dict[str, Any] | None,
             replay: Replay | None = None) -> RunPage:
    """The page of a run; with ``replay`` whose epoch is set, ``view`` is the run as it was
    then (runs.replay) and the page shows that frame of the replay."""
    spec = view["spec"]
    steps, epochs = view["metrics"]["steps"], view["metrics"]["epochs"]
    progress = view["progress"]
    per_epoch = max(1, progress["iterations_per_epoch"])
    task = (start or {}).get("task") or task_of(spec["dataset"]["name"])
    counters = _counters(progress, steps, view.get("summary"))
    at_boundary = replay.epoch if replay is not None and replay.epoch is not None else (
        (view.get("pause") or {}).get("epoch"))
    if isinstance(at_boundary, int):
        # A replay frame or a pause is exactly at an epoch's end (steps are reported at a
        # capped rate, so the last reported one may lie an epoch or more behind).
        counters = Counters(epochs_done=at_boundary, epochs=progress["epochs"],
                            epoch=at_boundary, iteration=per_epoch if at_boundary else 0,
                            iterations_per_epoch=per_epoch,
                            total_iteration=at_boundary * per_epoch,
                            total_iterations=progress["total_iterations"])
    step_x = [t / per_epoch for t in steps["total_iteration"]]  # steps in epoch units
    epoch_x = epochs["epoch"]
    has_val = any(v is not None for v in epochs["val_loss"])
    loss_series = [Series(N_("per-step loss (mini-batches, as trained)"), step_x, steps["loss"],
                          tone=7, thin=True),
                   Series(N_("training loss (end of epoch)"), epoch_x, epochs["train_loss"],
                          tone=0)]
    if has_val:
        loss_series.append(Series(N_("validation loss"), epoch_x, epochs["val_loss"], tone=4,
                                  dashed=True))
    x_range = (0.0, float(max(1, progress["epochs"])))
    page = RunPage(
        id=view["id"], label=run_label(view), status=view["status"],
        done=view["status"] in TERMINAL, cancel_requested=view["cancel_requested"],
        device=view["device"], notices=[(n, n in CORE_NOTICES) for n in view["notices"]],
        counters=counters, task=task,
        loss=line_chart(loss_series, log_y=True, x_range=x_range),
        accuracy=_accuracy_chart(epochs, has_val, x_range) if task == "classification"
        else None,
        lr=line_chart([Series(N_("learning rate"), steps["total_iteration"], steps["lr"],
                              tone=2)], x_range=(0.0, float(progress["total_iterations"]))),
        grad=_grad_chart(steps, spec.get("grad_clip"), progress["total_iterations"]),
        grad_clip=spec.get("grad_clip"), facts=spec_facts(spec, progress),
        queue=view.get("queue"), pause=view.get("pause"),
        control_requested=view.get("control_requested"), replay=replay)
    snapshot = view.get("latest_snapshot")
    points = (start or {}).get("points")
    if snapshot and snapshot.get("type") == "boundary":
        page.boundary = boundary_map(snapshot, points)
        page.snapshot_epoch = snapshot.get("epoch")
    elif snapshot and snapshot.get("type") == "curve":
        dots = [(x[0], y) for x, y in zip(points["x"], points["y"], strict=False)] \
            if points else []
        page.fit = line_chart([Series(N_("model prediction"), snapshot["x"], snapshot["y"],
                                      tone=5)], dots=dots)
        page.snapshot_epoch = snapshot.get("epoch")
    if view.get("summary"):
        _add_summary(page, view["summary"], epochs)
    return page


def _counters(progress: dict[str, Any], steps: dict[str, list[Any]],
              summary: dict[str, Any] | None) -> Counters:
    """Where the run is. While it runs: its last reported step (steps are reported at a
    capped rate); once it ended: the steps it really took, from the summary."""
    per_epoch = progress["iterations_per_epoch"]
    done = (summary or {}).get("iterations")
    if isinstance(done, int) and per_epoch:
        epoch = -(-done // per_epoch)  # ceil: the epoch the last step belongs to
        iteration = done - (epoch - 1) * per_epoch if epoch else 0
        total = done
    else:
        epoch = steps["epoch"][-1] if steps["epoch"] else 0
        iteration = steps["iteration"][-1] if steps["iteration"] else 0
        total = progress["total_iteration"]
    return Counters(epochs_done=progress["epoch"], epochs=progress["epochs"], epoch=epoch,
                    iteration=iteration, iterations_per_epoch=per_epoch,
                    total_iteration=total, total_iterations=progress["total_iterations"])


def _accuracy_chart(epochs: dict[str, list[Any]], has_val: bool,
                    x_range: tuple[float, float]) -> Chart:
    series = [Series(N_("training accuracy"), epochs["epoch"], epochs["train_accuracy"],
                     tone=0)]
    if has_val:
        series.append(Series(N_("validation accuracy"), epochs["epoch"],
                             epochs["val_accuracy"], tone=4, dashed=True))
    return line_chart(series, y_range=(0.0, 1.0), x_range=x_range)


def _grad_chart(steps: dict[str, list[Any]], clip: float | None, total: int) -> Chart:
    series = [Series(N_("gradient norm before clipping"), steps["total_iteration"],
                     steps["grad_norm"], tone=5)]
    rules: list[tuple[str, float]] = []
    if clip is not None:
        series.append(Series(N_("gradient norm after clipping"), steps["total_iteration"],
                             steps["grad_norm_clipped"], tone=4, dashed=True))
        rules.append((N_("clipping threshold"), float(clip)))
    return line_chart(series, log_y=True, rules=rules, x_range=(0.0, float(max(1, total))))


def spec_facts(spec: dict[str, Any], progress: dict[str, Any]) -> list[tuple[str, str]]:
    """The run's settings, one line each, written with the spec's own names (they read the
    same in every language)."""
    d, m, o, s = spec["dataset"], spec["model"], spec["optimizer"], spec["scheduler"]
    data = f"{d['name']} · n_samples={d['n_samples']} · noise={d['noise']:g}"
    if d["name"] in ("blobs", "spirals"):
        data += f" · n_classes={d['n_classes']}"
    model = [f"hidden={m['hidden']}", m["activation"]]
    if m["dropout"]:
        model.append(f"dropout={m['dropout']:g}")
    if m["batch_norm"]:
        model.append("batch_norm")
    opt = f"{o['name']} lr={o.get('lr') or DEFAULT_LR.get(o['name'], 0):g}"
    if o["momentum"]:
        opt += f" momentum={o['momentum']:g}" + (" nesterov" if o["nesterov"] else "")
    if o["name"] in ("adam", "adamw"):
        opt += f" betas=({o['betas'][0]:g}, {o['betas'][1]:g})"
    if o["weight_decay"]:
        opt += f" weight_decay={o['weight_decay']:g}"
    if o["layer_lrs"]:
        opt += " · layer_lrs: " + ", ".join(f"{k}={v:g}" for k, v in o["layer_lrs"].items())
    sched = {"none": "none", "step": f"StepLR step_size={s['step_size']} gamma={s['gamma']:g}",
             "cosine": f"cosine min_lr={s['min_lr']:g}",
             "warmup": f"warmup warmup_steps={s['warmup_steps']} "
                       f"warmup_start_factor={s['warmup_start_factor']:g}"}[s["name"]]
    steps = (f"{spec['epochs']} × {progress['iterations_per_epoch']} = "
             f"{progress['total_iterations']}")
    loop = [f"batch_size={spec['batch_size']}", f"shuffle={spec['shuffle']}"]
    if spec["drop_last"]:
        loop.append("drop_last")
    if spec["grad_accumulation"] > 1:
        loop.append(f"grad_accumulation={spec['grad_accumulation']}")
    if spec["grad_clip"] is not None:
        loop.append(f"grad_clip={spec['grad_clip']:g}")
    if spec["mixed_precision"]:
        loop.append("mixed_precision")
    return [
        (N_("Data"), data),
        (N_("Model"), " · ".join(model)),
        (N_("Loss"), spec["loss"]),
        (N_("Optimizer"), opt),
        (N_("Scheduler"), sched),
        (N_("Steps (epochs × iterations per epoch)"), steps),
        (N_("Loop"), " · ".join(loop)),
        (N_("Seed and device"), f"seed={spec['seed']} · {spec['device']}"),
    ]


def _add_summary(page: RunPage, summary: dict[str, Any], epochs: dict[str, list[Any]]) -> None:
    page.summary = summary
    final = summary.get("final") or {}
    rows = [(N_("Training loss"), final.get("train_loss")),
            (N_("Training accuracy"), final.get("train_accuracy")),
            (N_("Validation loss"), final.get("val_loss")),
            (N_("Validation accuracy"), final.get("val_accuracy")),
            (N_("Epochs completed"), _of(summary.get("epochs_completed"), summary.get("epochs"))),
            (N_("Optimizer steps"), _of(summary.get("iterations"),
                                        summary.get("total_iterations"))),
            (N_("Wall time (s)"), summary.get("elapsed_s")),
            (N_("Steps per second"), summary.get("steps_per_s"))]
    page.final = [(label, _text(value)) for label, value in rows if value is not None]
    if summary.get("parameters"):
        page.parameters = Table(
            ["name", "shape", "numel", "norm"],
            [[p["name"], "[" + ", ".join(str(n) for n in p["shape"]) + "]", str(p["numel"]),
              _text(p["norm"])] for p in summary["parameters"]])
    optimizer = summary.get("optimizer") or {}
    state = optimizer.get("state") or []
    if any(key != "name" for row in state for key in row):
        page.optimizer_state = state_table(state)
    elif optimizer:
        page.optimizer_state_note = empty_state_reason(optimizer, page.summary)
    if optimizer.get("param_groups"):
        page.param_groups = Table(
            ["name", "lr", "weight_decay"],
            [[str(g.get("name")), _text(g.get("lr")), _text(g.get("weight_decay"))]
             for g in optimizer["param_groups"]])
    page.epoch_table = Table(
        ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"],
        [[str(e), *(_text(epochs[c][i]) for c in ("train_loss", "train_accuracy",
                                                  "val_loss", "val_accuracy"))]
         for i, e in enumerate(epochs["epoch"])])


def empty_state_reason(optimizer: dict[str, Any], summary: dict[str, Any]) -> str:
    """Why an optimizer kept no state (a msgid): an empty table would look like a bug."""
    if not summary.get("iterations"):
        return N_("The optimizer took no step, so it has no state yet.")
    if optimizer.get("name") == "sgd":
        return N_("SGD without momentum keeps no state: each step uses only the current "
                  "gradient (parameter − learning rate × gradient). Set a momentum to see "
                  "its momentum buffer here.")
    return N_("This optimizer kept no state for these parameters.")


def state_table(state: list[dict[str, Any]]) -> Table:
    """Optimizer state per parameter: its step count and the norm of every buffer it keeps
    (Adam's exp_avg and exp_avg_sq, SGD's momentum_buffer, ...), one column each."""
    keys: list[str] = []
    for row in state:
        keys += [k for k in row if k != "name" and k not in keys]
    keys.sort(key=lambda k: (k != "step", k))
    columns = ["name", *(f"‖{k.removesuffix('_norm')}‖" if k.endswith("_norm") else k
                         for k in keys)]
    return Table(columns, [[str(row.get("name")), *(_text(row.get(k)) for k in keys)]
                           for row in state])


def _of(done: object, total: object) -> str | None:
    return None if done is None else f"{done} / {total}"


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return format_number(round(value, 6) if abs(value) >= 1e-3 else value)
    return str(value)


# --- several runs -----------------------------------------------------------------------
@dataclass(frozen=True)
class RecentRun:
    id: str
    label: str
    status: str
    done: bool
    metric: str | None  # final (or latest) validation accuracy or loss, for the list
    checked: bool


def recent_runs(views: Sequence[dict[str, Any]], selected: Iterable[str] = ()) -> list[RecentRun]:
    chosen = set(selected)
    out = []
    for view in views:
        epochs = view["metrics"]["epochs"]
        metric = None
        for key in ("val_accuracy", "train_accuracy", "val_loss", "train_loss"):
            values = [v for v in epochs[key] if v is not None]
            if values:
                metric = f"{key} {_text(values[-1])}"
                break
        out.append(RecentRun(view["id"], run_label(view), view["status"],
                             view["status"] in TERMINAL, metric, view["id"] in chosen))
    return out


@dataclass(frozen=True)
class CompareRow:
    id: str
    label: str
    tone: int
    status: str
    cells: list[str]  # one per COMPARE_COLUMNS
    best: list[bool]


COMPARE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (key in the summary's "final" or the run, heading msgid, which end is best)
    ("train_loss", N_("Training loss"), "min"),
    ("val_loss", N_("Validation loss"), "min"),
    ("train_accuracy", N_("Training accuracy"), "max"),
    ("val_accuracy", N_("Validation accuracy"), "max"),
    ("epochs_completed", N_("Epochs"), ""),
    ("elapsed_s", N_("Wall time (s)"), ""),
)


@dataclass
class ComparePage:
    rows: list[CompareRow]
    loss: Chart
    accuracy: Chart | None
    lr: Chart
    running: bool
    ids: list[str]
    columns: tuple[tuple[str, str, str], ...] = COMPARE_COLUMNS


def compare_page(views: Sequence[dict[str, Any]]) -> ComparePage:
    """Several runs overlaid: one tone per run, solid for training and dashed for
    validation; their final metrics side by side, the best of each column marked."""
    loss, acc, lrs = [], [], []
    rows = []
    finals = [_final_values(v) for v in views]
    for index, view in enumerate(views):
        tone = RUN_TONES[index % len(RUN_TONES)]
        label = run_label(view)
        epochs, steps = view["metrics"]["epochs"], view["metrics"]["steps"]
        loss.append(Series(N_("training loss"), epochs["epoch"], epochs["train_loss"],
                           tone=tone, run=label))
        if any(v is not None for v in epochs["val_loss"]):
            loss.append(Series(N_("validation loss"), epochs["epoch"], epochs["val_loss"],
                               tone=tone, dashed=True, run=label))
        if any(v is not None for v in epochs["train_accuracy"]):
            acc.append(Series(N_("training accuracy"), epochs["epoch"],
                              epochs["train_accuracy"], tone=tone, run=label))
        if any(v is not None for v in epochs["val_accuracy"]):
            acc.append(Series(N_("validation accuracy"), epochs["epoch"],
                              epochs["val_accuracy"], tone=tone, dashed=True, run=label))
        lrs.append(Series(N_("learning rate"), steps["total_iteration"], steps["lr"],
                          tone=tone, run=label))
        rows.append(CompareRow(view["id"], label, tone, view["status"],
                               [_text(finals[index][k]) for k, _, _ in COMPARE_COLUMNS],
                               [_is_best(finals, index, k, end) for k, _, end in COMPARE_COLUMNS]))
    return ComparePage(
        rows=rows, loss=line_chart(loss, log_y=True),
        accuracy=line_chart(acc, y_range=(0.0, 1.0)) if acc else None,
        lr=line_chart(lrs), running=any(v["status"] not in TERMINAL for v in views),
        ids=[v["id"] for v in views])


def _final_values(view: dict[str, Any]) -> dict[str, Any]:
    """A run's final metrics: the summary's once it ended, else the latest epoch's."""
    summary = view.get("summary") or {}
    epochs = view["metrics"]["epochs"]
    values: dict[str, Any] = dict(summary.get("final") or {})
    for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        if key not in values:
            values[key] = epochs[key][-1] if epochs[key] else None
    values["epochs_completed"] = summary.get("epochs_completed", view["progress"]["epoch"])
    values["elapsed_s"] = summary.get("elapsed_s") or (
        epochs["elapsed_s"][-1] if epochs["elapsed_s"] else None)
    return values


def _is_best(finals: list[dict[str, Any]], index: int, key: str, end: str) -> bool:
    if not end or len(finals) < 2:
        return False
    values = [finite_number(f[key]) for f in finals]
    mine = values[index]
    known = [v for v in values if v is not None]
    if mine is None or len(known) < 2:
        return False
    return mine == (min(known) if end == "min" else max(known))
