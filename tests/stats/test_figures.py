"""Every figure of the Statistics against a week worked out by hand.

Riverside Public Library is in Chicago. In the first week of November 2026
(daylight saving time ended at 2:00 on Sunday, 1 November):

- Dana asks on Monday 2 November at 9:10; Alice picks her up 30 s later;
  Dana ends the chat 10 minutes after that. Alice wraps up: Answered, READ 2.
  Dana rates it: helped, 5.
- Eli asks at 9:40; Bob picks him up after 90 s; Eli's connection is lost
  5 minutes later. Bob skips the wrap-up.
- Fay asks on Tuesday at 14:05 and leaves after a minute, never picked up.
- Gus asks at 14:20; Alice picks him up after 150 s, transfers him to Bob a
  minute later, and Bob ends the chat 2 minutes after that.
- Hal leaves a question on the form on Tuesday while nobody is on.

So: 4 asked, 3 picked up, 1 left, 1 lost; waits 30, 90, 150 s (median 90,
90th percentile 150); durations 600, 300, 180 s (median 300, p90 600); one
transfer.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from chat.models import ChatSession
from stats.figures import StatsFilter, figures
from stats.scope import stats_scope
from tests.helpers import logged_in
from tests.stats.conftest import CHICAGO, supervisor_of

pytestmark = pytest.mark.django_db


def _figures(user, **narrow):
    return figures(
        StatsFilter.of(
            stats_scope(user),
            start=datetime(2026, 11, 1, tzinfo=CHICAGO),
            end=datetime(2026, 11, 8, tzinfo=CHICAGO),
            **narrow,
        )
    )


def test_a_supervisor_reads_the_whole_week(week, bob):
    found = _figures(supervisor_of(bob))
    s = found.summary
    assert (s["asked"], s["picked_up"], s["left"], s["lost"]) == (4, 3, 1, 1)
    assert s["wait_median"].total_seconds() == 90
    assert s["wait_p90"].total_seconds() == 150
    assert s["duration_median"].total_seconds() == 300
    assert s["duration_p90"].total_seconds() == 600
    assert (s["transfers"], s["taken_over"], s["requeued"]) == (1, 0, 0)
    assert s["offline_questions"] == 1
    assert (s["wrapups_done"], s["wrapups_skipped"], s["wrapups_still_skipped"]) == (1, 1, 1)
    assert (s["survey_answers"], s["rating_average"]) == (1, 5)

    # Every day of the week, the quiet ones too.
    assert found.tables["sessions"].rows == [
        ["2026-11-01", 0, 0, 0],
        ["2026-11-02", 2, 2, 0],
        ["2026-11-03", 2, 1, 1],
        *[[f"2026-11-0{day}", 0, 0, 0] for day in range(4, 8)],
    ]
    heat = {row[0]: row[1:] for row in found.tables["heatmap"].rows}
    assert heat["Monday"][9] == 2 and heat["Tuesday"][14] == 2
    assert sum(map(sum, heat.values())) == 4
    assert found.tables["resolutions"].rows == [["Answered", 1]]
    assert found.tables["read_levels"].rows == [[1, 0], [2, 1], [3, 0], [4, 0], [5, 0], [6, 0]]
    assert found.tables["ratings"].rows[4] == [5, 1]
    assert found.tables["helped"].rows == [["Yes", 1], ["Partly", 0], ["No", 0]]
    assert found.tables["cooperative"].rows == [
        ["Riverside Public Library", "Riverside Public Library", 3]
    ]


def test_a_supervisor_narrows_to_one_librarian(week, alice, bob):
    found = _figures(supervisor_of(bob), librarian=alice)
    s = found.summary
    # Dana's and Gus's chats: Alice held both (Gus's until she transferred it).
    assert (s["asked"], s["picked_up"], s["transfers"]) == (2, 2, 1)
    assert s["wrapups_done"] == 1 and s["wrapups_skipped"] == 0


def test_a_librarian_reads_only_their_own_work(week, bob):
    found = _figures(bob.user)
    s = found.summary
    # Eli's and Gus's chats (Gus's after the transfer); not Dana's or Fay's.
    assert (s["asked"], s["picked_up"], s["lost"], s["left"]) == (2, 2, 1, 0)
    assert s["transfers"] == 0  # Bob took the transfer; he made none
    assert s["wrapups_skipped"] == 1


def test_days_are_the_librarys_across_the_end_of_daylight_saving(
    clock, ask, alice, riverside_library
):
    riverside_library.time_zone = "America/Chicago"
    riverside_library.save()
    # Saturday 23:30 CDT, then Sunday 01:30 CDT and 01:30 CST (the hour
    # that happens twice), then Sunday 23:30 CST: 05:30 UTC on Monday.
    for when in (
        datetime(2026, 11, 1, 4, 30, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 11, 1, 6, 30, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 11, 1, 7, 30, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 11, 2, 5, 30, tzinfo=ZoneInfo("UTC")),
    ):
        clock.now = when
        ask()
    scope = stats_scope(alice.user)
    found = figures(
        StatsFilter(
            sessions=ChatSession.objects.all(),
            start=datetime(2026, 10, 31, tzinfo=CHICAGO),
            end=datetime(2026, 11, 3, tzinfo=CHICAGO),
            zone=scope.zone,
        )
    )
    assert found.tables["sessions"].rows == [
        ["2026-10-31", 1, 0, 0],
        ["2026-11-01", 3, 0, 0],
        ["2026-11-02", 0, 0, 0],
    ]
    heat = {row[0]: row[1:] for row in found.tables["heatmap"].rows}
    assert heat["Saturday"][23] == 1
    assert heat["Sunday"][1] == 2 and heat["Sunday"][23] == 1


def test_the_page_shows_the_figures_with_their_tables_charts_and_csv(week, bob):
    supervisor = logged_in(supervisor_of(bob))
    page = supervisor.get("/console/stats/?start=2026-11-01&end=2026-11-07")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Every queue of Riverside Public Library" in html
    assert '<th scope="row">Wait to pick-up, median</th><td>1:30</td>' in html
    assert "Which library answered whose patrons" in html
    assert 'src="/console/stats/chart/sessions.svg?start=2026-11-01&amp;end=2026-11-07"' in html

    chart = supervisor.get("/console/stats/chart/sessions.svg?start=2026-11-01&end=2026-11-07")
    assert chart["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in chart["Content-Security-Policy"]
    assert b"<svg" in chart.content and b"kozea.github.io" not in chart.content

    csv = supervisor.get("/console/stats/csv/sessions.csv?start=2026-11-01&end=2026-11-07")
    assert csv["Content-Disposition"] == 'attachment; filename="statistics-sessions.csv"'
    assert csv.content.decode().splitlines()[:4] == [
        "Day,Asked,Picked up,Left before pick-up",
        "2026-11-01,0,0,0",
        "2026-11-02,2,2,0",
        "2026-11-03,2,1,1",
    ]
    assert len(csv.content.decode().splitlines()) == 1 + 7
    summary = supervisor.get("/console/stats/csv/summary.csv?start=2026-11-01&end=2026-11-07")
    assert "Patrons who left before pick-up,1" in summary.content.decode()


def test_bad_filters_are_refused_by_name_and_lose_nothing(week, bob, carol, hillcrest):
    supervisor = logged_in(supervisor_of(bob))
    backwards = supervisor.get("/console/stats/?start=2026-11-07&end=2026-11-01")
    assert backwards.status_code == 400
    assert "The end date must be on or after the start date." in backwards.content.decode()
    assert 'value="2026-11-07"' in backwards.content.decode()  # what was typed stays
    assert supervisor.get("/console/stats/?start=yesterday").status_code == 400
    # Another library's queue is not a choice.
    other = supervisor.get(f"/console/stats/?queue={hillcrest.pk}")
    assert other.status_code == 400 and "Select a valid choice" in other.content.decode()
    assert supervisor.get("/console/stats/csv/nothing.csv").status_code == 404
    assert supervisor.get("/console/stats/chart/heatmap.svg").status_code == 404


def test_nobody_without_a_library_reads_statistics(world, frank, client):
    assert logged_in(frank).get("/console/stats/").status_code == 404
    anonymous = client.get("/console/stats/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_weeks_start_on_monday_and_months_on_the_first(week, bob):
    scope = stats_scope(supervisor_of(bob))
    by_week = figures(
        StatsFilter.of(
            scope,
            start=datetime(2026, 10, 28, tzinfo=CHICAGO),
            end=datetime(2026, 11, 10, tzinfo=CHICAGO),
            period="week",
        )
    )
    assert by_week.tables["sessions"].rows == [
        ["2026-10-26", 0, 0, 0],
        ["2026-11-02", 4, 3, 1],
        ["2026-11-09", 0, 0, 0],
    ]
    by_month = figures(
        StatsFilter.of(
            scope,
            start=datetime(2026, 9, 15, tzinfo=CHICAGO),
            end=datetime(2027, 1, 1, tzinfo=CHICAGO),
            period="month",
        )
    )
    assert [row[:2] for row in by_month.tables["sessions"].rows] == [
        ["2026-09", 0],
        ["2026-10", 0],
        ["2026-11", 4],
        ["2026-12", 0],
    ]
