"""The sweep's live display: which variant runs on which worker, on an ordinary terminal."""

import io

from rich.console import Console

from titanic.cli.display import SweepProgress

RUNNING = {
    "n_estimators-100_max_depth-4": "127.0.0.1:40001",
    "n_estimators-300_max_depth-10": "127.0.0.1:40002",
}


def live_lines(progress: SweepProgress, width: int = 80) -> list[str]:
    """What the live display shows now, as lines of a ``width``-column terminal."""
    console = Console(file=io.StringIO(), width=width, record=True)
    console.print(progress.progress)
    return console.export_text().splitlines()


def test_each_running_variant_has_a_line_naming_its_worker():
    progress = SweepProgress(Console(file=io.StringIO()))
    progress.start(12)
    progress.running(RUNNING)
    lines = live_lines(progress)
    for name, worker in RUNNING.items():
        assert [line for line in lines if name in line and worker in line], lines
    assert any("running 2" in line for line in lines), lines
    progress.stop()


def test_a_variant_without_a_known_worker_is_still_listed_and_finished_ones_leave():
    progress = SweepProgress(Console(file=io.StringIO()))
    progress.start(12)
    progress.running({"max_depth-2": "127.0.0.1:40001", "max_depth-3": ""})
    lines = live_lines(progress)
    assert [line for line in lines if "max_depth-2" in line and "127.0.0.1:40001" in line]
    assert [line for line in lines if "max_depth-3" in line and " on " not in line], lines
    progress.running({"max_depth-3": "127.0.0.1:40002"})
    lines = live_lines(progress)
    assert not [line for line in lines if "max_depth-2" in line], lines
    assert [line for line in lines if "max_depth-3" in line and "127.0.0.1:40002" in line]
    progress.stop()


def test_a_hundred_running_variants_take_ten_lines_and_a_count():
    progress = SweepProgress(Console(file=io.StringIO()))
    progress.start(1000)
    progress.running({f"variant-{index}": f"127.0.0.1:{40000 + index}" for index in range(100)})
    lines = live_lines(progress)
    assert len([line for line in lines if "running variant-" in line]) == 10
    assert "variant-9 on 127.0.0.1:40009" in "\n".join(lines)
    assert any("and 90 more" in line for line in lines), lines
    progress.stop()
