"""XLSForm (pyxform's spreadsheet format) import and export for questionnaires.

Offices author in Excel and exchange forms with KoboToolbox / ODK. The mapping, both ways:

* ``settings``: form_id = id, version, form_title = Chinese title, form_title_en = English
  title, default_language;
* ``survey``: a ``note`` named ``intro``; one ``begin_group``/``end_group`` per dimension (its
  name, label and an extra ``weight`` column) around its rated items, each a ``select_one`` of
  its scale (``required``, extra ``reverse`` column); the overall item outside every group; the
  demographics as ``select_one`` (district and street lists from the geography, streets
  filtered by the chosen district); the comment as ``text`` with a ``string-length`` constraint;
* ``choices``: one list per scale (its points lowest first, then the don't-know answer) and
  per choice demographic;
* ``bands`` (a sheet pyxform ignores): the questionnaire's band table, one row per band
  (lower, upper, labels), best band first; without the sheet, or with no rows in it, the
  default bands apply (questionnaires/README.md).

Texts sit in ``label::Chinese (zh)`` and ``label::English (en)`` columns. pyxform accepts the
extra columns and sheet, so an exported file is a valid XLSForm (tests convert it).
"""
