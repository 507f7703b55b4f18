"""Time for ``Schedule.next``: what a scheduler pays to look ahead.

    python benchmarks/schedules.py

Each row is the median of 5 calls after a warm-up call (imports, first-call costs), in
Europe/Berlin across both daylight-saving changes of 2026. Prints markdown table rows.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jupyter_flows.schedules import (
    CronClock,
    IntervalClock,
    RRuleClock,
    Schedule,
    adjustments,
    filters,
)
from jupyter_flows.schedules.schedule import MAX_CANDIDATES

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 1, 1, tzinfo=BERLIN)
AFTER = datetime(2026, 3, 1, tzinfo=BERLIN)
REPEATS = 5


def median_seconds(call: Callable[[], object]) -> float:
    call()
    times = []
    for _ in range(REPEATS):
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def row(what: str, n: int, schedule: Schedule, after: datetime = AFTER) -> None:
    seconds = median_seconds(lambda: schedule.next(n, after=after))
    print(f"| {what} | {n} | {seconds * 1e3:.2f} ms | {seconds / n * 1e6:.0f} µs |")


def main() -> None:
    print("| schedule | times | next(n) | per time |")
    print("|---|---:|---:|---:|")
    row("IntervalClock 15 min", 1000,
        Schedule([IntervalClock(timedelta(minutes=15), start_date=START)]))
    row("IntervalClock 1 day (wall clock)", 1000,
        Schedule([IntervalClock(timedelta(days=1), start_date=START)]))
    row("IntervalClock 15 min, 50 years ahead", 1,
        Schedule([IntervalClock(timedelta(minutes=15), start_date=START)]),
        after=datetime(2076, 1, 1, tzinfo=BERLIN))
    row("CronClock */15 * * * *", 1000, Schedule([CronClock("*/15 * * * *", start_date=START)]))
    row("CronClock 0 6 * * 1-5", 1000, Schedule([CronClock("0 6 * * 1-5", start_date=START)]))
    row("RRuleClock weekly MO,FR 09:00", 1000,
        Schedule([RRuleClock("RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9", start_date=START)]))
    row("3 clocks merged + is_weekday + between_times + add", 1000, Schedule(
        [IntervalClock(timedelta(hours=1), start_date=START),
         CronClock("30 * * * *", start_date=START),
         CronClock("0 6 * * *", start_date=START, parameter_defaults={"full": True})],
        filters=[filters.is_weekday, filters.between_times(datetime.min.time(),
                                                           datetime.max.time())],
        adjustments=[adjustments.add(timedelta(minutes=1))]))
    row(f"worst case: filter rejects {MAX_CANDIDATES} minutely candidates", 1,
        Schedule([CronClock("* * * * *", start_date=START)], filters=[filters.on_date(2, 29)]))


if __name__ == "__main__":
    main()
