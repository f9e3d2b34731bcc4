"""Booleans cross the grading boundary as booleans, not as 1.0/0.0."""

import numpy as np
import pytest

from dlbook_utils.grading import plain


@pytest.mark.parametrize("flag", [True, False, np.bool_(True)])
def test_bool_inputs_round_trip_as_bool(flag):
    back = plain.decode_input(plain.encode(flag))
    assert type(back) is bool and back == bool(flag)


def test_bool_answer_reads_as_a_number():
    assert plain.decode_output(plain.encode(True), 1)[0] == 1.0


def test_forged_bool_record_is_rejected():
    with pytest.raises(plain.PlainError):
        plain.decode_input({"bool": 1})
