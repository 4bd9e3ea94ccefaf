"""What a certificate upload must be: a PDF, PNG or JPEG by its content (not its name), and not too large."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404

# The first bytes of each accepted type, and the extension the file is stored under.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


def certificate_type(upload):
    """The (MIME type, extension) of an uploaded certificate, or a ValidationError saying what is wrong."""
    if upload is None:
        raise ValidationError({"certificate": "Attach the certificate (PDF, PNG or JPEG)."})
    limit = settings.CERTIFICATE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError({"certificate": f"The certificate is larger than {limit // (1024 * 1024)} MB."})
    if upload.size == 0:
        raise ValidationError({"certificate": "The certificate file is empty."})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, mime, extension in SIGNATURES:
        if head.startswith(magic):
            return mime, extension
    raise ValidationError({"certificate": "The certificate must be a PDF, PNG or JPEG file."})


def certificate_response(enrolment):
    """The stored certificate as a download; callers have checked access. 404 when there is none."""
    if not enrolment.certificate:
        raise Http404("No certificate has been uploaded.")
    extension = enrolment.certificate.name.rsplit(".", 1)[-1]
    try:
        handle = enrolment.certificate.open("rb")
    except FileNotFoundError:
        raise Http404("The certificate file is missing; upload it again.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"certificate-{enrolment.pk}.{extension}",
        content_type=enrolment.certificate_type or "application/octet-stream",
    )
