"""The benchmarks' memory figure sums a process tree (an indexer and its torch worker are resident together)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.tree_memory import TreePeak, descendants, tree_rss_mib

# A child holding 200 MiB starts a grandchild holding 150 MiB; both stay until stdin closes.
_CHILD = (
    "import subprocess, sys\n"
    "held = bytearray(200 * 2**20)\n"
    "g = subprocess.Popen([sys.executable, '-c', 'import sys; held = bytearray(150 * 2**20); "
    "print(1, flush=True); sys.stdin.read()'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n"
    "g.stdout.readline(); print(1, flush=True); sys.stdin.read(); g.stdin.close(); g.wait()\n"
)


def test_the_peak_is_the_sum_over_children_and_grandchildren() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    with proc, TreePeak(proc.pid, every=0.01) as peak:
        proc.stdout.readline()  # both allocations made
        assert len(descendants(str(proc.pid))) == 1
        assert len(descendants("self")) >= 2
        # Either process alone holds at most ~215 MiB.
        assert tree_rss_mib(str(proc.pid)) > 350
        time.sleep(0.1)  # sampled at least once with both resident
        proc.stdin.close()
        proc.wait()
    assert peak.peak_mib > 350
