"""Property-based fuzzing of the HTML side: the resident's form, staff sign-in and every route.

Each property sends what a browser would not: any text (NUL, control and astral characters,
huge numbers) in any field, fields added or repeated, the body in another content type, any
path segment and query. The answer is never a 5xx; a refused request stores nothing, and an
accepted survey response is stored exactly once.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from surveyapp.extensions import db
from tests.fuzz.conftest import assert_no_server_error, stored_rows
from tests.web.factories import form_post, make_wave
from tests.web.staff_fixtures import login_as, make_user, staff_client

# Values that broke the service before (issue 10), drawn often so that a small profile meets them.
EDGES = st.sampled_from(["\x00", "5\x00", "\ud800", "a\udfff", "9" * 5000, str(2**31),
                         str(2**63), "-1", "", " ", "<b>", "\u202e", "𠀀"])
# Text a client can send: anything, including NUL and lone surrogates, sometimes very long.
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None), max_size=20),  # surrogates too
    EDGES,
    st.builds(lambda a, b: a + b, st.text(max_size=10), EDGES),
    st.text(min_size=600, max_size=3000),
)
FIELD_NAME = st.one_of(st.text(max_size=20), st.sampled_from(["csrf_token", "ticket", "code",
                                                             "switch_lang", "lang"]))
CONTENT_TYPES = ("form", "multipart", "json", "text")


def send(client, url: str, data: dict[str, list[str]], content_type: str):
    """POST ``data`` (name -> values) encoded as ``content_type``, as raw bytes a client could
    send (a lone surrogate goes out as its UTF-8-like bytes, as a broken client would)."""
    pairs = [(name, value) for name, values in data.items() for value in values]
    if content_type == "json":  # a repeated field as a list; surrogates go as \\ud800 escapes
        document = {name: values if len(values) > 1 else values[0]
                    for name, values in data.items() if values}
        return client.post(url, data=json.dumps(document), content_type="application/json")
    if content_type == "multipart":
        return client.post(url, content_type="multipart/form-data", data={
            _wire(name).decode("utf-8", "replace"): [_wire(v).decode("utf-8", "replace")
                                                     for v in values]
            for name, values in data.items()})
    body = "&".join(f"{quote_from_bytes(_wire(n))}={quote_from_bytes(_wire(v))}"
                    for n, v in pairs)
    kind = "text/plain" if content_type == "text" else "application/x-www-form-urlencoded"
    return client.post(url, data=body, content_type=kind)


def _wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@st.composite
def tampered(draw, valid: dict[str, str]) -> tuple[dict[str, list[str]], str]:
    """A valid survey post with some fields replaced, removed, repeated or added."""
    data = {name: [value] for name, value in valid.items()}
    names = sorted(valid)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["replace", "remove", "repeat", "add"]))
        name = draw(st.sampled_from(names)) if action != "add" else draw(FIELD_NAME)
        if action == "remove":
            data.pop(name, None)
        elif action == "repeat":
            data.setdefault(name, []).append(draw(ANY_TEXT))
        else:
            data[name] = [draw(ANY_TEXT)]
    return data, draw(st.sampled_from(CONTENT_TYPES))


def test_the_survey_form_never_fails_and_stores_only_whole_responses(client, fuzz_settings):
    wave = make_wave()

    @fuzz_settings
    @given(st.data())
    def property(data):
        valid = form_post(client, wave, lang=data.draw(st.sampled_from(["zh", "en"])))
        fields, content_type = data.draw(tampered(valid))
        before = stored_rows()
        response = send(client, f"/s/{wave.id}", fields, content_type)
        assert_no_server_error(response, f"POST /s/{wave.id} as {content_type}")
        event(f'status {response.status_code}')  # --hypothesis-show-statistics
        after = stored_rows()
        if response.status_code == 303:
            assert after["response"] == before["response"] + 1
        else:
            assert (after["response"], after["answer"]) == (before["response"],
                                                            before["answer"])

    property()


@pytest.fixture
def staff(app):
    client = staff_client(app)
    make_user("admin", username="chen")
    db.session.commit()
    return client


def test_sign_in_never_fails_and_refusals_store_nothing(staff, fuzz_settings):
    @fuzz_settings
    @given(username=ANY_TEXT, password=ANY_TEXT, extra=st.dictionaries(FIELD_NAME, ANY_TEXT,
                                                                       max_size=2),
           content_type=st.sampled_from(CONTENT_TYPES))
    def property(username, password, extra, content_type):
        page = staff.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        fields = {"csrf_token": [token], **{n: [v] for n, v in extra.items()},
                  "username": [username], "password": [password]}
        before = stored_rows()
        response = send(staff, "/auth/login", fields, content_type)
        assert_no_server_error(response, f"POST /auth/login as {content_type}")
        event(f'status {response.status_code}')  # --hypothesis-show-statistics
        after = stored_rows()
        assert after["user_account"] == before["user_account"]
        if response.status_code in (400, 415):
            assert after == before

    property()


def _routes(app) -> list[str]:
    """Every GET route, its variable parts marked for the fuzzer to fill."""
    return sorted({re.sub(r"<[^>]+>", "{}", rule.rule) for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and rule.endpoint != "static"})


SEGMENT = st.one_of(ANY_TEXT.filter(lambda s: len(s) < 200), st.sampled_from(
    ["1", "310109", "city", "2024", "0", str(2**31 - 1), str(2**31), "9" * 5000]))


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_every_page_answers_any_path_and_query_without_a_server_error(app, fuzz_settings, who):
    make_wave()
    client = staff_client(app)
    if who == "admin":
        login_as(client, make_user("admin", username="chen"))
        db.session.commit()
    routes = _routes(app)

    @fuzz_settings
    @given(route=st.sampled_from(routes), segments=st.lists(SEGMENT, min_size=4, max_size=4),
           query=st.dictionaries(FIELD_NAME, ANY_TEXT.filter(lambda s: len(s) < 200),
                                 max_size=3))
    def property(route, segments, query):
        path = route.format(*(quote(_wire(s), safe="") for s in segments[:route.count("{}")]))
        query_string = "&".join(f"{quote(_wire(k))}={quote(_wire(v))}" for k, v in query.items())
        before = stored_rows()
        response = client.get(path, query_string=query_string)
        assert_no_server_error(response, f"GET {path}")
        event(f'status {response.status_code}')  # --hypothesis-show-statistics
        assert stored_rows() == before

    property()
