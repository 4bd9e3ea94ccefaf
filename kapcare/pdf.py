"""HTML to PDF (WeasyPrint), for every printable document: the record export, a prescription."""


def html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango when imported, which only the code that prints needs.
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
