from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm

from .models import Evaluation, ScreeningRule
from .screening import RULES_BY_CODE


class ScreeningRuleForm(ModelForm):
    class Meta:
        model = ScreeningRule
        fields = ["severity", "enabled", "limit", "second_limit"]

    def clean(self):
        cleaned = super().clean()
        rule = RULES_BY_CODE.get(self.instance.code)
        if rule is not None:
            for name in ("limit", "second_limit"):
                needs = getattr(rule.default, name) is not None
                if needs and cleaned.get(name) is None:
                    self.add_error(name, "This rule needs this limit.")
                if not needs and cleaned.get(name) is not None:
                    self.add_error(name, "This rule has no such limit; leave it empty.")
        if not self.errors and cleaned.get("limit") is not None and cleaned["limit"] < 0:
            raise ValidationError("Limits cannot be negative.")
        return cleaned


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(admin.ModelAdmin):
    """The contraindication screening's severities and limits. Intakes themselves are patient records and
    are not in the admin. A change applies to intakes submitted afterwards; flags already raised stay."""

    form = ScreeningRuleForm
    list_display = ["code", "description", "severity", "enabled", "limit", "second_limit", "updated_at"]
    list_editable = ["severity", "enabled"]
    list_filter = ["severity", "enabled"]
    readonly_fields = ["code", "description", "updated_at"]
    fields = ["code", "description", "severity", "enabled", "limit", "second_limit", "updated_at"]

    def has_add_permission(self, request):
        return False  # the rules are the code's; the seed migration creates a row for each

    def has_delete_permission(self, request, obj=None):
        return False  # turn a rule off with `enabled` instead


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    """Evaluations, read-only and without their clinical content: an administrator checks integrity (who
    signed what when, the hash), never reads or edits the assessment. The database refuses changes to a
    signed evaluation whatever the admin allows."""

    list_display = ["id", "patient_id", "status", "signed_at"]
    list_filter = ["status"]
    fields = ["id", "patient_id", "prescriber", "status", "signed_at", "content_hash"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
