from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from knox.models import AuthToken

from kapcare.forms import add_service_errors

from . import services
from .forms import ApiTokenForm
from .models import ApiToken


def _page(request, form, new_token=None, status=200):
    tokens = (
        AuthToken.objects.filter(user=request.user, expiry__gt=timezone.now())
        .select_related("details")
        .order_by("-created")
    )
    context = {"form": form, "tokens": tokens, "new_token": new_token}
    return render(request, "account/api_tokens.html", context, status=status)


@login_required
def api_tokens(request):
    """The signed-in person's own API tokens: create one (shown once), see which exist, revoke them."""
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            _, token = services.api_token_create(
                actor=request.user, user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _page(request, ApiTokenForm(), new_token=token)
    return _page(request, form, status=400)


@login_required
@require_POST
def api_token_revoke(request, token_id):
    api_token = get_object_or_404(
        ApiToken.objects.select_related("auth_token"), pk=token_id, auth_token__user=request.user
    )
    services.api_token_revoke(actor=request.user, api_token=api_token)
    messages.success(request, f"The token “{api_token.name}” was revoked; it no longer works.")
    return redirect("api-tokens")
