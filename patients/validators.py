from datetime import date

from django.core.exceptions import ValidationError

ADULT_AGE = 18
OLDEST_AGE = 120


def validate_adult_date_of_birth(value: date):
    """KAP here is for adults, and a birth date must be plausible."""
    today = date.today()
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if age < ADULT_AGE:
        raise ValidationError("Ketamine-assisted psychotherapy here is for adults: the patient must be 18 or older.")
    if age > OLDEST_AGE:
        raise ValidationError("Check the year of birth.")


def validate_not_in_future(value: date):
    if value > date.today():
        raise ValidationError("This date is in the future.")
