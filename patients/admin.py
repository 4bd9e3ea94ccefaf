from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from .models import CareTeamMember, ConsentDocument, EducationModule


@admin.register(CareTeamMember)
class CareTeamMemberAdmin(admin.ModelAdmin):
    """Who is on which care team, by patient id: administrators see it; they never open a record here."""

    list_display = ["patient_id", "clinician", "role", "active_from", "active_to"]
    list_filter = ["role"]
    list_select_related = ["clinician"]
    fields = ["patient_id", "clinician", "role", "active_from", "active_to"]
    readonly_fields = fields

    # Care teams change only through the services (referral, prescriber assignment), which check
    # licences and organizations and write the audit trail; the admin only looks.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


PUBLISHED_NOTE = (
    "This version is published and can no longer be edited: patients have signed, or may sign, exactly this text. "
    "To change it, select it in the list and choose “Start a new draft version”, edit the draft, then publish it. "
    "Every patient who signed an earlier version of a required document is then asked to sign the new one."
)
DRAFT_NOTE = (
    "A draft is invisible to patients. Publish it by setting “Published at” (or with the “Publish now” action in the "
    "list). Once published, the text cannot be edited. The body is plain text: a blank line starts a new paragraph."
)


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    """Consent texts are versioned: drafts are edited, published versions are frozen, the latest one is current."""

    list_display = ["title", "kind", "version", "required", "published_at", "status"]
    list_filter = ["kind", "required"]
    ordering = ["kind", "-version"]
    actions = ["publish_now", "start_new_version"]
    fields = ["kind", "version", "title", "body", "required", "published_at", "created_at"]

    def get_queryset(self, request):
        newer = ConsentDocument.objects.published().filter(kind=OuterRef("kind"), version__gt=OuterRef("version"))
        return super().get_queryset(request).annotate(replaced=Exists(newer))

    @admin.display(description="Status")
    def status(self, obj):
        if obj.published_at is None:
            return "Draft"
        if not obj.is_published:
            return "Scheduled"
        return "Replaced by a newer version" if obj.replaced else "Current"

    def get_fieldsets(self, request, obj=None):
        note = PUBLISHED_NOTE if obj is not None and obj.published_at is not None else DRAFT_NOTE
        return [(None, {"fields": self.fields, "description": note})]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return self.fields
        return ["created_at"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.published_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would bypass the published check
        return actions

    @admin.action(description="Publish now (selected drafts)")
    def publish_now(self, request, queryset):
        published = 0
        for document in queryset.filter(published_at__isnull=True):
            try:
                document.clean()
            except ValidationError as error:
                self.message_user(request, f"{document}: {' '.join(error.messages)}", messages.ERROR)
                continue
            document.published_at = timezone.now()
            document.save(update_fields=["published_at"])
            published += 1
        if published:
            self.message_user(
                request,
                f"Published {published} document(s). Patients who signed an earlier version of a required document "
                "are now asked to sign again.",
                messages.SUCCESS,
            )

    @admin.action(description="Start a new draft version (copy of the selected)")
    def start_new_version(self, request, queryset):
        for document in queryset:
            highest = ConsentDocument.objects.filter(kind=document.kind).aggregate(highest=Max("version"))["highest"]
            ConsentDocument.objects.create(
                kind=document.kind,
                version=highest + 1,
                title=document.title,
                body=document.body,
                required=document.required,
            )
        self.message_user(request, "Draft created. Edit it, then publish it.", messages.SUCCESS)


@admin.register(EducationModule)
class EducationModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "order", "active"]
    list_editable = ["order", "active"]
    prepopulated_fields = {"slug": ["title"]}
