"""The dashboards' patient list in Chromium (issue 16): a prescriber on a phone finds an overdue follow-up through
the filter and the search with the keyboard alone and opens the patient from the list; the typed name is in no
URL the browser asks for. A module of its own: it flushes the
database, and tests/test_dashboard_filters.py keeps a crowd for a class of its tests."""

import pytest

from .fixtures import refer
from .journeys import PHONE, SHOTS, clean, fits, sign_in, watch
from .test_dashboard_filters import overdue_follow_up

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_prescriber_finds_an_overdue_follow_up_on_a_phone_with_the_keyboard(page, clinic_staff):
    base, therapist, prescriber = clinic_staff["url"], clinic_staff["therapist"], clinic_staff["prescriber"]
    patient = refer(therapist, "Avery", "Alder", "avery@example.test", account=True)
    refer(therapist, "Blake", "Birch", "blake@example.test")
    overdue_follow_up(therapist, prescriber, patient)
    errors = watch(page)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.set_viewport_size(PHONE)
    sign_in(page, base, prescriber.email)

    page.focus("#id_overdue")
    page.keyboard.press("Space")
    page.focus("#id_q")
    page.keyboard.type("alder")
    page.keyboard.press("Enter")  # a plain form: Enter in the search box submits it (a POST, then the list)
    page.wait_for_url("**/?*overdue=on*")
    assert "search=" in page.url
    assert not [url for url in requested if "alder" in url.lower()]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard-filters-phone.png"), full_page=True)
    rows = page.locator("#patients tbody th a")
    assert rows.all_inner_texts() == ["Alder, Avery"]
    assert page.locator("#id_overdue").is_checked()
    assert page.locator("#id_q").input_value() == "alder"
    fits(page)
    rows.first.focus()
    page.keyboard.press("Enter")

    page.wait_for_url(f"**/patients/{patient.pk}/")
    assert "Avery" in page.locator("h1").inner_text()
    clean(errors)
