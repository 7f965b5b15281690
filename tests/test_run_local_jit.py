"""run-local sizes the driver's JIT by the log text it is about to stage."""

from __future__ import annotations

import gzip

from dataops.local_runner import log_text_bytes
from jobkit.session import SMALL_BATCH_JVM_OPTIONS, SMALL_BATCH_TEXT_BYTES, jit_options


def test_log_text_is_counted_uncompressed(tmp_path):
    text = b"version account-id\n" + b"2 123456789012\n" * 1000
    packed = tmp_path / "a.log.gz"
    packed.write_bytes(gzip.compress(text))
    plain = tmp_path / "b.log"
    plain.write_bytes(text)
    assert packed.stat().st_size < len(text)
    assert log_text_bytes([str(packed), str(plain)]) == 2 * len(text)
    assert log_text_bytes([]) == 0


def test_only_a_small_batch_runs_on_c1_alone():
    assert jit_options(0) == SMALL_BATCH_JVM_OPTIONS
    assert jit_options(SMALL_BATCH_TEXT_BYTES) == SMALL_BATCH_JVM_OPTIONS
    assert jit_options(SMALL_BATCH_TEXT_BYTES + 1) == ""
