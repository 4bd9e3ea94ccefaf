"""The printable prescription: everything a pharmacy needs, marked with the hash of its content."""

from django.template.loader import render_to_string
from django.utils import timezone

from kapcare.accounts.credentials import current_licence
from kapcare.pdf import html_to_pdf


def prescription_html(prescription) -> str:
    prescriber = prescription.prescriber
    profile = getattr(prescriber, "clinician_profile", None)
    context = {
        "rx": prescription,
        "patient": prescription.patient,
        "prescriber": prescriber,
        "npi": profile.npi if profile else "",
        "licence": current_licence(prescriber, prescription.patient.state, prescription.issued_on),
        "printed_at": timezone.now(),
    }
    return render_to_string("treatment/prescriptions/prescription_pdf.html", context)


def prescription_pdf(prescription) -> bytes:
    return html_to_pdf(prescription_html(prescription))
