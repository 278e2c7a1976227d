"""The residents' form, built from a questionnaire: one WTForms field per question.

Labels, choices and error messages depend on the questionnaire, the wave's districts and the
resident's language, so :func:`survey_form_class` builds one class per such combination; the
survey view keeps the classes it built (surveyapp/blueprints/survey_layouts.py) and
instantiates one per request. Fields keep raw strings and our own validators give every error
in the chosen language, saying what is expected; templates render the markup themselves, for
accessible fieldsets.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from surveyapp.questionnaires import Demographic, Item, Questionnaire

ITEM_PREFIX = "q_"


def no_default() -> None:
    """Every field's default, as a callable: WTForms calls a field's default and, for the usual
    ``None``, catches the TypeError of calling it: half of a field's processing (1.1 of 2.1 us),
    ~25 us of a submit on a form of 22 fields."""
    return None


@dataclass(frozen=True)
class Places:
    """The districts a form offers and their streets, as (code, name) pairs in one language."""

    districts: tuple[tuple[str, str], ...]
    streets: dict[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Question:
    """A rated item as displayed: its running number, definition and form field."""

    number: int
    item: Item
    field: Field


@dataclass(frozen=True)
class Section:
    """The rated items of one dimension (or the overall item) under a heading."""

    title: str
    questions: tuple[Question, ...]


class ChoiceField(StringField):
    """One choice among ``choices``, rendered by our templates as radios or as a select.

    ``choices`` are (value, label) pairs, or for a select with groups a mapping of group key to
    pairs. WTForms' own RadioField/SelectField are not used: their choice validation speaks
    English only and their tuple choices are deprecated.
    """

    def __init__(self, label: str, choices, kind: str, **kwargs) -> None:
        super().__init__(label, default=no_default, **kwargs)
        self.choices = choices
        self.kind = kind


class SurveyForm(FlaskForm):
    """Base class: the signed ticket and the invitation code; questions are added per class."""

    ticket = HiddenField(default=no_default)
    code = HiddenField(default=no_default)

    class Meta:
        # CSRFProtect checks every POST's token before the view runs (and answers a stale one
        # with the kept answers, survey.csrf_failed); the form's own field checked it again.
        csrf = False

        def get_translations(self, form):
            """None: our validators speak the resident's language themselves, so WTForms' own
            catalogue (which Flask-WTF would read from disk on every request) is not needed."""
            return None

    questionnaire: Questionnaire
    lang: str

    def item_field(self, item: Item) -> Field:
        return self[ITEM_PREFIX + item.id]

    def sections(self) -> list[Section]:
        """Items grouped by dimension in questionnaire order, the overall item last, numbered."""
        groups = [(d.name.get(self.lang), self.questionnaire.items_in(d.id))
                  for d in self.questionnaire.dimensions]
        overall = tuple(item for item in self.questionnaire.items if item.dimension is None)
        groups.append((_("Overall"), overall))
        sections, number = [], 0
        for title, items in groups:
            questions = []
            for item in items:
                number += 1
                questions.append(Question(number, item, self.item_field(item)))
            if questions:
                sections.append(Section(title, tuple(questions)))
        return sections

    def demographic_fields(self, place: bool) -> list[Field]:
        """The place questions (district, street) or the other demographics, in file order."""
        kinds = {"district", "street"}
        return [self[d.id] for d in self.questionnaire.demographics
                if (d.kind in kinds) == place]

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor id, short field name, message) for each invalid field, in page order.

        Rated items are named by their number ("Question 3"), since their texts are long. A radio
        group's anchor is its fieldset, so the jump shows the question and its message; the next
        Tab then lands on the group's first radio.
        """
        entries = []
        for field in self.demographic_fields(place=True):
            entries.append((field, field.label.text))
        for section in self.sections():
            for question in section.questions:
                entries.append((question.field, _("Question %(number)d", number=question.number)))
        for field in self.demographic_fields(place=False):
            entries.append((field, field.label.text))
        if "comment" in self:
            entries.append((self["comment"], self["comment"].label.text))
        return [(field.id, name, field.errors[0]) for field, name in entries
                if field.errors]

    def answers(self) -> dict[str, int]:
        """Item id -> chosen value, for the answered items (call after validation)."""
        result = {}
        for item in self.questionnaire.items:
            raw = self.item_field(item).data
            if raw not in (None, ""):
                result[item.id] = int(raw)
        return result

    def value(self, name: str) -> str | None:
        """A demographic's or the comment's cleaned value; empty answers become None."""
        if name not in self:
            return None
        data = (self[name].data or "").strip()
        return data or None


def required(message: str) -> Callable[[SurveyForm, Field], None]:
    def check(form: SurveyForm, field: Field) -> None:
        if field.data in (None, "") or (isinstance(field.data, str) and not field.data.strip()):
            field.errors[:] = []
            raise StopValidation(message)

    return check


def optional() -> Callable[[SurveyForm, Field], None]:
    def check(form: SurveyForm, field: Field) -> None:
        if field.data in (None, ""):
            field.errors[:] = []
            raise StopValidation()

    return check


def one_of(values: Sequence[str], message: str) -> Callable[[SurveyForm, Field], None]:
    allowed = frozenset(values)

    def check(form: SurveyForm, field: Field) -> None:
        if field.data not in allowed:
            raise ValidationError(message)

    return check


def max_length(limit: int) -> Callable[[SurveyForm, Field], None]:
    def check(form: SurveyForm, field: Field) -> None:
        if len(field.data or "") > limit:
            raise ValidationError(
                _("Please shorten this to at most %(limit)d characters (now %(length)d).",
                  limit=limit, length=len(field.data))
            )

    return check


def survey_form_class(questionnaire: Questionnaire, lang: str, places: Places) -> type[SurveyForm]:
    """The form class for ``questionnaire`` offering ``places``, labelled in ``lang``.

    Instances hold a request's answers; the class itself is never changed after it is built, so
    one class serves every request (and thread) that asks for the same combination.
    """
    fields: dict[str, object] = {"questionnaire": questionnaire, "lang": lang}
    for demographic in questionnaire.demographics:
        fields[demographic.id] = _demographic_field(demographic, lang, places)
    for item in questionnaire.items:
        fields[ITEM_PREFIX + item.id] = _item_field(questionnaire, item, lang)
    if questionnaire.comment is not None:
        limit = questionnaire.comment.max_length
        fields["comment"] = TextAreaField(questionnaire.comment.text.get(lang), default=no_default,
                                          validators=[optional(), max_length(limit)])
    return type("QuestionnaireForm", (SurveyForm,), fields)


def _item_field(questionnaire: Questionnaire, item: Item, lang: str) -> ChoiceField:
    scale = questionnaire.scales[item.scale]
    points = scale.points + ((scale.dont_know,) if scale.dont_know else ())
    choices = [(str(point.value), point.label.get(lang)) for point in points]
    expected = _("Please choose one of the answers %(low)d to %(high)d", low=scale.low,
                 high=scale.high)
    if scale.dont_know:
        expected = _("%(expected)s, or \u201c%(dont_know)s\u201d.", expected=expected,
                     dont_know=scale.dont_know.label.get(lang))
    else:
        expected += "."
    presence = required(expected) if item.required else optional()
    return ChoiceField(
        item.text.get(lang),
        choices=choices,
        kind="radio",
        validators=[presence, one_of([value for value, _label in choices], expected)],
    )


def _demographic_field(demographic: Demographic, lang: str, places: Places) -> Field:
    label = demographic.text.get(lang)
    if demographic.kind == "district":
        codes = [code for code, _name in places.districts]
        message = _("Please choose your district from the list.")
        validators = [required(message) if demographic.required else optional(),
                      one_of(codes, message)]
        return ChoiceField(label, choices=list(places.districts), kind="select",
                           validators=validators)
    if demographic.kind == "street":
        message = _("Please choose a street or town of the district you chose.")
        validators = [required(message) if demographic.required else optional(),
                      _street_in_district(places, message)]
        groups = {code: places.streets.get(code, ()) for code, _name in places.districts}
        return ChoiceField(label, choices=groups, kind="select", validators=validators)
    choices = [(choice.value, choice.label.get(lang)) for choice in demographic.choices]
    message = _("Please choose one of the answers shown.")
    validators = [required(message) if demographic.required else optional(),
                  one_of([value for value, _label in choices], message)]
    return ChoiceField(label, choices=choices, kind="radio", validators=validators)


def _street_in_district(places: Places, message: str) -> Callable[[SurveyForm, Field], None]:
    def check(form: SurveyForm, field: Field) -> None:
        district = form["district"].data if "district" in form else None
        streets = {code for code, _name in places.streets.get(district or "", ())}
        if field.data not in streets:
            raise ValidationError(message)

    return check
