"""Street posters for open waves as a printable PDF: A4, one poster per street, zh with en.

An open wave has one link for everyone, so a poster carries the survey's address and its QR
code; its street name says where it hangs (the link is the same on every poster).
"""
from __future__ import annotations

from surveyapp.reports.notices import Notice
from surveyapp.reports.printed import GREY, NAVY, PrintPDF, draw_qr, fitted, period

LEFT, WIDTH = 16, 178
QR_SIZE = 100
WHITE = (255, 255, 255)


def build_posters(notices: list[Notice]) -> bytes:
    """The PDF: one page per notice."""
    pdf = PrintPDF(f"{notices[0].title.zh} 海报 Posters" if notices else "海报 Posters")
    for notice in notices:
        pdf.add_page()
        _poster(pdf, notice)
    return bytes(pdf.output())


def _poster(pdf: PrintPDF, notice: Notice) -> None:
    pdf.set_fill_color(*NAVY)
    pdf.rect(0, 0, pdf.w, 66, style="F")
    fitted(pdf, notice.title.zh, LEFT, 12, WIDTH, 26, (30, 26, 22, 18, 14), WHITE, "C")
    fitted(pdf, notice.title.en, LEFT, 40, WIDTH, 18, (16, 14, 12, 10), WHITE, "C", "WORD")
    street = notice.street
    fitted(pdf, notice.district.zh + (street.zh if street else ""), LEFT, 76, WIDTH, 24,
           (26, 22, 18, 14, 10), NAVY, "C")
    fitted(pdf, f"{street.en}, {notice.district.en}" if street else notice.district.en,
           LEFT, 93, WIDTH, 14, (15, 13, 11, 9), GREY, "C", "WORD")
    fitted(pdf, "扫码参加调查", LEFT, 118, WIDTH, 11, (22,), align="C")
    fitted(pdf, "Scan to take part", LEFT, 129, WIDTH, 8, (14,), GREY, "C")
    draw_qr(pdf, notice.survey_url, (pdf.w - QR_SIZE) / 2, 142, QR_SIZE)
    fitted(pdf, notice.survey_url, LEFT, 250, WIDTH, 10, (18, 15, 12, 9, 7), NAVY, "C", "WORD")
    fitted(pdf, f"调查时间 Survey period: {period(notice.first_day, notice.last_day, notice.zone)}",
           LEFT, 264, WIDTH, 6, (10, 9, 8), GREY, "C", "WORD")
    fitted(pdf, "答卷匿名，只需几分钟。Your answers are anonymous and take a few minutes.",
           LEFT, 272, WIDTH, 6, (10, 9, 8), GREY, "C", "WORD")
