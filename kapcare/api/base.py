"""The scoped base viewset: the only way an API view reaches objects."""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from rest_framework import permissions, viewsets
from rest_framework.response import Response

from kapcare import access
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record, audit_record_many


class AuditedDenialsMixin:
    """Refusals that DRF decides before our code runs (not signed in, no second factor) are audited too."""

    def permission_denied(self, request, message=None, code=None):
        pk = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        action = AuditEvent.Action.READ if request.method in permissions.SAFE_METHODS else AuditEvent.Action.UPDATE
        audit_denied(request.user, action, object_type=self.audit_object_type, object_id=pk)
        super().permission_denied(request, message=message, code=code)


class ScopedViewSet(AuditedDenialsMixin, viewsets.GenericViewSet):
    """The only way an API view reaches objects: through a visible_* queryset of kapcare.access.

    `scope(user)` returns what the user may see; a lookup outside it is a 404, audited against the
    real patient when the object exists. Reads are audited here; writes are audited by services."""

    scope = None  # a scope function, e.g. patients.access.visible_patients
    model = None  # the model `scope` returns, for the schema (the scope is the only queryset)
    patient_field = "patient_id"  # how an object of this model names its patient

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset: a ScopedViewSet reaches objects only through its `scope`."
            )
        if cls.model is not None:
            cls.queryset = cls.model._default_manager.none()

    @property
    def audit_object_type(self):
        return self.get_queryset().model._meta.label_lower

    def get_queryset(self):
        return type(self).scope(self.request.user)

    def get_object(self):
        pk = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        action = AuditEvent.Action.READ if self.request.method in permissions.SAFE_METHODS else AuditEvent.Action.UPDATE
        obj = access.get_visible(
            self.get_queryset(),
            pk,
            user=self.request.user,
            action=action,
            model=self.get_queryset().model,
            patient_field=self.patient_field,
        )
        self.check_object_permissions(self.request, obj)
        return obj

    def audited_page(self, queryset, *, count=None):
        """Paginate, and record one audit row per object shown (one INSERT). `count`: the number of rows, when
        the caller has it cheaper than `queryset.count()`."""
        page = self.paginator.paginate_queryset(queryset, self.request, view=self, count=count)
        audit_record_many(self.request.user, AuditEvent.Action.LIST, page)
        return page

    def audited_read(self, obj):
        audit_record(self.request.user, AuditEvent.Action.READ, obj)
        return obj


class NonPatientViewSet(ScopedViewSet):
    """A ScopedViewSet for records that belong to no patient (courses, consultation groups): a lookup outside
    `scope(user)` is a 404, audited without a patient."""

    def get_object(self):
        pk = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        action = AuditEvent.Action.READ if self.request.method in permissions.SAFE_METHODS else AuditEvent.Action.UPDATE
        try:
            obj = self.get_queryset().get(pk=pk)
        except (ObjectDoesNotExist, ValidationError, ValueError):
            audit_denied(self.request.user, action, object_type=self.audit_object_type, object_id=pk)
            raise Http404("No such record, or it is not yours to see.") from None
        self.check_object_permissions(self.request, obj)
        return obj


class ListRetrieveMixin:
    """`list` and `retrieve` for a NonPatientViewSet whose readers need `view_permission`: a role without it
    is refused the list (403); an object outside the scope is 404, then a role without it 403."""

    view_permission = None

    def list(self, request):
        access.require(request.user, self.view_permission, object_type=self.audit_object_type)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        obj = self.get_object()
        access.require(request.user, self.view_permission, obj)
        return Response(self.get_serializer(obj).data)
