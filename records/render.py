"""The readable document (HTML print view and PDF) and the JSON file of a record export."""

import json

from django.template.loader import render_to_string

from kapcare.pdf import html_to_pdf

from .models import RecordExport


def export_meta(export: RecordExport) -> dict:
    meta = {"purpose": export.purpose, "purpose_label": export.get_purpose_display(), "export_id": str(export.pk)}
    if export.purpose == RecordExport.Purpose.RELEASE:
        meta.update(recipient=export.recipient, release_purpose=export.release_purpose)
    return meta


def document_json(contents: dict, export: RecordExport) -> dict:
    return {"format": "kapcare-record/1", "export": export_meta(export), **contents}


def document_html(contents: dict, export: RecordExport) -> str:
    return render_to_string("records/document.html", {"record": contents, "export": export_meta(export)})


def document_pdf(html: str) -> bytes:
    return html_to_pdf(html)


def json_bytes(document: dict) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
