"""The API side of a signed record: `POST {id}/sign/` and `GET/POST {id}/addenda/`, the same for every record.

A refused signature answers 400 naming each missing field, or 409 naming the rule (RuleRefused reaches the
409 through kapcare.api.errors); the draft saved before it is kept, as on the web (kapcare.signing.web)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access


def save_then_sign(*, save, sign, wants_sign: bool):
    """Save the draft (its own transaction), then sign it when asked; a refused signature keeps the draft."""
    record = save()
    return sign(record) if wants_sign else record


class SignAction:
    """For a viewset of signed records: `write_permission`, `sign_record(actor, record)` and `_respond(record)`."""

    write_permission = None

    def sign_record(self, actor, record):
        raise NotImplementedError

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign the draft and lock it: 400 naming each missing field; 409 naming the rule that refused (already
        signed, a gate of the course)."""
        record = self.get_object()
        access.require(request.user, self.write_permission, record)
        return self._respond(self.sign_record(request.user, record))


class AddendaAction:
    """For a viewset of signed records with addenda: `view_permission`, `write_permission`,
    `addendum_serializer`, `addendum_input` (a serializer with the text field `addendum_field`) and
    `add_addendum(actor, record, text)`."""

    addendum_serializer = None
    addendum_input = None
    addendum_field = "text"

    def add_addendum(self, actor, record, text):
        raise NotImplementedError

    @action(detail=True, methods=["get", "post"])
    def addenda(self, request, pk=None):
        """A signed record's addenda; POST adds one (its author's role on the care team)."""
        record = self.get_object()
        if request.method == "GET":
            access.require(request.user, self.view_permission, record)
            self.audited_read(record)
            addenda = list(record.addenda.select_related("author").order_by("signed_at", "id"))
            return Response(self.addendum_serializer(addenda, many=True).data)
        access.require(request.user, self.write_permission, record)
        serializer = self.addendum_input(data=request.data)
        serializer.is_valid(raise_exception=True)
        addendum = self.add_addendum(request.user, record, serializer.validated_data[self.addendum_field])
        return Response(self.addendum_serializer(addendum).data, status=201)
