from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError):
    """Put a service's refusal on a form: each message on its field when the form has one, else at the top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)
