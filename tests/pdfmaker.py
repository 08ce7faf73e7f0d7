"""Write small PDFs for the reader tests: pages of text lines placed where a UN document puts
them (header, body, footnotes under a rule, footer), in the standard Helvetica font."""

from __future__ import annotations

from pathlib import Path

Line = tuple[float, float, float, str]  # x, y from the top of the page, font size, text

WIDTH, HEIGHT = 595.0, 842.0


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[list[Line]], *, encrypt: bool = False) -> Path:
    """A PDF with one content stream per page; byte offsets in the xref are exact."""
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # filled in below
    pages_obj = add("")
    font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        ops = []
        for x, y, size, text in lines:
            ops.append(f"BT /F1 {size} Tf {x} {HEIGHT - y} Td ({_escape(text)}) Tj ET")
        stream = "\n".join(ops).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    objects[pages_obj - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    ).encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = f"<< /Size {len(objects) + 1} /Root {catalog} 0 R"
    if encrypt:  # a password-protected file as pdfium sees one: an /Encrypt entry it cannot open
        trailer += " /Encrypt << /Filter /Standard /V 1 /R 2 /O (x) /U (y) /P -4 >>"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def un_report(path: Path) -> Path:
    """Two pages of a UN report: masthead, a heading, numbered paragraphs (one running across
    the page break), a footnote, running header and footer, a UPR recommendation, a table."""
    header = [(480, 40, 9, "A/HRC/99/1")]
    p1 = [
        (120, 50, 14, "United Nations A/HRC/99/1"),
        (120, 80, 20, "General Assembly Distr.: General"),
        (393, 100, 10, "3 March 2015"),
        (393, 124, 10, "Original: English"),
        (114, 200, 17, "Report of the Working Group on the Universal Periodic Review"),
        (114, 230, 14, "Ruritania"),
        (114, 280, 14, "I. Summary of the proceedings"),
        (114, 310, 10, "1. The Working Group held its session in Geneva from 1 to 5 May 2014."),
        (114, 328, 10, "2. The delegation of Ruritania stated that the national water law of 2012"),
        (114, 340, 10, "protected every river basin and that a new authority had been established"),
        (114, 352, 10, "in the capital to enforce it."),
        (114, 370, 10, "3. The delegation noted that the Convention on Cybercrime had been signed"),
        (294, 367, 6.5, "1"),
        (114, 382, 10, "and that its ratification by the parliament was expected before the end of"),
        (100, 700, 8, "__________________"),
        (117, 712, 8.5, "1 Signed at Budapest on 23 November 2001."),
        (57, 760, 9, "GE.15-01234 (E)"),
        (520, 760, 9, "1"),
    ]
    p2 = header + [
        (114, 90, 10, "the year, according to the minister of justice."),
        (114, 108, 10, "4. The following recommendations will be examined by Ruritania:"),
        (143, 126, 10, "4.1 Ratify the Convention on Cybercrime (Estonia);"),
        (143, 144, 10, "4.2 Strengthen the independence of the water authority (Chile);"),
        (114, 162, 10, "5. Ruritania reported the following figures on river pollution."),
        (114, 182, 10, "Table 1"),
        (114, 194, 10, "River pollution by year"),
        (114, 206, 10, "Year Samples Polluted"),
        (114, 218, 10, "2013 120 14"),
        (114, 236, 10, "6. The Working Group adopted the report on 9 May 2014."),
        (520, 760, 9, "2"),
        (57, 772, 9, "GE.15-01234"),
    ]
    return write_pdf(path, [p1, p2])
