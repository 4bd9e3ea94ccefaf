"""The one shape of a service that writes for a person: check access first, then run the body atomically.

    @service(Permission.WRITE_DOSE_PLAN, on="plan")
    def dose_plan_sign(*, actor, plan): ...

The check runs before the transaction, so a refusal's audit row (and its 403) is kept rather than rolled
back with the body; the body then runs in `transaction.atomic`. A caller that already decided access (a
service orchestrating another, inside its own transaction) calls `dose_plan_sign.unchecked(...)`: the same
body, atomic, without the check.
"""

import functools
import inspect

from django.db import transaction

from kapcare import access


def service(permission=None, *, on=None, object_type=None, check=access.require, before=None):
    """Decorate a keyword-only service body taking `actor=`. Before it runs, `check(actor, permission, target)`
    refuses (403, audited), where target is the argument named `on` (the patient or record acted on); without
    `on`, access.require checks the role alone, audited as `object_type`. `before(**arguments)`, when given, is a
    further refusal that must be kept (audited) or that decides the permission itself; it runs next, also
    outside the transaction."""

    def decorate(body):
        signature = inspect.signature(body)
        atomic_body = transaction.atomic(body)

        @functools.wraps(body)
        def checked(**kwargs):
            arguments = signature.bind(**kwargs)
            arguments.apply_defaults()
            actor = arguments.arguments["actor"]
            if permission is not None and on is not None:
                check(actor, permission, arguments.arguments[on])
            elif permission is not None:
                check(actor, permission, object_type=object_type)
            if before is not None:
                before(**arguments.arguments)
            return atomic_body(**kwargs)

        checked.unchecked = atomic_body
        return checked

    return decorate
