"""The main menu of the base layout: the same links for everyone of a role, so rendered once per process and role
(about twenty reversed URLs on every page otherwise). Names no one: the user's name and the badge stay outside."""

import functools

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix

register = template.Library()


@functools.lru_cache(maxsize=32)
def _main_nav(role, script_prefix):
    return render_to_string("_main_nav.html", {"role": role})


@register.simple_tag(takes_context=True)
def main_nav(context):
    role = context["user"].role
    if settings.DEBUG:  # `make run`: a template edited shows at once
        return render_to_string("_main_nav.html", {"role": role})
    return _main_nav(role, get_script_prefix())
