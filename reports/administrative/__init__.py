"""Vietnamese administrative documents (Nghị định 30/2020/NĐ-CP) as PDF and DOCX. No
models, no views, nothing about hazards: the form of the document, apart from what a
progress report puts in it (reports/documents.py builds that).

Use:

    from reports.administrative import AdministrativeDocument, Annex, Column, Paragraph, Signature, Table, pdf, word

    notice = AdministrativeDocument(
        parent_body="Ủy ban nhân dân tỉnh Sông Xanh",  # cơ quan chủ quản (optional)
        issuing_body="Ủy ban nhân dân xã Suối Bạc",  # tên cơ quan ban hành
        kind="Thông báo",  # tên loại văn bản
        subject="Yêu cầu lắp đặt biển báo tại ao nhà ông Ba",  # trích yếu
        place="Suối Bạc",
        day=datetime.date(2026, 3, 5),
        number="12",  # "" for a draft: "Số:    /TB-UBND"
        symbol="TB-UBND",
        body=[
            Paragraph("I. NỘI DUNG", style="heading"),
            Paragraph("Ủy ban nhân dân xã đề nghị ..."),
            Table([Column("Mã điểm", 1), Column("Hạn", 1, "center")], [["HZ-000123", "30/06/2026"]]),
            Picture(jpeg_bytes, "Hiện trạng ngày 01/03/2026"),  # a photo, centred, captioned
        ],
        recipients=["Ông Nguyễn Văn Ba;", "Lưu: VT."],
        signature=Signature(capacity="TM. Ủy ban nhân dân", title="Chủ tịch", name="Trần Văn C"),
        annexes=[Annex("Danh sách ...", [Table(...)])],
    )
    pdf_bytes = pdf.render(notice)
    docx_bytes = word.render(notice)

Names are written in ordinary case: the renderers set the issuing body, the kind, the
signer's capacity and title in capitals where the decree wants them. Text in tables is
already formatted (common.numbers formats numbers in the active language: "1.234",
"12,5"). Both renderers are plain functions of the document, safe to run in a job.
Page layout: A4 (landscape=True for wide tables), the national heading and motto,
number and symbol, place and date ("Sông Xanh, ngày 05 tháng 01 năm 2026"), kind and
subject, body, recipients beside the signature block, each annex on new pages with the
line that attaches it to the document, page numbers centred at the top from page 2.
Fonts: settings.DOCUMENT_FONTS (Liberation Serif, metric-compatible with the Times New
Roman the decree names; the DOCX names Times New Roman)."""

from .model import AdministrativeDocument, Annex, Column, Paragraph, Picture, Signature, Table

__all__ = ["AdministrativeDocument", "Annex", "Column", "Paragraph", "Picture", "Signature", "Table"]
