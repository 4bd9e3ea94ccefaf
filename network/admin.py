"""The network's admin pages live in sub-packages; importing them registers them."""

from network.supervision import admin as supervision_admin  # noqa: F401
