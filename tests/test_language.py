"""Bahasa Indonesia by default, English on request (--lang en, KINERJA_LANG=en, Accept-Language),
with the same codes and places in both; YAML mistakes told in the author's words; a built-in
policy named by its own name, never by the directory it is installed in.
"""

from __future__ import annotations

import pytest

from engine import service
from engine.evaluate.io import decode_json, encode

pytestmark = pytest.mark.usefixtures("indonesian")

#: A YAML file with each kind of mistake an author makes by hand, and the code and place expected.
MISTAKES = {
    "tab": ("id: x\ninputs:\n  a:\n\ttype: number\n", "yaml.tab", "4:1"),
    "indent": ("id: x\ninputs:\n  a:\n    type: number\n      minimum: 0\n", "yaml.indent", "5:7"),
    "colon": ("id: x\ninputs:\n  a:\n    type number\n    minimum: 0\n", "yaml.colon", "4:5"),
    "decimal comma": ("id: x\ninputs:\n  a:\n    type: number\n    minimum: 0,5\n", "yaml.decimal_comma", "5:14"),
    "thousands dots": (
        "id: x\ninputs:\n  a:\n    type: integer\n    maximum: 3.000.000\n",
        "yaml.thousands_dot",
        "5:14",
    ),
}
#: Words of PyYAML's own messages, which an author never sees.
PARSER_WORDS = ("mapping values", "could not find", "block end", "cannot start any token", "while scanning")


def _diagnostics(out: str) -> list[tuple[str, str, str, str]]:
    """(place, code, message, hint) for each diagnostic `kinerja check` printed."""
    found = []
    for line in out.splitlines():
        if line.startswith("    "):
            label, _sep, hint = line.strip().partition(": ")
            found[-1] = found[-1][:3] + (label + ": " + hint,)
        else:
            file, row, column, code, message = line.split(":", 4)
            found.append((f"{row}:{column}", code.strip(), message.strip(), ""))
    return found


@pytest.mark.parametrize("kind", MISTAKES)
def test_yaml_mistakes_are_located_and_told_in_the_authors_words(kind, write_policy, run_cli):
    text, code, place = MISTAKES[kind]
    path = write_policy(text)
    status, out, _err = run_cli("check", path)
    assert status == 1
    (found,) = [d for d in _diagnostics(out) if d[1] == code]
    assert found[0] == place
    assert found[3].startswith("petunjuk: "), out  # a hint, in Indonesian
    status, english, _err = run_cli("check", path, "--lang", "en")
    (found_en,) = [d for d in _diagnostics(english) if d[1] == code]
    assert found_en[0] == place and found_en[3].startswith("hint: ")
    assert found_en[2] != found[2] and found_en[3][6:] != found[3][10:]
    assert not any(word in out + english for word in PARSER_WORDS), out + english


def test_the_language_comes_from_the_flag_the_environment_or_the_default(write_policy, run_cli, monkeypatch):
    path = write_policy("id: x\nvalues:\n  a: b +\n")
    default = run_cli("check", path)[1]
    assert "petunjuk: " in default
    per_command, global_flag = run_cli("check", path, "--lang", "en")[1], run_cli("--lang", "en", "check", path)[1]
    assert per_command == global_flag != default and "hint: " in per_command
    monkeypatch.setenv("KINERJA_LANG", "en")
    assert run_cli("check", path)[1] == per_command
    assert run_cli("check", path, "--lang", "id")[1] == default  # the flag wins over the environment


def test_record_errors_and_cli_messages_follow_the_language(run_cli, pp46_record):
    record = pp46_record()
    record["perilaku"]["integritas"] = "baik"
    status, out, err = run_cli("eval", "--policy", "pp-46-2011", "-", stdin=encode(record).decode())
    error = decode_json(out.encode())["errors"][0]
    assert status == 1 and error["code"] == "type" and "tertulis" in error["message"] and "rekaman" in err
    status, out_en, err_en = run_cli(
        "--lang", "en", "eval", "--policy", "pp-46-2011", "-", stdin=encode(record).decode()
    )
    error_en = decode_json(out_en.encode())["errors"][0]
    assert (error_en["path"], error_en["code"]) == (error["path"], error["code"])
    assert error_en["message"] == 'must be a number, got "baik"' and "record(s) had errors" in err_en


def test_a_built_in_policy_is_named_by_its_own_name(tmp_path, write_policy, run_cli, monkeypatch):
    """Run from elsewhere (as a server runs, with the policies in its site-packages), a mistake
    inherited from a built-in policy points into policies/NAME.yaml, not into the install."""
    child = write_policy("kinerja: 1\nid: anak\nextends: pp-46-2011\ninputs:\n  kegiatan: ~\n")
    monkeypatch.chdir(tmp_path)
    status, out, _err = run_cli("check", child)
    assert status == 1
    inherited = [line for line in out.splitlines() if not line.startswith(" ") and "pp-46-2011" in line]
    assert inherited and all(line.startswith("policies/pp-46-2011.yaml:") for line in inherited), out


def test_the_api_answers_in_indonesian_unless_asked_otherwise(client, app):
    secret = service.create_key(app.extensions["kinerja_store"], "agency", "dinkes")[1]
    authorised = {"Authorization": f"Bearer {secret}"}
    text = {"policy": "kinerja: 1\nid: x\nextends: pp-46-2011\nvalues:\n  nilai_skp: nilai_skpp\n"}

    default = client.post("/v1/policies/check", headers=authorised, data=encode(text))
    english = client.post(
        "/v1/policies/check", headers={**authorised, "Accept-Language": "en-GB,en;q=0.9"}, data=encode(text)
    )
    assert (default.headers["Content-Language"], english.headers["Content-Language"]) == ("id", "en")
    said, said_en = decode_json(default.get_data())["diagnostics"], decode_json(english.get_data())["diagnostics"]
    assert [(d["code"], d["line"], d["column"]) for d in said] == [(d["code"], d["line"], d["column"]) for d in said_en]
    assert "tidak dikenal" in said[0]["message"] and "maksud Anda" in said[0]["hint"]
    assert said_en[0]["message"] == "unknown name 'nilai_skpp'"

    refused = decode_json(client.get("/v1/policies").get_data())
    refused_en = decode_json(client.get("/v1/policies", headers={"Accept-Language": "en"}).get_data())
    assert refused["errors"][0]["code"] == refused_en["errors"][0]["code"] == "unauthenticated"
    assert (refused["title"], refused_en["title"]) == ("Belum Terautentikasi", "Unauthorized")
    assert refused["detail"] != refused_en["detail"]
    asked_for_another = client.get("/v1/policies", headers={"Accept-Language": "fr"})
    assert asked_for_another.headers["Content-Language"] == "id"
