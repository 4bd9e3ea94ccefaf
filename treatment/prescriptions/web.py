"""What the prescription and stock log pages share: run one service from a valid form, and the status to answer."""

from django.core.exceptions import ValidationError

from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused


def submit(form, write):
    """Run `write()` (one service) when the form is valid: (the record, the refusal sentence or None). A service's
    ValidationError lands on the form's fields."""
    if not form.is_valid():
        return None, None
    try:
        return write(), None
    except RuleRefused as error:
        return None, str(error)
    except ValidationError as error:
        add_service_errors(form, error)
        return None, None


def status_of(refusal, form):
    """409 for a refused rule (as the API), 400 for a form with errors, else 200."""
    if refusal:
        return 409
    return 400 if form is not None and form.is_bound and form.errors else 200
