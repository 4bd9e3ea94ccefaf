"""KAPCare's Django admin site: reached only through allauth's login, every change audited.

Listed in INSTALLED_APPS instead of django.contrib.admin, so this module is imported while apps load:
it imports models only inside functions."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def _plain(value):
    return value if value is None or isinstance(value, bool | int | str) else str(value)


class AuditedAdminMixin:
    """Every add, change and delete made in the admin writes an AuditEvent naming the fields it touched.

    KapcareAdminSite mixes this into every ModelAdmin registered with it; inheriting it explicitly changes
    nothing. `audited_values` names the fields (never patient data) whose values before and after are kept."""

    audited_values = ()

    def _audit(self, request, action, obj, fields, *, before=None):
        from kapcare.audit.services import audit_admin_action

        kept = [name for name in fields if name in self.audited_values]
        after = {name: _plain(getattr(obj, obj._meta.get_field(name).attname)) for name in kept}
        before = {name: _plain(before.get(name)) for name in kept} if before is not None else None
        audit_admin_action(request.user, action, obj, fields=fields, before=before, after=after if kept else None)

    def save_model(self, request, obj, form, change):
        from kapcare.audit.models import AuditEvent

        super().save_model(request, obj, form, change)
        action = AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE
        self._audit(request, action, obj, form.changed_data, before=form.initial if change else None)

    def save_related(self, request, form, formsets, change):
        from kapcare.audit.models import AuditEvent

        super().save_related(request, form, formsets, change)
        for formset in formsets:
            for obj in formset.new_objects:
                self._audit(request, AuditEvent.Action.CREATE, obj, [])
            for obj, fields in formset.changed_objects:
                self._audit(request, AuditEvent.Action.UPDATE, obj, fields)
            for obj in formset.deleted_objects:
                self._audit(request, AuditEvent.Action.DELETE, obj, [])

    def response_action(self, request, queryset):
        """A list action (e.g. "Publish now"): one event per selected object, naming the action.
        Bulk deletion is audited by delete_queryset."""
        from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

        from kapcare.audit.models import AuditEvent

        name = request.POST.get("action", "")
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        response = super().response_action(request, queryset)
        if name and name != "delete_selected" and selected:
            for obj in queryset.filter(pk__in=selected):
                self._audit(request, AuditEvent.Action.UPDATE, obj, [f"action:{name}"])
        return response

    def delete_model(self, request, obj):
        from kapcare.audit.models import AuditEvent

        self._audit(request, AuditEvent.Action.DELETE, obj, [])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        from kapcare.audit.models import AuditEvent

        for obj in queryset:
            self._audit(request, AuditEvent.Action.DELETE, obj, [])
        super().delete_queryset(request, queryset)


class KapcareAdminSite(admin.AdminSite):
    site_header = "KAPCare administration"
    site_title = "KAPCare administration"

    def has_permission(self, request):
        from kapcare.accounts.models import User

        user = request.user
        return user.is_active and user.is_staff and user.role == User.Role.ADMIN

    def login(self, request, extra_context=None):
        """No password form of its own: the admin signs in like everyone, through allauth (second factor,
        rate limits), and comes back here. The second factor is then held by RequireMFAMiddleware."""
        index = reverse("admin:index", current_app=self.name)
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or index
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
            next_url = index
        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied("The administration pages are for administrators.")
            return redirect(next_url)
        query = urlencode({REDIRECT_FIELD_NAME: next_url}, safe="/")
        return redirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(
                admin_class.__name__, (AuditedAdminMixin, admin_class), {"__module__": admin_class.__module__}
            )
        super().register(model_or_iterable, admin_class, **options)


class KapcareAdminConfig(AdminConfig):
    default_site = "kapcare.accounts.admin_site.KapcareAdminSite"
