"""The network's pages: each sub-package lists its own."""

from network.joining.urls import urlpatterns as joining

urlpatterns = [*joining]
