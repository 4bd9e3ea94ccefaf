"""API for consent documents (not patient data) and patients' signatures (scoped and audited).

Kept apart from patients/api.py so the consent work can change without touching the patient endpoints."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.response import Response

from kapcare import access, request_context
from kapcare.access import Permission
from kapcare.api.base import AuditedDenialsMixin
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record_many

from . import selectors, services
from .api_base import PatientScopedViewSet
from .models import ConsentDocument, ConsentSignature


class ConsentDocumentSerializer(serializers.ModelSerializer):
    text_sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of `body`, as stored with a signature.")

    class Meta:
        model = ConsentDocument
        fields = ["id", "kind", "version", "title", "body", "required", "published_at", "text_sha256"]
        read_only_fields = fields


class ConsentSignatureSerializer(serializers.ModelSerializer):
    """What was signed, by whom and when. The client's IP address stays in the database, not in the API."""

    kind = serializers.CharField(source="document.kind", read_only=True)
    version = serializers.IntegerField(source="document.version", read_only=True)
    title = serializers.CharField(source="document.title", read_only=True)

    class Meta:
        model = ConsentSignature
        fields = [
            "id",
            "patient",
            "document",
            "kind",
            "version",
            "title",
            "typed_name",
            "signed_at",
            "text_sha256",
            "email_changed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "email_changed_at": {
                "help_text": "Set when the patient's e-mail address was changed within the hour before signing, or "
                "before the portal account that signed was opened: the therapist checks with the patient that they "
                "signed it themself."
            }
        }


class ConsentSignRequestSerializer(serializers.Serializer):
    document = serializers.IntegerField(help_text="The id of the current version of a consent document.")
    typed_name = serializers.CharField(max_length=200, help_text="The patient's full name, typed by the patient.")


class ConsentDocumentViewSet(AuditedDenialsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The current version of each consent document. Any signed-in user may read them."""

    serializer_class = ConsentDocumentSerializer
    audit_object_type = "patients.consentdocument"

    def get_queryset(self):
        return selectors.current_consent_documents()


class ConsentSignatureViewSet(PatientScopedViewSet, mixins.ListModelMixin):
    """Consent signatures of the patients the caller may see. POST: the patient signs a consent."""

    scope = staticmethod(selectors.consent_signatures_for_list)
    model = ConsentSignature
    serializer_class = ConsentSignatureSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(parameters=[OpenApiParameter("patient", OpenApiTypes.UUID, required=False)])
    def list(self, request):
        signatures = self.get_queryset()
        patient = self.patient_from_query(Permission.VIEW_CONSENT_STATUS)
        if patient is not None:
            signatures = signatures.filter(patient=patient)
        page = self.paginate_queryset(signatures)
        # One row per signature shown; an empty answer about one patient is still a read of that patient.
        audit_record_many(request.user, AuditEvent.Action.LIST, page or ([patient] if patient else []))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ConsentSignRequestSerializer, responses={201: ConsentSignatureSerializer})
    def create(self, request):
        access.require(request.user, Permission.SIGN_CONSENT, object_type="patients.consentsignature")
        patient = selectors.own_patient_record(request.user)
        if patient is None:
            raise exceptions.NotFound("Your account is not linked to a patient record yet.")
        serializer = ConsentSignRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = selectors.consent_document_for_patient(serializer.validated_data["document"])
        if document is None:
            raise exceptions.ValidationError({"document": ["No such consent document."]})
        signature = services.consent_sign(
            actor=request.user,
            patient=patient,
            document=document,
            typed_name=serializer.validated_data["typed_name"],
            signer_session=request_context.session_reference(request),
        )
        return Response(self.get_serializer(signature).data, status=201)
