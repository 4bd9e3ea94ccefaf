"""The network's API routes, under /api/v1/network/: each sub-package registers its viewsets here."""

from network.joining.api import ApplicationViewSet


def register(router):
    router.register("network/applications", ApplicationViewSet, basename="network-application")
