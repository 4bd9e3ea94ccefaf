"""Where certificates are kept: PRIVATE_MEDIA_ROOT, outside MEDIA and static, with no URL of its own.

A certificate is read only through network.training.views.certificate, which checks access first."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """A file system storage that refuses to make URLs: nothing here is ever served by the web server."""

    def __init__(self):
        super().__init__(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)

    @property
    def location(self):  # read at each use, so a deployment (or a test) may move the folder
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    def url(self, name):
        raise NotImplementedError("Private files have no URL; serve them through an access-checked view.")


def private_storage():
    return PrivateStorage()
