"""A call run in a forked process: its value, its error, its logs and warnings come back."""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings

import psutil
import pytest

from titanic.errors import DataError, TitanicError
from titanic.processes import forked_call


def own_pid() -> int:
    return os.getpid()


def add(left: int, right: int) -> int:
    return left + right


def refuse(message: str) -> None:
    raise DataError(message, location="train.csv")


def log_and_warn() -> str:
    logging.getLogger("titanic.test_child").warning("from the child: %d rows", 12)
    warnings.warn("a child's warning", UserWarning, stacklevel=1)
    return "done"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def sleep_long() -> None:
    time.sleep(60)


def test_the_call_runs_in_another_process_and_returns_its_value():
    with forked_call("a sum", add, 2, 3) as sum_call:
        assert sum_call.result() == 5
    with forked_call("a pid", own_pid) as pid_call:
        assert pid_call.result() != os.getpid()


def test_the_call_s_error_is_raised_here_as_it_was_raised_there():
    with (
        forked_call("a refusal", refuse, "no Survived column") as call,
        pytest.raises(DataError, match="^train.csv: no Survived column$") as raised,
    ):
        call.result()
    assert raised.value.location == "train.csv"


def test_the_call_s_log_records_and_warnings_are_emitted_here(caplog):
    caplog.set_level(logging.WARNING, logger="titanic.test_child")
    with (
        forked_call("a chatty call", log_and_warn) as call,
        pytest.warns(UserWarning, match="a child's warning"),
    ):
        assert call.result() == "done"
    assert [(record.name, record.getMessage()) for record in caplog.records] == [
        ("titanic.test_child", "from the child: 12 rows")
    ]


def test_a_process_that_dies_gives_one_clear_error_naming_the_call():
    with (
        forked_call("the nested search", die) as call,
        pytest.raises(TitanicError, match="^the nested search stopped: its process ended"),
    ):
        call.result()


def test_leaving_early_ends_the_process():
    with pytest.raises(KeyboardInterrupt), forked_call("a long call", sleep_long) as call:
        child = psutil.Process(call.pid)
        raise KeyboardInterrupt
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    with pytest.raises(ChildProcessError):
        os.waitpid(call.pid, os.WNOHANG)


def test_an_interrupt_while_waiting_for_the_result_ends_the_process():
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(KeyboardInterrupt), forked_call("a long call", sleep_long) as call:
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            call.result()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ChildProcessError):  # killed and collected, not left running
        os.waitpid(call.pid, os.WNOHANG)
