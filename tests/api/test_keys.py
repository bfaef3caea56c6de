"""API keys (docs/api.md): a supervisor makes one for their library in the
admin, sees it once, and a script uses it on /api/v1/statistics/ for that
library's figures alone, within its scopes, until it expires or is revoked.

The figures are those of the hand-worked week of tests/stats/conftest.py."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from api.models import LibraryAPIKey, Scope
from tests.helpers import logged_in
from tests.stats.conftest import supervisor_of

pytestmark = pytest.mark.django_db
WEEK = "start=2026-11-01&end=2026-11-07"


def key_of(library, *scopes: str, **fields) -> str:
    _, key = LibraryAPIKey.objects.create_key(
        name="Reporting", library=library, scopes=list(scopes), **fields
    )
    return key


def with_key(key: str, path: str):
    return Client().get(path, HTTP_AUTHORIZATION=f"Api-Key {key}")


def test_a_supervisor_makes_a_key_in_the_admin_and_sees_it_once(world, bob, riverside_library):
    boss = supervisor_of(bob)
    boss.is_staff = True
    boss.save()
    admin = logged_in(boss)
    form = admin.get("/admin/api/libraryapikey/add/").content.decode()
    # Their own library only.
    assert "Riverside Public Library" in form and "Hillcrest College Library" not in form
    made = admin.post(
        "/admin/api/libraryapikey/add/",
        {
            "name": "Web team's dashboard",
            "library": riverside_library.pk,
            "scopes": [Scope.STATUS, Scope.STATISTICS],
            "expiry_date_0": "",
            "expiry_date_1": "",
        },
        follow=True,
    )
    page = made.content.decode()
    key_row = LibraryAPIKey.objects.get(name="Web team's dashboard")
    assert f"The API key for Web team&#x27;s dashboard is: {key_row.prefix}." in page
    assert "you will not be able to see it again" in page
    shown = page.split("is: ", 1)[1].split(". Please", 1)[0]
    # Stored hashed: the key itself is nowhere in the row.
    assert shown.startswith(key_row.prefix + ".")
    assert shown not in (key_row.hashed_key, key_row.id)
    assert key_row.created_by == boss and key_row.scopes == ["status", "statistics"]
    listing = admin.get("/admin/api/libraryapikey/").content.decode()
    assert "Status, Statistics" in listing
    assert (
        shown not in listing
        and shown
        not in admin.get(f"/admin/api/libraryapikey/{key_row.pk}/change/").content.decode()
    )


def test_a_supervisor_never_sees_another_librarys_keys(world, bob, hillcrest_library):
    key_of(hillcrest_library, Scope.STATISTICS)
    boss = supervisor_of(bob)
    boss.is_staff = True
    boss.save()
    listing = logged_in(boss).get("/admin/api/libraryapikey/").content.decode()
    assert "0 API keys" in listing


def test_a_key_reads_its_librarys_statistics_and_records_its_use(week, riverside_library):
    key = key_of(riverside_library, Scope.STATISTICS)
    response = with_key(key, f"/api/v1/statistics/?{WEEK}&queue=riverside&period=week")
    assert response.status_code == 200
    body = response.json()
    assert body["zone"] == "America/Chicago"
    assert body["range"] == {"start": "2026-11-01", "end": "2026-11-07", "period": "week"}
    summary = body["summary"]
    assert (summary["asked"], summary["picked_up"], summary["left"], summary["lost"]) == (
        4,
        3,
        1,
        1,
    )
    assert (summary["wait_median"], summary["wait_p90"]) == (90.0, 150.0)
    assert body["tables"]["sessions"]["rows"] == [["2026-10-26", 0, 0, 0], ["2026-11-02", 4, 3, 1]]
    assert LibraryAPIKey.objects.get(prefix=key.split(".")[0]).last_used_at is not None


def test_a_key_of_another_library_sees_none_of_it(week, hillcrest_library, riverside):
    key = key_of(hillcrest_library, Scope.STATISTICS)
    assert with_key(key, f"/api/v1/statistics/?{WEEK}").json()["summary"]["asked"] == 0
    # Riverside's queue is not one of its choices: named, refused.
    refused = with_key(key, f"/api/v1/statistics/?{WEEK}&queue={riverside.pk}")
    assert refused.status_code == 400 and "queue" in refused.json()


def test_scopes_expiry_and_revocation_are_refused_plainly(week, riverside_library):
    no_scope = key_of(riverside_library, Scope.STATUS)
    refused = with_key(no_scope, "/api/v1/statistics/")
    assert refused.status_code == 403
    assert refused.json() == {"detail": 'This API key has no "statistics" scope.'}

    expired = key_of(
        riverside_library, Scope.STATISTICS, expiry_date=timezone.now() - dt.timedelta(days=1)
    )
    gone = with_key(expired, "/api/v1/statistics/")
    assert gone.status_code == 401 and gone.json() == {"detail": "This API key has expired."}
    assert gone["WWW-Authenticate"] == "Api-Key"

    revoked = key_of(riverside_library, Scope.STATISTICS)
    LibraryAPIKey.objects.filter(prefix=revoked.split(".")[0]).update(revoked=True)
    for bad in (revoked, "nonsense", revoked[:-1] + "x"):
        answer = with_key(bad, "/api/v1/statistics/")
        assert answer.status_code == 401
        assert answer.json() == {"detail": "This API key is not valid (unknown or revoked)."}

    anonymous = Client().get("/api/v1/statistics/")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Api-Key"
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}


def test_unknown_parameters_and_bad_values_name_the_field(week, riverside_library):
    key = key_of(riverside_library, Scope.STATISTICS)
    assert with_key(key, "/api/v1/statistics/?colour=blue").json() == {
        "colour": ["This parameter is not known here."]
    }
    bad = with_key(key, "/api/v1/statistics/?period=fortnight&start=soon")
    assert bad.status_code == 400 and set(bad.json()) == {"period", "start"}
    backwards = with_key(key, "/api/v1/statistics/?start=2026-11-07&end=2026-11-01").json()
    assert backwards == {"end": ["The end date must be on or after the start date."]}


def test_a_librarian_logged_in_reads_their_own_work(week, bob):
    body = logged_in(bob).get(f"/api/v1/statistics/?{WEEK}").json()
    assert body["summary"]["asked"] == 2  # Eli's and Gus's chats


def test_each_key_has_its_own_throttle(week, riverside_library, settings):
    settings.API_KEY_RATE = "2/min"
    first, second = (
        key_of(riverside_library, Scope.STATISTICS),
        key_of(riverside_library, Scope.STATISTICS),
    )
    assert [with_key(first, "/api/v1/statistics/").status_code for _ in range(3)] == [200, 200, 429]
    assert with_key(second, "/api/v1/statistics/").status_code == 200
