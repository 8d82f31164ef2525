from datetime import UTC, datetime

import pytest

from tagwatch.schedule import ScheduleError, parse_schedule, schedule_windows

H = 3_600_000


def ms(*a):
    return int(datetime(*a, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("text, weekdays, start_min, end_min", [
    ("daily 19:00-07:00", set(range(7)), 19 * 60, 31 * 60),
    ("Mon-Fri 19:00-07:00", {0, 1, 2, 3, 4}, 19 * 60, 31 * 60),
    ("Sat,Sun 21:00-07:00", {5, 6}, 21 * 60, 31 * 60),
    ("Fri-Mon 22:00-24:00", {4, 5, 6, 0}, 22 * 60, 24 * 60),
    ("tue 10:00-11:00", {1}, 600, 660),
])
def test_parse(text, weekdays, start_min, end_min):
    (entry,) = parse_schedule(text).entries
    assert set(entry.weekdays) == weekdays
    assert (entry.start_min, entry.end_min) == (start_min, end_min)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("Funday 19:00-07:00", "unknown day"),
    ("daily 25:00-07:00", "not a valid time"),
    ("daily 19:00", "cannot read"),
    ("daily 19:60-07:00", "not a valid time"),
])
def test_bad_schedules_say_what_is_wrong(text, message):
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text)


def test_curfew_lengths_across_both_dst_changes():
    spring = schedule_windows("daily 19:00-07:00", ms(2026, 3, 28, 12), ms(2026, 3, 30, 12))
    assert [(b - a) / H for a, b in spring] == [11.0, 12.0]  # 28->29 March loses an hour
    assert spring[0] == (ms(2026, 3, 28, 19), ms(2026, 3, 29, 6))  # 07:00 BST is 06:00 UTC
    autumn = schedule_windows("daily 19:00-07:00", ms(2026, 10, 24, 12), ms(2026, 10, 26, 12))
    assert [(b - a) / H for a, b in autumn] == [13.0, 12.0]  # 24->25 October gains an hour
    assert autumn[0] == (ms(2026, 10, 24, 18), ms(2026, 10, 25, 7))  # 19:00 BST is 18:00 UTC


def test_per_weekday_timetable_and_midnight_crossing():
    # Friday 2026-03-20 .. Monday 2026-03-23 (GMT, so local == UTC)
    wins = schedule_windows("Mon-Fri 19:00-07:00; Sat,Sun 21:00-07:00", ms(2026, 3, 20, 12), ms(2026, 3, 23, 12))
    assert wins == [(ms(2026, 3, 20, 19), ms(2026, 3, 21, 7)),  # Friday night
                    (ms(2026, 3, 21, 21), ms(2026, 3, 22, 7)),  # Saturday night
                    (ms(2026, 3, 22, 21), ms(2026, 3, 23, 7))]  # Sunday night


def test_touching_entries_merge():
    wins = schedule_windows("daily 19:00-24:00; daily 00:00-07:00", ms(2026, 3, 20, 12), ms(2026, 3, 21, 12))
    assert wins == [(ms(2026, 3, 20, 19), ms(2026, 3, 21, 7))]


@pytest.mark.parametrize("first_night, expected_start", [
    ("2026-03-20T21:00", ms(2026, 3, 20, 21)),  # released late: curfew starts later that night
    ("2026-03-20T17:00", ms(2026, 3, 20, 17)),  # must be home early on the first night
])
def test_first_night_start(first_night, expected_start):
    wins = schedule_windows("daily 19:00-07:00", ms(2026, 3, 20, 0), ms(2026, 3, 22, 0), first_night)
    assert wins[0] == (expected_start, ms(2026, 3, 21, 7))
    assert wins[1] == (ms(2026, 3, 21, 19), ms(2026, 3, 22, 7))
