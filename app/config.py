"""Every limit of the playground, each with the reason it exists.

Values come from the environment with the prefix ``PLAYGROUND_`` (for example
``PLAYGROUND_DEADLINE_S=10``). ``tests/test_config.py`` fails when a setting has no
description, so every new limit must say why it is there.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAYGROUND_", frozen=True)

    # --- what a program may look like (checked in the web process, before any worker) ---
    max_source_chars: int = Field(
        20_000,
        description="Longest program accepted. The longest lesson is ~2 kB; 10x leaves room "
        "while keeping parse time and AST size trivially small.",
    )
    max_ast_nodes: int = Field(
        5_000,
        description="Most AST nodes in one program. Bounds validation and interpretation "
        "cost of pathological but short sources.",
    )
    max_ast_depth: int = Field(
        60,
        description="Deepest nesting of the AST. The tree-walker recurses once per level; "
        "this keeps it far below Python's recursion limit.",
    )

    # --- what a program may do while it runs (checked in the worker) ---
    max_steps: int = Field(
        200_000,
        description="Statements and loop iterations one program may execute. Stops endless "
        "while-loops long before the deadline on a fast path.",
    )
    max_call_depth: int = Field(
        40,
        description="Deepest chain of user function calls (recursion). Keeps the interpreter "
        "well inside Python's own stack.",
    )
    max_object_ids: int = Field(
        10_000,
        description="Most distinct objects id() numbers in one program. id() keeps each "
        "object alive so its number stays its own; this bounds what it keeps.",
    )
    max_call_bytes: int = Field(
        256 * MiB,
        description="Largest tensor memory one call may allocate, predicted before the call. "
        "A teaching example needs kilobytes; this still allows a 8k x 8k float32 matrix.",
    )
    max_total_bytes: int = Field(
        1024 * MiB,
        description="Most tensor memory alive at once in one program. With the default pool "
        "of 2 workers this keeps a 24 GiB machine far from swapping.",
    )
    max_resident_growth_bytes: int = Field(
        3072 * MiB,
        description="Most resident memory a program may add to its worker, read every "
        "resident_check_interval_s while it runs: tensors (at most max_total_bytes) and the "
        "Python objects no tensor budget sees (400 lists of a million items held 3 GB). A "
        "CUDA worker has no RLIMIT_AS, so this is what stops them there; on a CPU worker it "
        "answers before worker_memory_bytes does.",
    )
    resident_check_interval_s: float = Field(
        0.005,
        description="How often a running program's resident memory is read (one pread of "
        "/proc/self/statm, a few microseconds). Python allocates at most a few GB/s, so "
        "5 ms lets a program pass max_resident_growth_bytes by some tens of MB at most.",
    )
    cycle_collect_min_bytes: int = Field(
        64 * MiB,
        description="Tensor memory a finished run may still hold through reference cycles "
        "(its interpreter, a program's object that refers to itself) before the sandbox runs "
        "a full garbage collection: each run's budget starts at 0, so held cycles piled up "
        "across timed repeats. Smaller leftovers wait for the worker's collection after the "
        "job; in a process that did not freeze its start-up objects a full collection costs "
        "up to 200 ms.",
    )
    view_memo_bytes: int = Field(
        2 * MiB,
        description="Views (a tensor's repr, values and statistics; a trace's picture) a "
        "checked program keeps by content for its next runs: a class reruns the same "
        "programs, and a fixed seed makes the same tensors, whose views were most of a "
        "small program's run. Kept with the program's entry of parsed_program_cache_entries "
        "(16 programs: 32 MB at most per worker), and found only by a run that made a "
        "tensor of the same bytes itself. 0 keeps views for one run only.",
    )
    parsed_program_cache_entries: int = Field(
        16,
        description="Checked programs a worker keeps, by their exact source text: a program "
        "sent again (a lesson's example, a rerun) skips parsing and checking, a fifth of a "
        "small program's run (the web process remembers as many texts that passed its own "
        "check, ~0.1 ms each). A tree takes ~200 bytes per AST node: ~20 kB for a lesson's "
        "program, ~1 MB at max_ast_nodes, so 16 MB at worst. The web process checks every "
        "program before it is queued all the same; 0 turns the cache off.",
    )
    prediction_cache_entries: int = Field(
        1_024,
        description="Budget predictions a worker keeps, by call signature (callable, tensor "
        "layouts, other argument values): a loop pays for each distinct call's meta dry run "
        "once (~25-50 us for a two-tensor op, ~2 ms for a small nn.Sequential). Typically "
        "~1 kB each, a few kB at worst (keys are bounded, app/engine/predictions.py); 0 turns "
        "the cache off.",
    )
    max_call_flops: int = Field(
        20_000_000_000,
        description="Most floating point operations for one matmul-like call (mm, matmul, "
        "linear, conv). ~1-2 s of one CPU core; a GPU does it in milliseconds.",
    )
    max_sequence_items: int = Field(
        1_000_000,
        description="Longest Python list/str/range a program may materialise. Stops "
        "list(range(10**12)) and 'a'*10**10 before they allocate.",
    )
    max_format_width: int = Field(
        1_000,
        description="Widest field and longest precision one format spec may ask for "
        "(f'{x:>10}', '%.4f', '{:{}}'.format(x, w)). Python pads or writes digits to any "
        "size in one C call (f'{x:>1000000000}' is a gigabyte, '%.999999f' a million digits); "
        "a table column or a printed loss needs tens.",
    )
    max_objects_per_call: int = Field(
        100_000,
        description="Most tensors one call may return (x.unbind(), x.split(1), a DataLoader "
        "batch's items). Each tensor object costs hundreds of bytes that no tensor budget "
        "sees: 3 million unbound rows took about 1 GB.",
    )
    max_namedtuple_types: int = Field(
        100,
        description="Most collections.namedtuple types one program may make. Each is a class "
        "CPython builds from source (a few kB and ~50 us); a loop could make 200,000.",
    )
    max_namedtuple_fields: int = Field(
        64,
        description="Most fields of one namedtuple: a record, not a data set (CPython builds "
        "its constructor as source text from the field names).",
    )
    max_int_bits: int = Field(
        4_096,
        description="Largest Python integer a program may compute. 10**10**8 would otherwise "
        "block the worker in one C call.",
    )
    deadline_s: float = Field(
        5.0,
        description="Wall-clock limit of one program. The worker is killed and replaced when "
        "it passes (plus kill_grace_s).",
    )
    kill_grace_s: float = Field(
        1.0,
        description="Time after the deadline before the worker is killed; lets the cooperative "
        "check report a clean TimeoutError with the line that was running.",
    )
    max_stdout_chars: int = Field(
        20_000,
        description="Most characters print() may write; the rest is dropped with a notice.",
    )
    # --- matplotlib figures (app/engine/plots.py) ---
    max_figures: int = Field(
        8,
        description="Most figures one program may create (plt.figure / plt.subplots). Each "
        "is rendered to SVG after the program, so a loop of figure() calls would otherwise "
        "make the response as large as the loop is long.",
    )
    max_figure_axes: int = Field(
        16,
        description="Most subplots in one figure (nrows x ncols). A 4x4 grid is the most a "
        "lesson needs; every axes costs layout and rendering time.",
    )
    max_figure_points: int = Field(
        100_000,
        description="Most data points in one figure, summed over every plot, scatter, bar, "
        "hist and imshow call. SVG size and rendering time grow with each point.",
    )
    max_figure_artists: int = Field(
        100,
        description="Most lines, scatters, bar groups, histograms and images in one figure (a "
        "2-D array is one line per column). Each is an object matplotlib lays out, and an "
        "entry in a legend: 2,000 lines with a legend took 12 s to draw.",
    )
    max_figure_markers: int = Field(
        5_000,
        description="Most markers in one figure: scatter points, and line points drawn with a "
        "marker ('o-'). Each is its own SVG element (~140 bytes) and drawing call; 10,000 "
        "took about 1.7 s to render on a busy 2-core machine.",
    )
    max_figure_bars: int = Field(
        200,
        description="Most bars in one figure (bar() bars and hist() bins); a lesson's charts "
        "have tens. Each is a matplotlib object built and drawn in Python, 2 to 10 ms apiece "
        "with its category label on a busy 2-core machine: 50,000 bars took a minute.",
    )
    max_figure_inches: float = Field(
        32.0,
        description="Largest width or height of a figure in inches (figsize=). The page shows "
        "figures at most a column wide; larger sizes only cost rendering memory, and a figure "
        "past max_figure_pixels is drawn at a lower dpi, so this bounds the layout only "
        "(pytorch/examples' time-sequence plot is 30 x 10 inches).",
    )
    max_figure_dpi: int = Field(
        200,
        description="Highest dots per inch of a figure (dpi=). Raster parts (imshow) are "
        "drawn at this resolution.",
    )
    max_figure_pixels: int = Field(
        1_500_000,
        description="Most pixels in one figure (width x height x dpi squared): bounds the "
        "raster parts matplotlib draws (an imshow is resampled to the figure's pixels and "
        "PNG-encoded; 4 million took 2.4 s). The page shows a figure at most ~1,000 px wide.",
    )
    max_figure_svg_bytes: int = Field(
        2 * MiB,
        description="Largest SVG of one rendered figure; a larger figure is dropped with a "
        "notice so one response stays a few megabytes at most.",
    )
    max_figure_text_chars: int = Field(
        2_000,
        description="Most characters of text in one figure (titles, labels, legend entries, "
        "bar categories). Each is drawn as a glyph path: 100,000 characters took 22 s to "
        "render.",
    )
    max_contour_cells: int = Field(
        10_000,
        ge=4,
        description="Most values in the grid of one plt.contour / contourf (Z). Every cell is "
        "visited once per level and every crossing is a path point in the SVG: noise on a "
        "200 x 200 grid with 50 levels took 10 s to draw (a 65 MB SVG); 100 x 100 with 20 "
        "levels, 1.3 s on a loaded machine. A lesson's grids are under 100 x 100.",
    )
    max_contour_levels: int = Field(
        20,
        ge=1,
        description="Most contour levels (levels=): each is a pass over the grid and a set "
        "of paths in the SVG (matplotlib's default is about 8).",
    )
    max_axis_ticks: int = Field(
        100,
        ge=1,
        description="Most tick positions one xticks / yticks call may set: each is a line and "
        "a label matplotlib lays out and draws (a 10**5-tick axis took seconds); a lesson's "
        "axes have tens.",
    )
    max_pprint_items: int = Field(
        20_000,
        ge=1,
        description="Most items (container entries, nested ones included) pprint / pformat "
        "lay out. pprint runs in plain Python without the interpreter's step budget: "
        "300,000 two-item lists at width=1 took 10 s; 20,000 take 0.7 s on a loaded machine.",
    )
    max_pprint_width: int = Field(
        1_000,
        ge=1,
        description="Widest line pprint.pprint / pformat may aim for (width=). The page's "
        "output is a few hundred characters wide; the width only chooses where lines break, "
        "and the text is bounded like print's either way.",
    )
    max_plot_text_chars: int = Field(
        200,
        description="Longest title, label or legend entry. Text is laid out glyph by glyph; "
        "a label of a million characters would take seconds to render.",
    )
    max_view_values: int = Field(
        1_024,
        description="Most tensor values returned per view; larger tensors are truncated "
        "(truncated: true). Keeps responses small for a browser and a phone.",
    )
    max_repr_chars: int = Field(
        4_000,
        description="Longest repr string returned per value.",
    )
    max_steps_reported: int = Field(
        200,
        description="Most per-statement trace entries returned.",
    )
    max_trace_frames: int = Field(
        60,
        description="Most frames of the step-through trace (each holds every variable): "
        "bounds the /eval body and the time spent tracing while the program runs.",
    )
    max_trace_iterations: int = Field(
        10,
        description="Most passes of one top-level loop shown as frames of the step-through "
        "trace: a 1,000-step training loop would otherwise use up every frame.",
    )
    max_trace_variables: int = Field(
        16,
        description="Most variables shown in one frame of the step-through trace.",
    )
    max_trace_values: int = Field(
        12,
        description="Most values shown per tensor in a trace frame or a gradient-trace node: "
        "enough to follow a small example, bounded however large the tensor is.",
    )
    max_trace_text_chars: int = Field(
        120,
        description="Longest text of a non-tensor value in a trace frame: a frame repeats "
        "every variable, so max_repr_chars (4,000) per value would make 60 frames of 16 "
        "long lists megabytes.",
    )
    max_grad_trace_calls: int = Field(
        4,
        description="Most backward() / autograd.grad calls recorded in the gradient trace; "
        "a training loop's later calls run without our hooks.",
    )
    max_grad_trace_nodes: int = Field(
        60,
        description="Most autograd nodes hooked and recorded per backward call in the "
        "gradient trace.",
    )
    max_provenance_cells: int = Field(
        256,
        description="Largest output (in cells), and most input values together, for which "
        "the result grid shows where each number came from (stack, cat, view, indexing, "
        "broadcasting, mm): each cell is drawn and labelled, and a 16x16 grid is as much as "
        "a student follows cell by cell; it also bounds the replay on index tensors.",
    )
    max_provenance_records: int = Field(
        8,
        description="Most operations whose provenance a run keeps (the latest ones) and "
        "returns: the result and a few variables are what the page shows. 0 turns "
        "provenance off (no replay at all).",
    )
    max_variables_reported: int = Field(
        100,
        description="Most user variables returned in one response.",
    )
    max_response_bytes: int = Field(
        4 * MiB,
        description="Largest JSON body a worker may send back; protects the web process.",
    )

    # --- the worker pool ---
    workers: int = Field(
        default_factory=lambda: max(1, min(4, os.cpu_count() or 1)),
        description="Sandbox worker processes. One per core: each runs one torch thread.",
    )
    max_queue: int = Field(
        64,
        description="Requests that may wait for a free worker; beyond this /eval answers 503 "
        "with Retry-After instead of piling up latency.",
    )
    worker_memory_bytes: int = Field(
        4096 * MiB,
        description="Address-space headroom (RLIMIT_AS) granted to a CPU worker above what "
        "torch needs after import. A runaway allocation kills only that worker. Not applied "
        "on CUDA, whose driver maps huge virtual ranges.",
    )
    worker_max_programs: int = Field(
        500,
        description="Programs one worker runs before it is replaced; a fresh process bounds "
        "any state or fragmentation that might survive a program.",
    )
    cuda_memory_fraction: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of GPU memory one worker process may use (set by the server, never "
        "by user code). Workers share the device, so the shares must add up to less than "
        "one. 0: 0.9 / workers, leaving a tenth for the CUDA contexts.",
    )
    executor_backend: Literal["local", "ray"] = Field(
        "local",
        description="Where sandboxed jobs run: 'local', a pool of worker processes on this "
        "machine (app/executor/local.py); 'ray', sandbox workers as Ray actors "
        "(app/executor/ray_backend.py, the optional extra [ray]).",
    )
    ray_address: str = Field(
        "",
        description="Ray cluster the 'ray' backend joins ('auto', or ray://host:port). Empty: "
        "a local Ray instance with one CPU per worker, started by the server.",
    )
    ray_cpus_per_actor: float = Field(
        1.0,
        gt=0.0,
        description="CPUs Ray reserves for one sandbox actor: one torch thread each, so one "
        "per actor keeps actors from slowing each other down.",
    )
    ray_gpus_per_actor: float = Field(
        0.0,
        ge=0.0,
        description="GPU share Ray reserves for one sandbox actor (0.25: four actors per GPU), "
        "so Ray places actors on GPU nodes without overfilling a device. 0: CPU actors.",
    )
    ray_actor_start_s: float = Field(
        180.0,
        gt=0.0,
        description="Longest wait for a new actor to import torch, warm up and lock down; "
        "beyond it the cluster is taken to have no room for it and the actor is dropped.",
    )
    cancel_grace_s: float = Field(
        1.0,
        description="Time a cancelled job has to stop by itself (a training run checks between "
        "steps and keeps its metrics) before its worker is killed and replaced.",
    )
    job_result_kept_s: float = Field(
        300.0,
        description="How long the executor keeps a finished job's result for a late reader; "
        "bounds the memory of jobs whose result nobody asked for.",
    )

    # --- devices ---
    cuda_fallback: Literal["cpu", "error"] = Field(
        "cpu",
        description="What device='cuda' does on a server without a GPU: run on the CPU with a "
        "notice (good for classrooms on laptops), or refuse with an error.",
    )

    # --- the web side ---
    rate_limit_per_minute: int = Field(
        600,
        description="Requests to /eval per client address per minute (0 disables). A classroom "
        "behind one NAT address shares this budget, so it is generous.",
    )
    compress_min_bytes: int = Field(
        1024,
        description="Responses at least this long are gzip-compressed when the client accepts "
        "gzip (JSON and HTML). Below ~1 kB the gzip header and the CPU cost outweigh the few "
        "bytes saved.",
    )
    compress_level: int = Field(
        1,
        ge=1,
        le=9,
        description="zlib level for compressed responses. A response's tensor values are "
        "digits that compress little better at higher levels: level 1 took 4.6 ms and level "
        "6 28 ms for a 266 kB body on a loaded 2-core machine, for 8% fewer bytes.",
    )
    max_body_bytes: int = Field(
        256 * 1024,
        description="Largest request body accepted; a program is at most max_source_chars.",
    )
    max_header_bytes: int = Field(
        64 * 1024,
        description="Largest total size of a request's header lines; larger requests get 431 "
        "before any route parses them (uvicorn's httptools sets no limit). A browser sends "
        "1-4 kB, but htmx repeats the page's address in HX-Current-URL and a permalink address "
        "carries its programs: up to the 60,000-character token a permalink may have, plus "
        "room for the other headers.",
    )

    # --- training runs (app/training: POST /runs) ---
    train_max_parameters: int = Field(
        250_000,
        description="Most trainable parameters of one run's MLP. A run holds one worker and one "
        "CPU thread; at this size a step of batch 64 still takes about a millisecond, so runs "
        "stay interactive. Checked before the run is queued.",
    )
    train_max_samples: int = Field(
        10_000,
        description="Largest data set (train + validation samples) one run may generate. The "
        "built-in sets only illustrate ideas; more samples make each epoch slower without "
        "teaching more.",
    )
    train_max_epochs: int = Field(
        1_000,
        description="Most epochs one run may ask for. Also bounds the per-epoch events a run "
        "sends and the web process keeps.",
    )
    train_max_steps: int = Field(
        50_000,
        description="Most optimizer steps (epochs x iterations per epoch) one run may ask for; "
        "refused before queuing, so a run that cannot finish in its wall time fails at once "
        "instead of after a minute.",
    )
    train_deadline_s: float = Field(
        60.0,
        description="Wall-clock limit of one training run. The run checks it between steps and "
        "stops itself with status timed_out, keeping its metrics.",
    )
    train_wrapup_s: float = Field(
        3.0,
        description="Extra time the executor grants a training job beyond train_deadline_s "
        "before killing its worker: enough to build the final summary, so the run reports "
        "timed_out itself rather than being killed.",
    )
    train_max_pause_s: float = Field(
        120.0, ge=0,
        description="Most time one training run may spend paused, over all its pauses. A "
        "paused run keeps its sandbox worker (one of train_workers), so the pause is bounded: "
        "when this is used up the run resumes by itself and trains to its end, and its job's "
        "wall-time limit grows by this much. Two minutes is enough to look at a decision "
        "boundary and talk about it; 0 turns pausing off.",
    )
    train_max_events_per_s: float = Field(
        20.0,
        description="Most per-iteration progress events per second of one run; steps between "
        "them are trained but not reported. Bounds the pipe, the web process's memory and the "
        "browser's redraws (a chart cannot show more).",
    )
    train_boundary_grid: int = Field(
        40,
        description="Cells per side of the decision-boundary grid of a 2-D data set (40 x 40 = "
        "1,600 probabilities, about 10 kB of JSON per snapshot).",
    )
    train_max_boundary_events: int = Field(
        25,
        description="Most decision-boundary (or regression curve) snapshots per run; they are "
        "spread evenly over the epochs. Each is a forward pass over the grid and ~10 kB kept "
        "by the web process.",
    )
    train_boundary_min_interval_s: float = Field(
        0.25,
        description="Least time between two snapshots (the last epoch always gets one). A "
        "snapshot costs about a millisecond; without this a run of tiny epochs spent 13% of "
        "its time drawing boundaries nobody can watch that fast.",
    )
    train_workers: int = Field(
        0,
        description="Workers that training runs may hold at once; the others stay free for "
        "programs, so a class that is training still gets instant scratchpad results. "
        "0: all workers but one (at least one). More runs wait in a fair queue.",
    )
    train_max_queued: int = Field(
        200,
        description="Training runs that may wait for a worker, server-wide. Enough for several "
        "classes of 30 each starting a few runs; beyond it POST /runs answers 503 with "
        "Retry-After rather than promising a start hours away.",
    )
    train_max_runs_per_client: int = Field(
        3,
        description="Training runs one caller may have queued or running at once (429 "
        "beyond): the queue is fair between callers anyway, this bounds what one caller "
        "can make everyone wait behind.",
    )
    train_max_runs_per_class: int = Field(
        90,
        description="Training runs one class may have queued or running at once (429 "
        "beyond): three per student of a class of 30. Applies to callers that belong to a "
        "class (anonymous callers have none).",
    )
    train_expected_s: float = Field(
        2.0,
        description="Expected length of one training run before any has ended on this "
        "server, for the estimated start of queued runs; then the running average of the "
        "runs that ended is used. A default run (moons, 20 epochs) took 0.6-1.4 s on one "
        "core of a shared 2-core machine (docs/SCALING.md); a longer guess errs on the late "
        "side.",
    )
    train_runs_kept: int = Field(
        50,
        description="Finished runs whose history the web process keeps for GET /runs/{id} and "
        "replay; the oldest finished run is dropped first. Each keeps at most about 1 MB "
        "(steps are rate-limited, snapshots capped, events stored as JSON text).",
    )
    run_store: Literal["sqlite", "redis", "memory"] = Field(
        "sqlite",
        description="Where run records and events live: 'sqlite', a file in data_dir (one "
        "host; a restart keeps finished runs, and web processes on the same host share it); "
        "'redis', a Redis server shared by every web process on any host, so any of them "
        "serves any run and its SSE stream (docs/SCALING.md); or 'memory', this process "
        "only, lost on restart (nothing is written to disk).",
    )
    run_store_url: str = Field(
        "redis://localhost:6379/0",
        description="The Redis server of run_store='redis' (redis://host:port/db).",
    )
    run_store_poll_s: float = Field(
        0.2, gt=0, le=5,
        description="How often a follower of a run that another process drives asks the "
        "SQLite store for new events (SQLite cannot notify): 0.2 s is below what a student "
        "watching a chart notices and costs one indexed query per open stream.",
    )
    run_control_poll_s: float = Field(
        0.5, gt=0, le=5,
        description="How often the process driving a run looks in the shared store (sqlite or "
        "redis) for a cancel, pause, resume or step sent through another web process. A "
        "paused run sends no events, so this poll is what resumes it; half a second feels "
        "immediate to a student and is two small reads per live run.",
    )
    run_store_keep_s: int = Field(
        7 * 24 * 3600, ge=60,
        description="How long the shared store keeps a finished run (spec, status, metrics, "
        "events) for reading and replay: a week covers a lesson and its follow-up.",
    )

    # --- the worker's OS layer (app/executor/oslayer.py) ---
    worker_os_layer: bool = Field(
        True,
        description="Lock each worker down after its warm-up: seccomp filter, Landlock, "
        "no_new_privs, an unprivileged user, scrubbed freed memory. Defence in depth for a "
        "program that got past the interpreter; turn off only to tell whether a failure "
        "comes from this layer.",
    )
    worker_user: str = Field(
        "nobody",
        description="User the workers switch to when the server runs as root, so an escaped "
        "program owns no file and holds no privilege. If the user does not exist the "
        "workers stay root and say so in the log.",
    )

    # --- bounds on the work done after a program ended (views, hints) ---
    max_hint_message_chars: int = Field(
        2_000,
        description="Longest head of an error message the hints look at. The program writes "
        "the message (assert False, 'x' * 10**5), and the hints run after its deadline; every "
        "torch message they explain is far shorter.",
    )
    max_stats_elements: int = Field(
        1_000_000,
        description="Most elements a tensor view computes min/max/mean/std over (after "
        "dropping expanded, stride-0 dimensions, which repeat values without changing the "
        "statistics). They are computed in float64: 8 MB and a few ms at this size; larger "
        "tensors report stats null with a note instead of a 1 GB copy.",
    )
    max_repr_elements: int = Field(
        2_000,
        description="Most elements one tensor or array repr formats. torch and numpy print every "
        "element of dimensions of 6 or fewer, so (6,) * 12 would format 2 billion; every "
        "element takes at least 2 of the max_repr_chars characters shown, so more could not "
        "be seen anyway. Larger ones get a one-line summary; the values field shows the data.",
    )
    max_view_dims: int = Field(
        32,
        description="Most dimensions a view lists values for. A (1,) * 5000 tensor is legal; "
        "its values would nest 5000 lists deep, past the JSON encoder's and the browser's "
        "recursion limits. Lessons use at most 5.",
    )
    max_view_items: int = Field(
        2_000,
        description="Most values one view visits: items of nested lists, tuples and dicts "
        "(a tensor, array or layer among them counts the values it shows, at least 16), "
        "modules and parameters walked for a parameter count, pieces of a repr. "
        "[[[t] * 50] * 50] * 50 is three cheap statements but 125,000 tensor views (3.7 MB), "
        "and a view is built for each traced step.",
    )

    # --- the classroom (app/classroom): teachers, classes, students' seats ---
    data_dir: str = Field(
        "data",
        description="Directory of the server's own files: the embedded SQLite database and the "
        "secret that signs classroom cookies, so `make run` needs no database server.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the classroom database, e.g. "
        "postgresql+psycopg://user:pw@host/db. Empty means an SQLite file in data_dir.",
    )
    secret_key: str = Field(
        "",
        description="Key signing the session, seat and CSRF cookies. Empty means a random key "
        "kept in data_dir/secret_key, so cookies survive a restart; set it when several web "
        "processes must accept each other's cookies.",
    )
    teacher_session_s: int = Field(
        8 * 3600,
        description="Lifetime of a teacher's login: a school day. A forgotten login on a shared "
        "classroom computer stops working by the next morning.",
    )
    seat_cookie_s: int = Field(
        180 * 24 * 3600,
        description="Lifetime of a student's seat cookie: a term. A seat holds no password, and "
        "the recovery code brings it back on another device after it expires.",
    )
    classroom_login_per_minute: int = Field(
        10,
        description="Teacher login attempts per minute per client address: slows password "
        "guessing to a crawl while a mistyped password is retried freely.",
    )
    classroom_join_per_minute: int = Field(
        30,
        description="Join and recovery attempts per minute per client address. A whole class "
        "behind one school NAT joins within a minute; guessing a 6-character code "
        "(23^6 = 148 million) or a 12-character recovery code at this rate takes centuries.",
    )
    max_display_name_chars: int = Field(
        40,
        description="Longest student display name or class name: a name, not a text; keeps the "
        "dashboard grid readable.",
    )
    max_classes_per_teacher: int = Field(
        200,
        description="Most classes one teacher may hold, so a scripted form cannot fill the "
        "database.",
    )
    max_students_per_class: int = Field(
        500,
        description="Most seats in one class; a lecture hall is a few hundred. Bounds the "
        "dashboard grid and what a leaked join code can add.",
    )
    classroom_retention_days: int = Field(
        365, ge=0,
        description="A class nobody has used for this many days (no new seat, no exercise "
        "check) is deleted with its students' names, programs and attempts, checked at start "
        "and every 6 hours: a school year and its reports, not forever. 0 keeps everything.",
    )
    max_attempt_code_chars: int = Field(
        20_000,
        description="Longest program stored with an attempt (as max_source_chars): the teacher "
        "reads the latest one.",
    )
    max_teacher_exercises: int = Field(
        500,
        description="Most exercises one teacher may write, so a scripted form cannot fill the "
        "database; a year of weekly exercises for several courses is a few hundred.",
    )
    max_exercise_text_chars: int = Field(
        10_000,
        description="Longest task text of a teacher's exercise, per language: a few screens, "
        "which a task on one page never needs more than.",
    )
    max_exercise_checks: int = Field(
        6,
        description="Most checks one teacher's exercise compares (rows of its form): each "
        "names one value, and a task with more is better split in two.",
    )
    max_variant_params: int = Field(
        8,
        description="Most randomized inputs one exercise declares: enough for a shape, a few "
        "numbers and a seed, and few enough for the dashboard to show them in a cell.",
    )
    exercise_validation_variants: int = Field(
        3,
        ge=1,
        le=10,
        description="Variants whose reference is run before a teacher's exercise is saved: "
        "the lowest values, the highest, and random ones; each is a sandbox run (about "
        "0.1 s), and the extremes are where a shape-dependent reference breaks.",
    )
    teacher_reference_cache_entries: int = Field(
        1_000,
        description="Reference runs of teachers' exercises kept, one per (exercise, variant), "
        "so a student's next check runs one program, not two; 1,000 holds a class of 500 "
        "working on two exercises.",
    )

    # --- API keys (app/classroom/apikeys.py): scripts and API clients of a teacher ---
    max_api_keys_per_teacher: int = Field(
        50,
        description="Most live (unrevoked) API keys one teacher may hold: one per script or "
        "class is a handful; bounds what a scripted form can add.",
    )
    api_key_max_rate_per_minute: int = Field(
        600,
        description="The highest /eval rate a teacher may give one API key (requests per "
        "minute): the anonymous per-address default, so a key never buys more than a "
        "visitor's whole address gets.",
    )
    api_key_default_rate_per_minute: int = Field(
        60,
        description="The /eval rate a new API key's form suggests: one request a second "
        "suits a grading script; the teacher may raise it up to api_key_max_rate_per_minute.",
    )
    api_key_max_runs: int = Field(
        10,
        description="The most training runs queued or running at once a teacher may give "
        "one API key (0 is allowed: a key that may not train).",
    )
    api_key_default_runs: int = Field(
        2,
        description="Training runs queued or running at once that a new API key's form "
        "suggests.",
    )
    api_key_last_used_every_s: int = Field(
        60,
        description="How often a key's 'last used' time is written (seconds): a busy script "
        "calling many times a second would otherwise write the database on every request.",
    )


    @property
    def effective_train_workers(self) -> int:
        """train_workers, with 0 meaning all workers but one (at least one)."""
        if self.train_workers > 0:
            return min(self.train_workers, self.workers)
        return max(1, self.workers - 1)

    @property
    def worker_cuda_memory_fraction(self) -> float:
        return self.cuda_memory_fraction or round(0.9 / self.workers, 3)


@lru_cache
def get_settings() -> Settings:
    return Settings()
