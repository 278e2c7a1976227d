"""Invitation letters as a printable PDF: A4, two letters a page, Chinese with English.

Each letter names the survey and the place, says why and that answers are anonymous, and
gives the short survey address, the code and a QR code of the address with the code after
'#' (the code page fills it in). Cut along the dashed line between the two letters.
"""
from __future__ import annotations

from surveyapp.reports.notices import Invitation, Letters, Notice
from surveyapp.reports.printed import BLACK, GREY, NAVY, PrintPDF, draw_qr, fitted, period

HALF = 297 / 2  # mm: the height of one letter
LEFT, WIDTH = 16, 178
QR_SIZE = 44


def build_letters(letters: Letters) -> bytes:
    """The PDF of ``letters``: one letter per code, two to an A4 page."""
    notice = letters.notice
    pdf = PrintPDF(f"{notice.title.zh} 邀请函 Invitation letters")
    for number, invitation in enumerate(letters.invitations):
        top = HALF * (number % 2)
        if top == 0:
            pdf.add_page()
            _cut_line(pdf)
        _letter(pdf, notice, invitation, top)
    return bytes(pdf.output())


def _letter(pdf: PrintPDF, notice: Notice, invitation: Invitation, top: float) -> None:
    title, place_zh, place_en = notice.title, _place_zh(notice), _place_en(notice)
    fitted(pdf, title.zh, LEFT, top + 11, WIDTH, 9, (16, 14, 12, 10), NAVY)
    fitted(pdf, title.en, LEFT, top + 20, WIDTH, 6, (11, 10, 9, 8), GREY, wrap="WORD")
    fitted(pdf, "尊敬的居民：/ Dear resident,", LEFT, top + 29, WIDTH, 6, (10,))
    fitted(pdf, f"您家被随机选中参加{place_zh}的{title.zh}。请抽出几分钟填写问卷，您的意见将"
                "帮助我们改进公共服务。答卷匿名：系统只记录邀请码已被使用，不记录它提交了哪份答卷。",
           LEFT, top + 36, WIDTH, 15, (10, 9, 8, 7))
    fitted(pdf, f"Your household has been chosen at random for the {title.en} in {place_en}. "
                "Please take a few minutes to answer: your views help us improve public "
                "services. Your answers are anonymous: the service records only that a code "
                "was used, not which response it sent.",
           LEFT, top + 52, WIDTH, 15, (9, 8, 7, 6), GREY, wrap="WORD")
    _code_box(pdf, notice, invitation, top + 70)


def _code_box(pdf: PrintPDF, notice: Notice, invitation: Invitation, y: float) -> None:
    """The framed part a resident needs: address, code, QR code, dates."""
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(0.4)
    pdf.rect(LEFT, y, WIDTH, 64)
    x, w = LEFT + 6, WIDTH - QR_SIZE - 20
    lines = (  # (text, y, height, sizes, colour, wrap)
        ("扫描右侧二维码，或在浏览器中输入网址：", 4, 5, (8.5, 7), GREY, "CHAR"),
        ("Scan the QR code, or type this address in a browser:", 8.5, 5, (8, 7), GREY, "WORD"),
        (notice.survey_url, 14, 8, (14, 12, 10, 8, 6), NAVY, "WORD"),
        ("邀请码 Invitation code", 24, 5, (8.5,), GREY, "CHAR"),
        (invitation.code, 29, 12, (26,), BLACK, "CHAR"),
        ("调查时间 Survey period", 43, 4.5, (8,), GREY, "CHAR"),
        (period(notice.first_day, notice.last_day, notice.zone), 47, 4.5, (8, 7), GREY, "WORD"),
        ("每个邀请码只能提交一份答卷。Each code admits one response.", 54, 5, (8, 7), GREY,
         "WORD"),
    )
    for text, dy, height, sizes, color, wrap in lines:
        fitted(pdf, text, x, y + dy, w, height, sizes, color, wrap=wrap)
    draw_qr(pdf, invitation.url, LEFT + WIDTH - QR_SIZE - 10, y + 10, QR_SIZE)


def _cut_line(pdf: PrintPDF) -> None:
    pdf.set_draw_color(170, 170, 170)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=2)
    pdf.line(6, HALF, pdf.w - 6, HALF)
    pdf.set_dash_pattern()


def _place_zh(notice: Notice) -> str:
    return notice.district.zh + (notice.street.zh if notice.street else "")


def _place_en(notice: Notice) -> str:
    return f"{notice.street.en}, {notice.district.en}" if notice.street else notice.district.en
