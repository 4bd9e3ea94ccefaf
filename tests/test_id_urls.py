"""`{% id_url %}` (kapcare.accounts.templatetags.id_urls) writes what `{% url %}` writes, for every argument."""

import uuid

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse

from kapcare.accounts.templatetags.id_urls import id_url

PATIENT, SESSION = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("dashboards:patient-chart", [PATIENT]),
        ("treatment:patient-session", [PATIENT, SESSION]),
        ("treatment:patient-session", [PATIENT, str(SESSION)]),  # a text id: reversed as {% url %} does
        ("assessments:patient-questionnaire-form", [PATIENT, "phq9"]),
        ("dashboards:due-work-list", ["questionnaire"]),
    ],
)
def test_the_same_text_as_url(name, args):
    assert id_url(name, *args) == reverse(name, args=args)
    assert id_url(name, *args) == id_url(name, *args)  # and again, from the kept shape
    names = " ".join(f"a{n}" for n in range(len(args)))
    tag = Template(f"{{% load id_urls %}}{{% id_url name {names} %}}|{{% url name {names} %}}")
    context = Context({"name": name, **{f"a{n}": arg for n, arg in enumerate(args)}})
    mine, django = tag.render(context).split("|")
    assert mine == django


def test_an_argument_the_pattern_refuses_is_refused_as_url_refuses_it():
    with pytest.raises(NoReverseMatch):
        reverse("dashboards:patient-chart", args=[-1])
    with pytest.raises(NoReverseMatch):
        id_url("dashboards:patient-chart", -1)
    with pytest.raises(NoReverseMatch):
        id_url("dashboards:patient-chart", 7)  # an integer where the pattern takes a uuid
