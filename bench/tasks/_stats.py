"""Shared helpers of the bench scripts: percentiles and the start barrier."""
import json
import sys
import time


def percentile(values, fraction):
    """Nearest-rank percentile of a list of numbers (fraction in 0..1)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def wait_until(start_at):
    """Sleeps until the wall-clock time start_at, so every client process starts together."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def emit(**fields):
    """Prints one JSON line: the figures the Deno driver reads."""
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()
