from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessments.models import Evaluation, EvaluationAddendum, EvaluationFlagReview
from assessments.serializers import StrictFieldsMixin
from treatment.course.models import DosePlan, FollowUp, TreatmentCourse

# Evaluations ---------------------------------------------------------------------------------------


class FlagReviewSerializer(serializers.ModelSerializer):
    flag = serializers.IntegerField(source="flag_id")
    flag_reason = serializers.CharField(source="flag.reason", read_only=True)
    severity = serializers.CharField(source="flag.severity", read_only=True)

    class Meta:
        model = EvaluationFlagReview
        fields = ["flag", "flag_reason", "severity", "outcome", "reason"]


class FlagReviewInputSerializer(serializers.Serializer):
    flag = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=EvaluationFlagReview.Outcome.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AddendumSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()

    class Meta:
        model = EvaluationAddendum
        fields = ["id", "evaluation", "author", "text", "signed_at", "content_hash"]
        read_only_fields = fields


class AddendumCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class EvaluationSerializer(serializers.ModelSerializer):
    prescriber = serializers.StringRelatedField()
    decision = serializers.ChoiceField(choices=Evaluation.Decision.choices, allow_blank=True, read_only=True)
    flag_reviews = FlagReviewSerializer(many=True, read_only=True)
    addenda = AddendumSerializer(many=True, read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "patient",
            "prescriber",
            "intake",
            "status",
            *Evaluation.CONTENT_FIELDS,
            "flag_reviews",
            "signed_at",
            "content_hash",
            "addenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EvaluationWriteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """What the prescriber writes. `flag_reviews`, when sent, replaces the reviews; `sign: true` signs at once."""

    flag_reviews = FlagReviewInputSerializer(many=True, required=False)
    sign = serializers.BooleanField(required=False, default=False, write_only=True)

    class Meta:
        model = Evaluation
        fields = [*Evaluation.CONTENT_FIELDS, "flag_reviews", "sign"]


class EvaluationCreateSerializer(EvaluationWriteSerializer):
    patient = serializers.UUIDField()

    class Meta(EvaluationWriteSerializer.Meta):
        fields = ["patient", *EvaluationWriteSerializer.Meta.fields]


# Courses, dose plans, sessions ---------------------------------------------------------------------


NULLABLE_STRING = {"type": "string", "nullable": True}
LEDGER_SCHEMA = {
    "type": "object",
    "nullable": True,
    "properties": {name: {"type": "integer"} for name in ("authorized", "used", "booked", "remaining")},
}


class LedgerField(serializers.Field):
    def to_representation(self, value):
        if value is None:
            return None
        return {
            "authorized": value.authorized,
            "used": value.used,
            "booked": value.booked,
            "remaining": value.remaining,
        }


class CourseSerializer(serializers.ModelSerializer):
    stage = serializers.CharField(source="patient.stage", read_only=True)
    ledger = serializers.SerializerMethodField()

    class Meta:
        model = TreatmentCourse
        fields = ["id", "patient", "stage", "started_at", "ended_at", "ledger"]
        read_only_fields = fields

    @extend_schema_field(LEDGER_SCHEMA)
    def get_ledger(self, course):
        return LedgerField().to_representation(self.context.get("ledgers", {}).get(course.pk))


class DosePlanSerializer(serializers.ModelSerializer):
    prescriber = serializers.StringRelatedField()
    # A draft may have no route, start or dose yet: the schema says these may be empty.
    route = serializers.ChoiceField(choices=DosePlan.Route.choices, allow_blank=True, read_only=True)
    start_at = serializers.ChoiceField(choices=DosePlan.Start.choices, allow_blank=True, read_only=True)
    first_dose_mg = serializers.DecimalField(max_digits=6, decimal_places=1, read_only=True, allow_null=True)
    weight_kg = serializers.SerializerMethodField(
        help_text="Measured at the latest signed evaluation; the intake's self-reported weight when it has none."
    )
    weight_source = serializers.SerializerMethodField(help_text="evaluation, intake, or null when none is recorded.")
    mg_per_kg = serializers.SerializerMethodField(help_text="The full dose per kg of that weight (computed).")
    ledger = serializers.SerializerMethodField()

    class Meta:
        model = DosePlan
        fields = [
            "id",
            "patient",
            "course",
            "version",
            "status",
            "prescriber",
            *DosePlan.CONTENT_FIELDS,
            "first_dose_mg",
            "weight_kg",
            "weight_source",
            "mg_per_kg",
            "signed_at",
            "superseded_at",
            "content_hash",
            "ledger",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _weight(self, plan):
        weight = self.context.get("weights", {}).get(plan.patient_id)
        return weight.kg if weight is not None else None

    @extend_schema_field(NULLABLE_STRING)
    def get_weight_kg(self, plan):
        weight = self._weight(plan)
        return str(weight) if weight is not None else None

    @extend_schema_field(NULLABLE_STRING)
    def get_weight_source(self, plan):
        weight = self.context.get("weights", {}).get(plan.patient_id)
        return weight.source if weight is not None else None

    @extend_schema_field(NULLABLE_STRING)
    def get_mg_per_kg(self, plan):
        value = plan.mg_per_kg(self._weight(plan))
        return str(value) if value is not None else None

    @extend_schema_field(LEDGER_SCHEMA)
    def get_ledger(self, plan):
        if plan.status != DosePlan.Status.SIGNED:
            return None
        return LedgerField().to_representation(self.context.get("ledgers", {}).get(plan.course_id))


class DosePlanWriteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = DosePlan
        fields = list(DosePlan.CONTENT_FIELDS)


class DosePlanCreateSerializer(DosePlanWriteSerializer):
    patient = serializers.UUIDField()

    class Meta(DosePlanWriteSerializer.Meta):
        fields = ["patient", *DosePlanWriteSerializer.Meta.fields]


# Follow-up visits ----------------------------------------------------------------------------------


class FollowUpSerializer(serializers.ModelSerializer):
    # A pending (draft) visit has no prescriber and no decision yet: both are documented as possibly empty.
    prescriber = serializers.StringRelatedField(allow_null=True)
    decision = serializers.ChoiceField(choices=FollowUp.Decision.choices, allow_blank=True, read_only=True)
    days_overdue = serializers.SerializerMethodField(help_text="Days past the due date today; 0 once signed.")

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "patient",
            "course",
            "status",
            "due_on",
            "days_overdue",
            "prescriber",
            *FollowUp.CONTENT_FIELDS,
            "signed_at",
            "content_hash",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_days_overdue(self, follow_up) -> int:
        return follow_up.days_overdue(timezone.localdate())


class FollowUpWriteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """The prescriber's note; `due_on` reschedules the visit (today or later)."""

    class Meta:
        model = FollowUp
        fields = [*FollowUp.CONTENT_FIELDS, "due_on"]
        extra_kwargs = {"due_on": {"required": False}}


class FollowUpCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField(help_text="Starts (or returns) the patient's next follow-up visit.")
