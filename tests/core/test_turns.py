"""Processes that take turns at timed blocks (dlbook_utils.turns), and the verdicts on the times.

The turn-taking is tested with threads standing in for processes (the protocol is files only);
one test plants a process that never takes its turn.
"""

import threading
import time

import numpy as np
import pytest

from dlbook_utils.parallel_checks import fastest_ms, round_ms, verdict
from dlbook_utils.turns import Turns, turn_order


def test_turn_order_lists_one_block_per_name_and_round():
    order = turn_order([(["a", "b"], 2), (["a", "b", "c"], 1)])
    assert order == ["a", "b", "a", "b", "a", "b", "c"]
    with pytest.raises(ValueError, match="distinct names and rounds >= 1"):
        turn_order([(["a", "a"], 2)])
    with pytest.raises(ValueError, match="distinct names and rounds >= 1"):
        turn_order([(["a"], 0)])


def _take_turns(folder, order, name, log, delay=0.0, lead=True):
    turns = Turns(str(folder), order, name, lead=lead, timeout=10)
    time.sleep(delay)  # untimed work of different lengths
    turns.ready()
    for _ in range(order.count(name)):
        with turns.turn():
            log.append((name, "start"))
            time.sleep(0.01)
            log.append((name, "end"))


def test_blocks_run_one_at_a_time_in_the_order_of_turns(tmp_path):
    order = turn_order([(["a", "b"], 3), (["a", "b", "c"], 2)])
    log = []
    threads = [threading.Thread(target=_take_turns, args=(tmp_path, order, name, log, delay))
               for name, delay in [("c", 0.0), ("b", 0.05), ("a", 0.1)]]  # c is ready first
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log[0::2] == [(name, "start") for name in order]  # never two blocks at once
    assert log[1::2] == [(name, "end") for name in order]


def test_a_process_that_never_takes_its_turn_stops_the_others_with_a_clear_error(tmp_path):
    order = turn_order([(["a", "b"], 1)])
    turns = Turns(str(tmp_path), order, "b", timeout=0.2)
    turns.ready()
    with pytest.raises(TimeoutError, match="another process stopped taking its turns"):
        with turns.turn():  # "a" never says it is ready
            pass
    with pytest.raises(ValueError, match="a name in the order"):
        Turns(str(tmp_path), order, "z")


def test_round_times_verdicts_and_the_slowest_worker():
    one = {"round_seconds": np.array([[0.001, 0.003, 0.002], [0.004, 0.004, 0.005]]),
           "round_allreduce_seconds": np.array([0.002, 0.003])}
    other = {"round_seconds": np.array([[0.002, 0.002, 0.002], [0.0005, 0.001, 0.009]]),
             "round_allreduce_seconds": np.array([0.001, 0.004])}
    np.testing.assert_allclose(round_ms(one), [2.0, 4.0])
    np.testing.assert_allclose(round_ms([one, other]), [2.0, 4.0])  # the slower per round
    np.testing.assert_allclose(round_ms([other]), [2.0, 1.0])
    assert fastest_ms([one, other]) == pytest.approx(1.0)  # the slower worker's fastest
    assert fastest_ms(one, allreduce=True) == pytest.approx(2.0)
    assert verdict([1.2, 1.1, 3.0]) == "faster in every round"
    assert verdict([0.5, 0.9]) == "slower in every round"
    assert verdict([0.5, 1.5]) == "no clear winner"
    assert verdict([1.0, 1.2]) == "no clear winner"  # a tie is no win
