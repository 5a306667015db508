"""How fast does minigpt2-tui open, against a minimal Textual app, in a real terminal?

Launches the installed app (`minigpt2-tui`) as a first launch on the shipped model (a fresh
temporary HOME and XDG directories: no last model, no settings) and a minimal Textual app
(Header, one Static, Footer) in a pseudo-terminal, alternately, and reads what each writes
to the terminal:

- first frame: from the launch until the app's first screen is on the terminal (the
  Explore prompt's placeholder; the minimal app's Static);
- first names: until the candidate list's status line ("... ctrl+f keeps one") is;
- torch ready: until the app has imported torch and loaded the model (the app writes the
  moment to the file named by MINIGPT2_TUI_TIMINGS; see tui/engine/startup.py).

Each is launched once unmeasured (bytecode written, files in the disk cache, as on a user's
second launch), then `--runs` times; prints JSON with the medians and the ratios to the minimal
app. Targets (2 CPU cores): first frame <= 1.2x the minimal app's, first names <= 2.0x.
`--baseline CMD` also launches another build (e.g. an older checkout) the same way.

    .venv/bin/python bench/startup_bench.py [--runs 3] [--size 120x40] [--baseline CMD]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

MINIMAL_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("A minimal Textual app")
        yield Footer()

Minimal().run()
"""
# The prompt's placeholder: drawn at every width (the label above it is hidden below 100
# columns).
FIRST_FRAME = {"app": "Type a start", "minimal": "A minimal Textual app"}
FIRST_NAMES = "ctrl+f keeps one"  # Explore's line under the prompt once names are listed
TIMEOUT_S = 60.0
QUIT = b"\x11"  # ctrl+q
# CSI and OSC sequences, and the single-character escapes: what is left is the text drawn.
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


@dataclass
class Launch:
    first_frame_s: float | None = None
    first_names_s: float | None = None
    torch_ready_s: float | None = None
    marks: dict[str, float] = field(default_factory=dict)


def installed_app() -> list[str]:
    """The `minigpt2-tui` beside this Python (a venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "minigpt2-tui"
    found = str(beside) if beside.exists() else shutil.which("minigpt2-tui")
    if found is None:
        raise SystemExit("minigpt2-tui is not installed (pip install -e .)")
    return [found]


def first_launch_env(home: Path, size: tuple[int, int], timings: Path) -> dict[str, str]:
    """A first launch: an empty HOME and XDG directories, so no last model or settings."""
    # PYTHONDONTWRITEBYTECODE (set on some machines) would compile an editable install's
    # modules at every launch: `pip install .`, as the README installs, compiles them once.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "TEXTUAL")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
               TERM="xterm-256color", COLUMNS=str(size[0]), LINES=str(size[1]),
               MINIGPT2_TUI_TIMINGS=str(timings))
    return env


def launch(command: list[str], markers: dict[str, str], size: tuple[int, int]) -> Launch:
    """Run `command` in a pseudo-terminal of `size`; seconds from the launch until each
    marker's text is on the terminal. Quits with ctrl+q once every marker is seen."""
    with tempfile.TemporaryDirectory(prefix="minigpt2-startup-") as scratch:
        home = Path(scratch)
        timings = home / "timings.jsonl"
        primary, secondary = os.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        started = time.monotonic()
        process = subprocess.Popen(command, stdin=secondary, stdout=secondary, stderr=secondary,
                                   env=first_launch_env(home, size, timings), cwd=scratch,
                                   start_new_session=True, close_fds=True)
        os.close(secondary)
        result = Launch()
        try:
            _watch(process, primary, markers, started, result, timings)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            os.close(primary)
        for line in timings.read_text().splitlines() if timings.exists() else []:
            mark = json.loads(line)
            result.marks[mark["event"]] = round(mark["monotonic"] - started, 3)
        result.torch_ready_s = result.marks.get("torch_ready")
        return result


def _watch(process: subprocess.Popen[bytes], primary: int, markers: dict[str, str],
           started: float, result: Launch, timings: Path) -> None:
    text, seen, quit_sent = b"", {}, 0.0
    deadline = started + TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(primary, 1 << 16)
            except OSError:  # the app has exited and closed the terminal
                break
            now = time.monotonic() - started
            text += ESCAPES.sub(b"", chunk)  # a sequence split across two reads: rare, harmless
            for name, marker in markers.items():
                if name not in seen and marker.encode() in text:
                    seen[name] = now
        elif process.poll() is not None:
            break
        if len(seen) == len(markers) and not quit_sent and torch_done(timings):
            os.write(primary, QUIT)
            quit_sent = time.monotonic()
        if quit_sent and time.monotonic() - quit_sent > 10:
            break
    result.first_frame_s = seen.get("first_frame")
    result.first_names_s = seen.get("first_names")


def torch_done(timings: Path) -> bool:
    """Torch is loaded, or the app does not say when (an older build: no start-up marks)."""
    marks = timings.read_text() if timings.exists() else ""
    return '"boot"' not in marks or '"torch_ready"' in marks


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if len(known) == len(values) and known else None


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def ratio(value: float | None, floor: float | None) -> float | None:
    return round(value / floor, 2) if value is not None and floor else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="120x40", help="the terminal, COLUMNSxLINES")
    parser.add_argument("--app", default=None, help="the app's command (default: installed)")
    parser.add_argument("--baseline", default=None, help="another build's command, to compare")
    args = parser.parse_args(argv)
    columns, lines = (int(n) for n in args.size.split("x"))
    size = (columns, lines)
    app_markers = {"first_frame": FIRST_FRAME["app"], "first_names": FIRST_NAMES}
    contestants = {"app": (shlex.split(args.app) if args.app else installed_app(), app_markers),
                   "minimal": ([sys.executable, "-c", MINIMAL_APP],
                               {"first_frame": FIRST_FRAME["minimal"]})}
    if args.baseline:
        contestants["baseline"] = (shlex.split(args.baseline), app_markers)
    runs: dict[str, list[Launch]] = {name: [] for name in contestants}
    for command, markers in contestants.values():  # unmeasured: bytecode and disk cache warm
        launch(command, markers, size)
    for _ in range(args.runs):  # alternately, so that a busy moment hits each alike
        for name, (command, markers) in contestants.items():
            runs[name].append(launch(command, markers, size))
    summary: dict[str, object] = {"runs": args.runs, "size": args.size,
                                  "cpu_cores": os.cpu_count(),
                                  "load_average_1min": round(os.getloadavg()[0], 2)}
    floor = median([r.first_frame_s for r in runs["minimal"]])
    for name in contestants:
        frame = median([r.first_frame_s for r in runs[name]])
        summary[name] = {
            "first_frame_s": frame,
            "first_names_s": median([r.first_names_s for r in runs[name]]),
            "torch_ready_s": median([r.torch_ready_s for r in runs[name]]),
            "app_marks_s": {event: median([r.marks.get(event) for r in runs[name]])
                            for event in runs[name][0].marks},
            "each": [{"first_frame_s": rounded(r.first_frame_s),
                      "first_names_s": rounded(r.first_names_s),
                      "torch_ready_s": r.torch_ready_s} for r in runs[name]],
        }
    app = summary["app"]
    assert isinstance(app, dict)
    ratios = {"first_frame": ratio(app["first_frame_s"], floor),
              "first_names": ratio(app["first_names_s"], floor)}
    summary["ratios_to_minimal"] = ratios
    if args.baseline:
        base = summary["baseline"]
        assert isinstance(base, dict)
        summary["baseline_ratios_to_minimal"] = {
            "first_frame": ratio(base["first_frame_s"], floor),
            "first_names": ratio(base["first_names_s"], floor)}
    summary["targets"] = {"first_frame": 1.2, "first_names": 2.0}
    summary["pass"] = bool(ratios["first_frame"] is not None and ratios["first_frame"] <= 1.2
                           and ratios["first_names"] is not None
                           and ratios["first_names"] <= 2.0)
    print(json.dumps(summary))
    return 0 if summary["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
