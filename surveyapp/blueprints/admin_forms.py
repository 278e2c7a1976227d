"""Forms of the administration pages; labels are Chinese first with English alongside."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from surveyapp.choices import (
    DEFAULT_DESIGN,
    DEFAULT_LONELY_PSU,
    DESIGN_NAMES,
    LONELY_NAMES,
    LONELY_PSU_RULES,
    ROLES,
    SAMPLE_DESIGNS,
    WAVE_MODES,
)
from surveyapp.localtime import from_local, to_local, zone_label

REQUIRED = "必填 / required"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
INVALID_DATETIME = "日期时间格式应为 YYYY-MM-DD HH:MM / expected a date and time (YYYY-MM-DD HH:MM)"


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed and shown in the service's time zone; ``data`` is aware UTC.

    The label names the zone, added when a form is built because the zone is app config. A
    form filled from a stored object (``obj=wave``) shows its UTC times in local time. Give it
    InputRequired, not DataRequired: DataRequired would replace the field's own message (bad
    format, a time the clocks skip) with "required".
    """

    def __init__(self, label: str, validators=None, **kwargs):
        super().__init__(label, validators, format=DATETIME_FORMAT,
                         invalid_value_message=INVALID_DATETIME, **kwargs)
        self.label.text = f"{self.label.text} ({zone_label()})"

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            wall, self.data = self.data, None  # a refused time leaves no data behind
            self.data = from_local(wall)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return to_local(self.data).strftime(DATETIME_FORMAT) if self.data else ""


class WaveForm(FlaskForm):
    label = StringField("波次名称 Wave label (e.g. 2024)",
                        validators=[DataRequired(REQUIRED), Length(max=40)])
    questionnaire = SelectField("问卷版本 Questionnaire version", coerce=int,
                                validators=[InputRequired(REQUIRED)])
    districts = CheckboxesField("覆盖的区 Districts covered", validators=[DataRequired(REQUIRED)])
    opens_at = LocalDateTimeField("开始时间 Opens at", validators=[InputRequired(REQUIRED)])
    closes_at = LocalDateTimeField("结束时间 Closes at", validators=[InputRequired(REQUIRED)])
    mode = SelectField("收集方式 Collection mode", choices=[
        SelectChoice(mode, {"open": "公开链接 open link", "invitation": "邀请码 invitation codes"}[mode])
        for mode in WAVE_MODES])
    sample_design = SelectField("抽样设计 Sample design (fixed once created)", default=DEFAULT_DESIGN,
                                choices=[SelectChoice(kind, " / ".join(DESIGN_NAMES[kind]))
                                         for kind in SAMPLE_DESIGNS])
    lonely_psu = SelectField("只有一个单位的层 A stratum with a single unit",
                             default=DEFAULT_LONELY_PSU,
                             choices=[SelectChoice(rule, f"{rule}: "
                                                   + " / ".join(LONELY_NAMES[rule]))
                                      for rule in LONELY_PSU_RULES])
    kiosk = BooleanField("共用设备（服务大厅自助机）Shared devices (kiosk): one browser may send "
                         "several responses")


class OpenWaveForm(FlaskForm):
    closes_at = LocalDateTimeField("结束时间 Closes at", validators=[InputRequired(REQUIRED)])


class MarginPinForm(FlaskForm):
    """A wave's margin set: a set's id, or "" for automatic (the newest set that fits)."""

    margin_set = SelectField("权重边际 Margins")


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: for buttons that change state."""


class QuestionnaireUploadForm(FlaskForm):
    file = FileField("问卷文件（YAML 或 XLSForm .xlsx） Questionnaire file (YAML or XLSForm .xlsx)",
                     validators=[FileRequired(REQUIRED)])


class MarginsUploadForm(FlaskForm):
    name = StringField("名称 Name (e.g. census 2020)", validators=[DataRequired(REQUIRED),
                                                                 Length(max=80)])
    description = TextAreaField("说明 Description (source, year)", validators=[Optional()])
    questionnaire = SelectField("问卷版本（用于核对类别） Questionnaire version (its categories)",
                                coerce=int, validators=[InputRequired(REQUIRED)])
    file = FileField("CSV 文件：district,variable,category,count  CSV file", validators=[
        FileRequired(REQUIRED)])


class InvitationForm(FlaskForm):
    district = SelectField("区 District", validators=[DataRequired(REQUIRED)])
    street = SelectField("街道（可选） Street (optional)", validators=[Optional()])
    count = IntegerField("数量 Number of codes", validators=[
        InputRequired(REQUIRED), NumberRange(1, 100_000, "1-100000")])
    letters = SubmitField("生成并下载邀请函（PDF 和 CSV，zip） Generate and download letters "
                          "(PDF and CSV, zip)")


class ReasonForm(FlaskForm):
    reason = StringField("理由 Reason", validators=[DataRequired(REQUIRED), Length(max=500)])


class ManualExclusionForm(ReasonForm):
    response_id = StringField("答卷编号 Response id", validators=[DataRequired(REQUIRED),
                                                               Length(max=36)])


class ExcludeSelectedForm(ReasonForm):
    """Ticked flags of the review table (their ids), excluded together with one reason."""

    flag = SelectMultipleField(coerce=int, validate_choice=False,
                               validators=[DataRequired(REQUIRED)])


class UserForm(FlaskForm):
    username = StringField("用户名 User name", validators=[DataRequired(REQUIRED), Length(max=64)])
    role = SelectField("角色 Role", choices=[
        SelectChoice(role, {"admin": "管理员 administrator", "analyst": "市级分析员 city analyst",
                "bureau": "区局 district bureau"}[role]) for role in ROLES])
    districts = CheckboxesField("区（仅区局） Districts (bureau only)")
    password = PasswordField("初始密码（至少 10 个字符，不易猜到） Initial password (at least 10 "
                             "characters, hard to guess)",
                             validators=[DataRequired(REQUIRED)])


class IndicatorUploadForm(FlaskForm):
    wave = SelectField("测评批次 Wave", coerce=int, validators=[InputRequired(REQUIRED)])
    name = StringField("名称 Name (e.g. 2024 指标)", validators=[DataRequired(REQUIRED),
                                                                Length(max=80)])
    year = IntegerField("数据年度 Year of the figures", validators=[
        InputRequired(REQUIRED), NumberRange(1949, 2199, "1949-2199")])
    description = TextAreaField("说明 Description (source)", validators=[Optional()])
    file = FileField("CSV 文件：district,indicator,value[,unit,direction,target,source,"
                     "label_zh,label_en]  CSV file", validators=[FileRequired(REQUIRED)])


class PlanForm(FlaskForm):
    """A wave's sampling plan (surveyapp.services.plans)."""

    populations = FileField("街道成年人口 CSV：street_code,adult_population  Street adult "
                            "populations CSV", validators=[FileRequired(REQUIRED)])
    total = IntegerField("总有效样本量 Total valid responses", validators=[
        InputRequired(REQUIRED), NumberRange(1, 1_000_000, "1-1000000")])
    method = SelectField("分配方法 Allocation", choices=[
        SelectChoice("proportional", "按人口比例 proportional"),
        SelectChoice("sqrt", "平方根 square root"),
        SelectChoice("neyman", "Neyman（上一批次标准差 last wave's SDs）")])
    min_per_street = IntegerField("每街道最少 Minimum per street", default=0, validators=[
        InputRequired(REQUIRED), NumberRange(0, 100_000, "0-100000")])
    draw_streets = IntegerField("每区抽取街道数（空：全部） Streets drawn per district "
                                "(empty: all)", validators=[Optional(), NumberRange(1, 1000)])
    selection = SelectField("街道抽取方式 Street selection", choices=[
        SelectChoice("pps", "按人口规模成比例（Brewer） PPS by population (Brewer)"),
        SelectChoice("srs", "简单随机 simple random")])
    seed = IntegerField("随机种子 Seed", default=1, validators=[InputRequired(REQUIRED)])
