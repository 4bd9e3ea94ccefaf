"""The dashboards' patient list you can work from (issue 16): search by name or e-mail, filters (stage, state,
clinician, an alert waiting for me, an overdue follow-up), sorting and paging, each a query parameter but the
search term, which is POSTed and stands in the URL as an opaque key (a patient's name never lands in a URL);
a bad value is a 400 that says which, and every combination costs the dashboard's same queries at any size."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from patients import due_work
from patients import services as patient_services
from patients.models import SafetyAlert
from treatment.models import FollowUp

from .course_states import ready_to_dose
from .fixtures import kept_for_the_module, make_world
from .test_query_counts import SIZES, make_patients, queries_for

pytestmark = pytest.mark.xdist_group("dashboard_filters")


@pytest.fixture(scope="class", params=SIZES)
def crowd(request, django_db_setup, django_db_blocker):
    """The cast, and `size` more patients of therapist A (Pat0 Load000...) with the prescriber on their team."""
    with kept_for_the_module(django_db_blocker):
        cast, patients = make_world()
        make_patients(request.param, cast["therapist_a"], cast["prescriber"], cast["coordinator"])
        yield {"size": request.param, **cast, **patients}


def searched(client, q, **filters):
    """The list the search form opens: POSTed, then the redirect's URL (the term is nowhere in it)."""
    response = client.post("/", {"q": q, **filters})
    assert response.status_code == 303, response.content[:300]
    assert q.split()[0].lower() not in response["Location"].lower()
    return response["Location"]


def names(response):
    """The patients listed in the dashboard's patient table, in order."""
    table = response.content.decode().split('id="patients"', 1)[1]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)


class TestAtAnySize:
    """The crowd is made once per size for this class alone (the other tests make their own cast)."""

    def test_search_filters_sorting_and_paging_cost_the_same(self, client, crowd, db):
        """The unfiltered dashboard's count (tests/test_query_counts.py holds it) for any page of every patient, and one
        more, the list's own count (the unfiltered list's is kept in the cache), for a narrowed list that shows
        patients; 4 fewer for an empty one:
        nothing to annotate (care teams, what referred patients wait for, screening flags; the unread messages come
        with the page's query) and nothing to audit, and the count."""
        size, therapist_a, prescriber = crowd["size"], crowd["therapist_a"], crowd["prescriber"]
        client.force_login(therapist_a)
        last_page = (size + 1 + 24) // 25  # patient A and the crowd, 25 a page
        listing = [
            searched(client, "load00"),
            searched(client, "pat0 example", sort="-name"),
            "/?stage=referred&state=CA&sort=stage",
            f"/?clinician={prescriber.pk}&sort=newest",
        ]
        paged = f"/?page={last_page}"  # every patient still: counted from the cache
        empty = ["/?alert=on&overdue=on", searched(client, "nobody", sort="state")]
        unfiltered = queries_for(client, "/")

        counts = {path: queries_for(client, path) for path in [*listing, paged, *empty]}

        assert counts == {
            **dict.fromkeys(listing, unfiltered + 1),
            paged: unfiltered,
            **dict.fromkeys(empty, unfiltered - 4),
        }
        assert names(client.get(searched(client, "LOAD000"))) == ["Load000, Pat0"]  # any case
        page_one = names(client.get("/"))
        assert len(page_one) == min(size + 1, 25)
        assert page_one[0] == "Alder, Avery"  # name order
        assert names(client.get("/?sort=-name"))[0] == f"Load{size - 1:03d}, Pat{size - 1}"
        assert len(names(client.get(f"/?page={last_page}"))) == (size + 1) - 25 * (last_page - 1)
        assert names(client.get("/?alert=on&overdue=on")) == []  # nobody has either yet


def test_search_matches_every_word_in_name_or_email(client, therapist_a, patient_a, patient_b):
    client.force_login(therapist_a)

    dashboard = client.get("/").content.decode()
    assert 'href="/?stage=referred#patients"' in dashboard  # patients by stage: each stage opens its list
    assert names(client.get("/?stage=referred")) == ["Alder, Avery"]
    assert names(client.get(searched(client, "avery alder"))) == ["Alder, Avery"]
    assert names(client.get(searched(client, "avery@example.test"))) == ["Alder, Avery"]
    assert names(client.get(searched(client, "avery load"))) == []
    assert names(client.get(searched(client, "casey"))) == []  # therapist B's patient: not on A's list
    assert "No patients match" in client.get(searched(client, "nobody")).content.decode()


BAD = [
    ("stage=nope", "Stage"),
    ("state=ZZ", "US state"),
    ("sort=age", "Sort by"),
    ("page=0", "Page"),
    ("page=two", "Page"),
    ("page=99", "There is no page 99"),
    ("alert=yes", "Tick the box"),
    ("clinician=82de0f06-1c90-49ea-b552-9a9222c11a64", "Clinician on the care team"),
    ("clinician=not-an-id", "Clinician on the care team"),
    ("page=99999999999999999999", "Page"),
    ("overdue=on&alert=off", "Tick the box"),
]


BAD_SEARCHES = [("x" * 101, "Search by name or e-mail"), ("a\x00b", "Null characters are not allowed")]


@pytest.mark.parametrize(("query", "says"), BAD)
def test_a_bad_parameter_is_a_400_that_says_which(client, prescriber, patient_a, query, says):
    client.force_login(prescriber)

    response = client.get(f"/?{query}")

    assert response.status_code == 400
    text = response.content.decode()
    assert "This patient list link has a value it cannot use" in text
    assert says in text
    assert 'id="patients"' not in text  # no patients listed


def test_the_coordinator_filters_by_clinician(
    client, coordinator, therapist_a, therapist_b, patient_a, patient_b, patient_x
):
    client.force_login(coordinator)
    everyone = client.get("/")
    assert f'value="{therapist_b.pk}"' in everyone.content.decode()  # a choice in the clinician box

    assert names(client.get(f"/?clinician={therapist_b.pk}")) == ["Cedar, Casey"]
    listed = names(client.get(searched(client, "alder", clinician=therapist_a.pk)))
    assert listed == ["Alder, Avery"]
    # Another group's therapist is no choice of this coordinator's.
    outsider = client.get(f"/?clinician={patient_x.care_team.get().clinician_id}")
    assert outsider.status_code == 400
    # Follow-up visits are the clinicians' to read: the coordinator has no such filter.
    assert 'name="overdue"' not in everyone.content.decode()
    refused = client.get("/?overdue=on")
    assert refused.status_code == 400
    assert "Follow-up visits are shown to the clinicians on the care team." in refused.content.decode()


def test_a_prescriber_finds_an_overdue_follow_up_and_opens_the_patient(
    client, therapist_a, prescriber, patient_a, patient_b
):
    overdue_follow_up(therapist_a, prescriber, patient_a)
    client.force_login(prescriber)

    dashboard = client.get("/").content.decode()
    assert 'name="overdue"' in dashboard  # the filter, labelled, in a GET form
    assert '<label for="id_overdue">Follow-up overdue</label>' in dashboard
    response = client.get("/", {"overdue": "on"})

    assert response.status_code == 200
    assert names(response) == ["Alder, Avery"]
    chart = re.search(r'<th scope="row"><a href="([^"]+)">Alder, Avery</a>', response.content.decode())[1]
    opened = client.get(chart)
    assert opened.status_code == 200
    assert "Avery" in opened.content.decode()
    # Due today is not overdue.
    FollowUp.objects.pending().filter(patient=patient_a).update(due_on=timezone.localdate())
    due_work.reconcile()
    assert names(client.get("/", {"overdue": "on"})) == []


def test_the_alert_filter_lists_whom_an_alert_waits_for_me(
    client, therapist_a, prescriber, coordinator, patient_a, patient_b
):
    alert = patient_services.safety_alert_raise(
        patient=patient_a, kind=SafetyAlert.Kind.PHQ9_ITEM9, reason="PHQ-9 item 9 answered 1.", source=patient_a
    )
    for clinician in (therapist_a, prescriber):
        client.force_login(clinician)
        assert names(client.get("/?alert=on")) == ["Alder, Avery"]
    # Not escalated: the coordinator is not the one it waits for.
    client.force_login(coordinator)
    assert names(client.get("/?alert=on")) == []

    patient_services.safety_alert_acknowledge(actor=prescriber, alert=alert, note="Called; safe, plan made.")

    client.force_login(prescriber)
    assert names(client.get("/?alert=1")) == []  # acknowledged as the prescriber
    client.force_login(therapist_a)
    assert names(client.get("/?alert=1")) == ["Alder, Avery"]  # still waiting for the therapist


def overdue_follow_up(therapist, prescriber, patient):
    """The patient's dose plan is signed and its follow-up visit was due three days ago."""
    ready_to_dose(therapist, prescriber, patient)
    moved = FollowUp.objects.pending().filter(patient=patient).update(due_on=timezone.localdate() - timedelta(days=3))
    assert moved == 1
    due_work.reconcile()


@pytest.mark.parametrize(("query", "says"), BAD_SEARCHES)
def test_a_bad_search_is_a_400_that_says_which(client, prescriber, patient_a, query, says):
    client.force_login(prescriber)

    response = client.post("/", {"q": query})

    assert response.status_code == 400
    assert says in response.content.decode()
    assert 'id="patients"' not in response.content.decode()


def test_the_search_term_never_reaches_a_url(client, therapist_a, patient_a, patient_b):
    client.force_login(therapist_a)
    dashboard = client.get("/").content.decode()
    assert re.search(r'<form method="post"[^>]*role="search"', dashboard)
    assert "csrfmiddlewaretoken" in dashboard

    response = client.post("/", {"q": "Alder", "stage": "referred", "sort": "-name"}, follow=True)

    assert names(response) == ["Alder, Avery"]
    urls = [url for url, _status in response.redirect_chain] + [response.request["PATH_INFO"]]
    urls.append(response.request["QUERY_STRING"])
    assert all("alder" not in url.lower() for url in urls), urls
    assert "stage=referred" in response.redirect_chain[0][0] and "sort=-name" in response.redirect_chain[0][0]
    page = response.content.decode()
    assert 'value="Alder"' in page, "the box still shows what was typed (in the page, not the URL)"
    assert not re.search(r'href="[^"]*alder', page, re.IGNORECASE)
    # A term typed into the URL itself is not used: the list is not narrowed by it.
    assert names(client.get("/?q=Nobody")) == ["Alder, Avery"]


def test_a_search_pages_through_its_results(client, therapist_a, prescriber, coordinator, patient_a):
    make_patients(30, therapist_a, prescriber, coordinator)
    client.force_login(therapist_a)

    first = client.get(searched(client, "load"))

    assert len(names(first)) == 25 and "Alder, Avery" not in names(first)
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first.content.decode())[1].replace("&amp;", "&")
    assert "search=" in next_link and "load" not in next_link.lower()
    second = client.get(next_link)
    assert names(second) == [f"Load{n:03d}, Pat{n}" for n in range(25, 30)]


def test_an_unknown_or_expired_search_key_shows_the_whole_list_with_a_notice(
    client, therapist_a, therapist_b, patient_a, patient_b
):
    client.force_login(therapist_a)
    mine = searched(client, "alder")

    response = client.get("/?search=no-such-key&stage=referred", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/#patients"
    assert "That search is no longer kept" in response.content.decode()
    assert names(response) == ["Alder, Avery"]  # every patient of therapist A
    # Another person's key finds nothing of theirs: their session keeps it.
    client.force_login(therapist_b)
    other = client.get(mine, follow=True)
    assert "That search is no longer kept" in other.content.decode()
    assert names(other) == ["Cedar, Casey"]


def test_the_search_form_needs_its_csrf_token(therapist_a, patient_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(therapist_a)

    assert client.post("/", {"q": "alder"}).status_code == 403
