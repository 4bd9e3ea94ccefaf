"""seed_demo (issue 18 point 6): every clinician has a completed course, so each outcomes page shows figures."""

import io

from django.core.management import call_command

from kapcare.accounts.models import User
from outcomes import selectors
from outcomes.filters import Filters


def test_every_demo_clinician_has_completed_courses_with_scores(db, client, settings):
    settings.KAPCARE_REQUIRE_MFA = False  # the demo accounts have no second factor enrolled
    call_command("seed_demo", stdout=io.StringIO())
    for local in ("therapist", "therapist2", "therapist3", "prescriber", "coordinator"):
        user = User.objects.get(email=f"{local}@demo.kapcare.test")
        report = selectors.outcomes_report(user, Filters())
        assert report.courses.completed >= 1, local
        phq9 = report.outcomes[0]
        assert phq9.response.total >= 1 and phq9.remission.count >= 1, local
    coordinator = User.objects.get(email="coordinator@demo.kapcare.test")
    assert selectors.outcomes_report(coordinator, Filters()).courses.completed == 3
    client.force_login(coordinator)
    assert client.get("/outcomes/").status_code == 200
