from kapcare.middleware import idle_limit


def session_timeout(request):
    """The idle limit in minutes, so pages can tell the user when they will be signed out."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"idle_timeout_minutes": int(idle_limit(user).total_seconds() // 60)}
