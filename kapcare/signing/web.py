"""A signed record's page: save the draft the user typed, then sign it when they asked to.

One behaviour for every signed record: a refused signature keeps the saved draft (what the user typed is never
lost) and says why, field by field on the form (ValidationError) or as the rule that refused (RuleRefused, the
page answers 409)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused


@dataclass
class Saved:
    record: object = None  # the saved draft, or the signed record (None when saving itself was refused)
    signed: bool = False
    invalid: bool = False  # field errors are on the form
    refusal: str | None = None  # the rule that refused, for a 409 page

    @property
    def done(self):
        """Saved (and signed when asked), nothing refused: the page redirects."""
        return self.record is not None and not self.invalid and self.refusal is None


def save_then_sign(form, *, save, sign, wants_sign: bool) -> Saved:
    """`save()` writes the draft and returns it; `sign(draft)` signs it. Each runs in its own transaction, so a
    refused signature leaves the draft saved. Errors go on `form`."""
    saved = Saved()
    try:
        saved.record = save()
        if wants_sign:
            saved.record = sign(saved.record)
            saved.signed = True
    except ValidationError as error:
        add_service_errors(form, error)
        saved.invalid = True
    except RuleRefused as error:
        saved.refusal = str(error)
    return saved
