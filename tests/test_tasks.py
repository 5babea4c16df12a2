"""Encoding and task data: LSB first, exact at 64 bits, true carries, exhaustive sets."""

import numpy as np
import pytest

from rnn_core import tasks
from rnn_core.encoding import from_bits, to_bits
from rnn_core.tasks import OPERATORS, Task, apply_op


def test_bits_are_least_significant_first():
    assert to_bits([13], 8).tolist() == [[1, 0, 1, 1, 0, 0, 0, 0]]
    assert from_bits(to_bits([46], 8)).tolist() == [46]


@pytest.mark.parametrize("value", [0, 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1])
def test_round_trip_is_exact_at_64_bits(value):
    bits = to_bits(np.array([value], dtype=np.uint64), 64)
    assert int(from_bits(bits)[0]) == value
    assert bits[0].tolist() == [(value >> t) & 1 for t in range(64)]


def test_post_example_13_plus_33():
    b = Task("add", 8).encode(13, 33)
    assert int(b.result[0]) == 46
    assert b.x[0, :, 0].tolist() == [1, 0, 1, 1, 0, 0, 0, 0]
    assert b.x[0, :, 1].tolist() == [1, 0, 0, 0, 0, 1, 0, 0]
    assert b.target[0, :, 0].tolist() == [0, 1, 1, 1, 0, 1, 0, 0]
    assert b.carry_in[0].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    assert b.carry_out[0].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert b.describe(0) == "13 + 33 = 46"


def test_64_bit_addition_does_not_overflow():
    a, c = 2**63 - 1, 2**63 - 1
    b = Task("add", 64).encode(np.array([a], np.uint64), np.array([c], np.uint64))
    assert int(b.result[0]) == a + c == 2**64 - 2
    assert int(from_bits(b.target[:, :, 0].astype(np.uint8))[0]) == a + c
    assert b.carry_out[0, :63].tolist() == [1] * 63  # every bit carries


def test_subtraction_wraps_and_borrow_is_the_carry():
    b = Task("sub", 8).encode(0, 1)
    assert int(b.result[0]) == 255
    assert b.carry_out[0].tolist() == [1] * 8
    assert int(Task("sub", 64).encode(np.uint64(0), np.uint64(1)).result[0]) == 2**64 - 1


@pytest.mark.parametrize("op", OPERATORS)
@pytest.mark.parametrize("n_bits", [1, 5, 8])
def test_carries_reproduce_the_result_bit_by_bit(op, n_bits):
    """Target bit t must equal the bitwise rule applied to a_t, b_t and the carry into bit t."""
    task = Task(op, n_bits)
    ex = task.exhaustive()
    a, b = ex.x[:, :, 0].astype(int), ex.x[:, :, 1].astype(int)
    c = ex.carry_in.astype(int)
    rule = {"add": a ^ b ^ c, "sub": a ^ b ^ c, "xor": a ^ b, "and": a & b, "or": a | b}[op]
    assert np.array_equal(rule, ex.target[:, :, 0].astype(int))
    assert np.array_equal(ex.carry_in[:, 1:], ex.carry_out[:, :-1])
    if op in ("xor", "and", "or"):
        assert ex.carry_out.sum() == 0


def test_exhaustive_set_sizes():
    assert len(Task("add", 8).exhaustive()) == 16_384  # every a, b < 128
    assert Task("add", 8).exhaustive().complete
    assert len(Task("sub", 8).exhaustive()) == 65_536
    wide = Task("add", 32).exhaustive()
    assert not wide.complete and wide.n_chain_cases > 0
    assert len(wide) == 16_384 + wide.n_chain_cases
    # a fixed, seeded sample: built again past the cache, it is the same (an unseeded sample would differ)
    rebuilt = tasks._exhaustive.__wrapped__(Task("add", 32))
    assert np.array_equal(wide.a, rebuilt.a) and np.array_equal(wide.b, rebuilt.b)


def test_carry_chain_cases_contain_the_longest_chain():
    cases = Task("add", 16).carry_chain_cases()
    pairs = set(zip(cases.a.tolist(), cases.b.tolist()))
    assert (2**15 - 1, 1) in pairs  # (2**k - 1) + 1 with k = n - 1: a 15-bit carry chain
    assert cases.carry_out.sum(axis=1).max() == 15
    assert (cases.a < 2**15).all() and (cases.b < 2**15).all()


def test_mixed_task_has_operator_channels():
    task = Task("mixed", 6)
    assert task.n_in == 2 + len(OPERATORS)
    b = task.encode([5, 5], [3, 3], op_index=[OPERATORS.index("add"), OPERATORS.index("sub")])
    assert b.result.tolist() == [8, 2]
    assert b.x[0, :, 2].tolist() == [1] * 6 and b.x[1, :, 3].tolist() == [1] * 6
    assert b.x[:, :, 2:].sum(axis=2).tolist() == [[1] * 6] * 2


def test_apply_op_exact():
    a = np.array([200, 7], dtype=np.uint64)
    b = np.array([100, 9], dtype=np.uint64)
    assert apply_op("sub", a, b, 8).tolist() == [100, 254]
    assert apply_op("and", a, b, 8).tolist() == [200 & 100, 7 & 9]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Task("mul", 8), "unknown operator"),
        (lambda: Task("add", 0), "n_bits"),
        (lambda: Task("add", 65), "n_bits"),
        (lambda: Task("add", 8.0), "n_bits"),
        (lambda: Task("add", 8).encode(128, 1), "below 128"),
        (lambda: Task("add", 8).encode(1, 200), "below 128"),
        (lambda: Task("add", 8).encode([1, 2], [3]), "equally long"),
        (lambda: Task("add", 8).encode(-1, 2), "whole numbers from 0"),
        (lambda: Task("add", 8).encode(1.5, 2), "whole numbers from 0"),
    ],
)
def test_bad_task_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_legacy_generator_draws_in_trasks_order():
    """Per example a then b, each randint(limit): the post's sequence, written out independently here."""
    a, b, op_index = Task("add", 8).random_operands(np.random.RandomState(3), 500)
    reference = np.random.RandomState(3)
    expected = [(reference.randint(128), reference.randint(128)) for _ in range(500)]
    assert list(zip(a.tolist(), b.tolist())) == expected
    assert set(op_index.tolist()) == {OPERATORS.index("add")}


@pytest.mark.parametrize("op, n_bits", [("mixed", 4), ("mixed", 12), ("sub", 9), ("add", 12), ("xor", 64), ("add", 64)])
def test_a_legacy_generator_covers_every_operator_and_the_whole_operand_range(op, n_bits):
    task = Task(op, n_bits)
    a, b, op_index = task.random_operands(np.random.RandomState(0), 4000)
    assert set(op_index.tolist()) == {OPERATORS.index(o) for o in task.ops}
    for k in set(op_index.tolist()):
        limit = tasks.operand_limit(OPERATORS[k], n_bits)
        sel = op_index == k
        assert a[sel].max() < limit and b[sel].max() < limit
        assert a[sel].max() > limit // 2 and b[sel].max() > limit // 2  # not stuck in a corner of the range
    batch = task.encode(a, b, op_index)  # valid operands for their operators
    assert len(batch) == 4000


@pytest.mark.parametrize("op, n_bits", [("add", 8), ("sub", 6), ("mixed", 4)])
def test_table_index_finds_each_example_in_the_enumerated_table(op, n_bits):
    table = Task(op, n_bits).exhaustive()
    index = Task(op, n_bits).table_index(table.a, table.b, table.op_index)
    assert np.array_equal(index, np.arange(len(table)))


def test_table_index_refuses_a_task_that_is_not_enumerated():
    task = Task("add", 12)
    with pytest.raises(ValueError, match="not enumerated"):
        task.table_index(np.array([1], dtype=np.uint64), np.array([2], dtype=np.uint64), np.array([0]))
