"""Issue 14/15 admin parts: questionnaire problems in the page's language, numbered from 1, one
per root cause; XLSForm upload and download; data-quality kinds in words; several responses
excluded with one reason; district and street names beside their codes."""
import io
import re

import openpyxl
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.accounts import AuditLog
from surveyapp.models.quality import QualityFlag
from surveyapp.models.survey import QuestionnaireVersion
from surveyapp.questionnaires import load_geography, load_questionnaire
from surveyapp.xlsform.reader import read_xlsform
from surveyapp.xlsform.writer import write_xlsform
from tests.web.staff_fixtures import add_response
from tests.web.test_admin import QUESTIONNAIRES, admin, audit_actions, citizen, client, post, wave

__all__ = ["admin", "client"]  # fixtures used by name


def upload(client, data: bytes, name: str):
    return post(client, "/admin/questionnaires", {"file": (io.BytesIO(data), name)},
                content_type="multipart/form-data")


def problems_listed(page: str) -> list[str]:
    listed = re.search(r"<ol>(.*?)</ol>", page, re.DOTALL).group(1)
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", listed)]


def citizen_xlsx(**cells) -> bytes:
    geography = load_geography(QUESTIONNAIRES / "geography" / "shanghai.yaml")
    data = write_xlsform(load_questionnaire(QUESTIONNAIRES / "citizen.yaml"),
                         geography.districts)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for key, value in cells.items():
        sheet, coordinate = key.split("_")
        workbook[sheet][coordinate] = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_upload_problems_are_numbered_from_one_in_the_page_language(client, admin):
    text = (QUESTIONNAIRES / "citizen.yaml").read_text(encoding="utf-8")
    broken = text.replace("- id: sat10", "- id: satisfaction", 1).encode()  # 12 items use it
    zh = upload(client, broken, "broken.yaml").get_data(as_text=True)
    assert problems_listed(zh) == [
        "broken.yaml：items 第 1 项 › scale：未知的量表“sat10”（另有 11 处使用）"]
    client.get("/admin/questionnaires?lang=en")
    en = upload(client, broken, "broken.yaml").get_data(as_text=True)
    assert problems_listed(en) == [
        "broken.yaml: items no. 1 › scale: unknown scale &#39;sat10&#39; (and 11 more uses)"]
    assert "Not stored: 1 problem(s) found" in en


def test_an_xlsform_upload_is_stored_as_the_yaml_it_converts_to(client, admin):
    response = upload(client, citizen_xlsx(settings_B2="2025.2"), "citizen.xlsx")
    assert response.status_code == 302
    stored = db.session.scalar(sa.select(QuestionnaireVersion).where(
        QuestionnaireVersion.version == "2025.2"))
    assert stored.source_text.startswith("# citizen.xlsx (XLSForm)\nschema_version: 1\n")
    assert audit_actions()[-1] == ("chen", "questionnaire.upload")


def test_xlsform_problems_name_sheet_row_and_column_in_either_language(client, admin):
    data = citizen_xlsx(survey_B5="Bad Id", bands_A2=95)
    response = upload(client, data, "citizen.xlsx")
    assert response.status_code == 422
    assert problems_listed(response.get_data(as_text=True)) == [
        ("citizen.xlsx：survey 表第 5 行 B 列：“Bad Id”不是有效的标识（小写字母开头，其后为 a-z、"
        "0-9 或 _；最多 40 个字符）"),
        "citizen.xlsx：bands 表第 1 行：没有等级覆盖 90-95"]
    client.get("/admin/questionnaires?lang=en")
    english = problems_listed(upload(client, data, "citizen.xlsx").get_data(as_text=True))
    assert english[1] == "citizen.xlsx: sheet bands, row 1: no band covers 90-95"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuestionnaireVersion)) == 3


def test_a_stored_version_downloads_as_an_xlsform_that_reads_back_equal(client, admin):
    version = citizen()
    page = client.get("/admin/questionnaires").get_data(as_text=True)
    assert f"/admin/questionnaires/{version.id}/xlsform" in page
    response = client.get(f"/admin/questionnaires/{version.id}/xlsform")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert f'filename="citizen-{version.version}.xlsx"' in response.headers["Content-Disposition"]
    back, _text = read_xlsform(response.data, "download.xlsx")
    original = load_questionnaire(QUESTIONNAIRES / "citizen.yaml")
    assert (back.items, back.scales, back.bands) == (original.items, original.scales,
                                                     original.bands)
    assert client.get("/admin/questionnaires/99999/xlsform").status_code == 404


def flagged_wave():
    made = wave()
    items = ["p_food", "p_goods", "s_admin", "s_safety", "h_housing"]
    for n in range(12):
        add_response(made, {item: 1 + (n + i) % 9 for i, item in enumerate(items)},
                     minute=n, age_group=f"g{n}", street="310109001")
    liners = [add_response(made, dict.fromkeys(items, value), minute=20 + value,
                           age_group=f"s{value}", street="310109001") for value in (2, 10)]
    db.session.commit()
    return made, liners


def test_quality_page_shows_kinds_with_their_rules_and_place_names(client, admin):
    made, _liners = flagged_wave()
    post(client, f"/admin/waves/{made.id}/quality/detect", {})
    zh = client.get(f"/admin/waves/{made.id}/quality").get_data(as_text=True)
    assert "答题过快：用时少于本波次中位数的1/3（有 10 份计时答卷后才判断）" in zh
    assert "直线作答：至少 5 道评分题全部选同一答案" in zh
    assert "310109 虹口区" in zh and "310109001 欧阳路街道" in zh
    en = client.get(f"/admin/waves/{made.id}/quality?lang=en").get_data(as_text=True)
    assert "Speeder: took less than 1/3 of the wave&#39;s median time" in en
    assert "310109 Hongkou" in en and "310109001 Ouyanglu" in en


def excluded_flags() -> list[bool]:
    db.session.expire_all()
    return [flag.excluded for flag in db.session.scalars(sa.select(QualityFlag)
                                                         .order_by(QualityFlag.id))]


def test_several_responses_are_excluded_with_one_reason(client, admin):
    made, liners = flagged_wave()
    post(client, f"/admin/waves/{made.id}/quality/detect", {})
    flags = db.session.scalars(sa.select(QualityFlag).order_by(QualityFlag.id)).all()
    assert sorted(flag.response_id for flag in flags) == sorted(liner.id for liner in liners)
    page = client.get(f"/admin/waves/{made.id}/quality").get_data(as_text=True)
    assert page.count('form="exclude-selected"') == 2
    response = post(client, f"/admin/waves/{made.id}/quality/exclude-selected",
                    {"flag": [str(flag.id) for flag in flags], "reason": "call-centre test"})
    assert response.status_code == 302
    assert excluded_flags() == [True, True]
    entries = db.session.scalars(sa.select(AuditLog).where(
        AuditLog.action == "response.exclude").order_by(AuditLog.id)).all()
    assert sorted((e.target, e.reason) for e in entries) == sorted(
        (f"response:{liner.id}", "[straightliner] call-centre test") for liner in liners)
    assert "已排除 2 份答卷" in client.get(f"/admin/waves/{made.id}/quality").get_data(
        as_text=True)


def test_a_refused_selection_changes_nothing(client, admin):
    made, _liners = flagged_wave()
    post(client, f"/admin/waves/{made.id}/quality/detect", {})
    ids = [str(flag_id) for flag_id in db.session.scalars(sa.select(QualityFlag.id))]
    url = f"/admin/waves/{made.id}/quality/exclude-selected"
    post(client, url, {"flag": ids, "reason": ""})
    post(client, url, {"flag": [*ids, "99999"], "reason": "one is not of this wave"})
    post(client, url, {"reason": "nothing ticked"})
    assert post(client, url, {"flag": ["x1"], "reason": "not a flag id"}).status_code == 302
    assert client.post(url, data={"flag": ids, "reason": "no token"}).status_code == 400
    assert excluded_flags() == [False, False]
    assert "response.exclude" not in {action for _who, action in audit_actions()}
    page = client.get(f"/admin/waves/{made.id}/quality").get_data(as_text=True)
    assert "答卷：本波次没有标记 99999" in page or "答卷：请至少勾选一份" in page
