"""The chat page: handlers without a browser, then the real page in headless Chromium."""

from __future__ import annotations

import html
import re
import socket
from pathlib import Path

import pytest
from conftest import ROOT, copy_site, write

from rag.assistant import Assistant
from rag.errors import BadSetting, InputError
from rag.index import load_index
from rag.ways_in.uploads import add_document, remove_document, safe_name
from ui.app import (
    AssistantHolder,
    chat_markdown,
    citation_label,
    evidence_html,
    remove_upload,
    respond,
    serve,
    upload,
)

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = ROOT / "test-output"


@pytest.fixture()
def site(tmp_path, bundled_index, embedder):
    """A private copy of the bundled corpus and index, and an assistant over them."""
    copy_site(tmp_path, bundled_index)
    assistant = Assistant(load_index(tmp_path / "index"), embedder, index_dir=tmp_path / "index")
    return AssistantHolder(assistant, tmp_path / "corpus", max_upload_bytes=64 * 1024)


def test_handler_gives_the_api_answer_with_evidence(site):
    question = "What is agenda item 6 of the meeting?"
    api = site.current().ask(question)
    history, evidence, status, cleared = respond(site, question, [], 5, "All documents", 0.5)
    assert history[-1] == {"role": "assistant", "content": chat_markdown(api.text)}
    assert chat_markdown(api.text).replace("\\", "") == api.text
    assert "<mark>6. Examining options to strengthen existing responses" in evidence
    assert "para. 56" in evidence and "Paragraph 55 (before)" in evidence and "Paragraph 57 (after)" in evidence
    first = html.unescape(re.findall(r"data-cite='([^']*)'", evidence)[0])  # the card's one copy button
    assert first.startswith("Report on the meeting of the Expert Group") and first.endswith("para. 56")
    assert evidence.count("class='copy-cite'") == 1
    assert status == "" and cleared == ""


def test_abstention_is_plain_and_shows_closest_paragraphs_as_not_an_answer(site):
    answer = site.current().ask("What is the boiling point of mercury in kelvin?")
    page = evidence_html(site.current(), answer)
    assert answer.abstained
    assert "The documents do not answer this question." in page and "not an answer" in page
    assert "<mark>" not in page


def test_empty_or_too_long_questions_are_answered_in_the_chat_with_the_reason(site):
    history, _, status, kept = respond(site, "   ", [], 5, "All documents", 0.5)
    assert "Cannot answer" in history[-1]["content"] and "empty" in history[-1]["content"] and status == ""
    long = "Which meeting " * 300
    history, _, _, kept = respond(site, long, [], 5, "All documents", 0.5)
    assert "the limit is 2,000" in history[-1]["content"] and kept == long  # left in the box to shorten
    assert len(history[0]["content"]) < 400


def test_every_answer_shows_its_confidence_against_the_threshold(site):
    answer = site.current().ask("What is agenda item 6 of the meeting?")
    page = evidence_html(site.current(), answer, 0.45)
    assert f"Confidence {answer.confidence:.2f} (threshold 0.45)" in page and "near miss" not in page
    near = evidence_html(site.current(), answer, answer.confidence + 0.03)  # refused by a hair
    assert "near miss: just below the threshold" in near
    _, html_out, _, _ = respond(
        site, "What is agenda item 6 of the meeting?", [], 5, "All documents", round(answer.confidence - 0.02, 2)
    )
    assert "just above the threshold" in html_out


@pytest.mark.parametrize(
    "name, expected",
    [
        ("notes.md", "notes.md"),
        ("../../etc/passwd.md", "passwd.md"),
        ("C:\\x\\My Report (v2).TXT", "My-Report-v2.txt"),
        (".hidden.md", "hidden.md"),
        ("доклад.md", "доклад.md"),
        ("报告 2024.md", "报告-2024.md"),
        ("تقرير.txt", "تقرير.txt"),
    ],
)
def test_upload_names_are_sanitised(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "report.odt", "...md", "noext"])
def test_upload_names_of_other_types_are_refused(name):
    with pytest.raises(InputError):
        safe_name(name)


def test_bad_uploads_change_nothing(site, tmp_path):
    corpus = site.corpus
    first = write(tmp_path / "minutes.md", "# Minutes\n\n1. The board met.\n2. It adjourned.\n")
    add_document(first, "minutes.md", corpus, site.current().index_dir, embedder=site.current().embedder)
    before = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*"))
    manifest = (site.current().index_dir / "manifest.json").read_text()
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\x00\x01binary")
    big = write(tmp_path / "big.md", "x" * (65 * 1024))
    empty = write(tmp_path / "empty.txt", "")
    dup = write(tmp_path / "dup.md", "1. Text.\n2. More.\n")
    for path, name, message in (
        (binary, "bin.md", "binary"),
        (big, "big.md", "limit is 64 KB"),
        (empty, "empty.txt", "empty"),
        (dup, "minutes.md", "already in the corpus"),
    ):
        with pytest.raises(InputError, match=message):
            add_document(path, name, corpus, site.current().index_dir, max_bytes=64 * 1024)
        text, *_ = upload(site, _Named(path, name))
        assert text.startswith("**Not added:**")
    assert sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*")) == before
    assert (site.current().index_dir / "manifest.json").read_text() == manifest


class _Named(str):
    """What Gradio hands a handler: a temporary path, with the user's file name beside it."""

    def __new__(cls, path: Path, orig_name: str):  # type: ignore[no-untyped-def]
        obj = super().__new__(cls, str(path))
        obj.orig_name = orig_name  # type: ignore[attr-defined]
        return obj


def test_upload_is_indexed_and_answered(site, tmp_path):
    src = write(
        tmp_path / "up.md",
        "# Water board minutes\n\n1. The water board met in Lisbon on 3 May 2024.\n"
        "2. The board approved a new reservoir for the northern district.\n",
    )
    text, *_ = upload(site, _Named(src, "water board.md"))
    assert "Added" in text and "`uploads/water-board`" in text
    answer = site.current().ask("Which reservoir did the water board approve?")
    assert answer.citations[0].doc_id == "uploads/water-board" and answer.citations[0].paragraph == 2
    assert "[Water board minutes, para. 2]" in answer.text  # the short title: first words of the title
    assert citation_label(site.current(), answer.citations[0]) == "Water board minutes, para. 2"
    assert (site.corpus / "uploads" / "water-board.md").is_file()
    assert sorted(p.name for p in site.corpus.iterdir()) == ["cybercrime-expert-group-2017.md", "uploads"]


def test_the_upload_message_names_the_lines_left_out_on_purpose(site, tmp_path):
    body = "".join(
        f"{i}. The water board met on day {i} of May and heard the engineers on the state of the wells.\n\n"
        for i in range(1, 9)
    )
    src = write(
        tmp_path / "up.md", f"# Water board minutes\n\n## Contents\n\nMeetings ........ 1-8\n\n## Meetings\n\n{body}"
    )
    text, *_ = upload(site, _Named(src, "water board.md"))
    assert "Added" in text and "1 line(s) left out on purpose" in text and "line(s) 5" in text


def test_a_document_added_on_the_page_can_be_removed_and_leaves_the_index_at_once(site, tmp_path):
    src = write(tmp_path / "w.md", "# Water board\n\n1. The water board approved a new reservoir in Faro.\n")
    upload(site, _Named(src, "water.md"))
    assert "uploads/water" in site.current().documents
    text, _, removable = remove_upload(site, "uploads/water")
    assert text.startswith("Removed **Water board**") and removable["choices"] == []
    assert "uploads/water" not in site.current().documents
    assert "uploads/water" not in load_index(site.current().index_dir).manifest.documents
    assert not list((site.corpus / "uploads").iterdir())  # nothing left behind, not even hidden
    answer = site.current().ask("Where did the water board approve a reservoir?")
    assert all(c.doc_id != "uploads/water" for c in answer.citations)
    # Only what the page added can be removed from it; the bundled report stays.
    text, *_ = remove_upload(site, "cybercrime-expert-group-2017")
    assert text.startswith("**Not removed:**") and "was not added through the page" in text
    assert "no document 'uploads/gone'" in html.unescape(remove_upload(site, "uploads/gone")[0])
    assert remove_upload(site, None)[0] == "Choose a document to remove first."
    assert (site.corpus / "cybercrime-expert-group-2017.md").is_file()


def test_an_uploads_entry_that_is_not_a_folder_refuses_uploads_and_is_left_alone(site, tmp_path):
    (site.corpus / "uploads").write_text("a user's own file named uploads", encoding="utf-8")
    src = write(tmp_path / "w.md", "# Water board\n\n1. The board met.\n2. It adjourned.\n")
    text, *_ = upload(site, _Named(src, "water.md"))
    assert text.startswith("**Not added:**") and "uploads/ in the corpus is not a folder" in text
    assert (site.corpus / "uploads").read_text(encoding="utf-8") == "a user's own file named uploads"


def test_a_removal_that_fails_puts_the_document_back(site, tmp_path, monkeypatch):
    import rag.ways_in.uploads

    src = write(tmp_path / "w.md", "# Water board\n\n1. The water board approved a new reservoir in Faro.\n")
    upload(site, _Named(src, "water.md"))
    manifest = (site.current().index_dir / "manifest.json").read_text()

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # a kill during the rebuild

    monkeypatch.setattr(rag.ways_in.uploads, "build_index", crash)
    with pytest.raises(KeyboardInterrupt):
        remove_document("uploads/water", site.corpus, site.current().index_dir)
    assert [p.name for p in (site.corpus / "uploads").iterdir()] == ["water.md"]
    assert (site.current().index_dir / "manifest.json").read_text() == manifest


def test_a_hostile_document_is_quoted_as_plain_text(site, tmp_path):
    src = write(
        tmp_path / "hostile.md",
        (
            "# Helpdesk notes\n\n1. For urgent help [[call us]](https://evil.example/phish) or write to "
            "<help@desk.example> at once.\n2. The script <img src=x onerror=alert(1)> was removed.\n"
        ),
    )
    text, *_ = upload(site, _Named(src, "hostile.md"))
    assert "Added" in text
    history, evidence, _, _ = respond(site, "How do I get urgent help?", [], 5, None, 0.0)
    bubble = history[-1]["content"]
    assert "help@desk.example" in bubble and "[call us]" not in bubble  # brackets escaped
    assert "\\[call us\\]" in bubble and "](" not in bubble.replace("\\]\\(", "")
    assert "<a " not in evidence and "<img" not in evidence and "onerror=alert" not in evidence.replace("&lt;", "")


# ---- in a real browser -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def page_url(site):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    port = _free_port()
    app = serve(site.current(), corpus=site.corpus, port=port, max_upload_bytes=64 * 1024, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture()
def browser_page(page_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(page_url)
        page.wait_for_selector("#question textarea", timeout=30_000)
        yield page
        browser.close()


def _upload(page, path: Path, *, expect: str) -> str:
    """Upload a file from the page and return the message once it says `expect`."""
    page.click("text=Add a document")
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_timeout(500)
    page.click("#add")
    page.wait_for_selector(f"#upload-status :text('{expect}')", timeout=60_000)
    return page.inner_text("#upload-status")


def _ask(page, question: str, *, until: str | None = "#evidence mark") -> None:
    """Ask from the page; wait until `until` shows in it (None: do not wait)."""
    page.fill("#question textarea", question)
    page.click("#ask")
    if until:
        page.wait_for_selector(until, timeout=30_000)


@pytest.mark.browser
def test_page_answers_with_highlighted_evidence(browser_page):
    page = browser_page
    page.fill("#question textarea", "What is agenda item 6 of the meeting?")
    assert page.inner_text("#question-count") == "37 / 2000 characters"
    page.wait_for_selector("#loaded :text('Answering from 1 document')", timeout=10_000)  # filled once the page loads
    assert page.inner_text("#loaded").startswith("Answering from 1 document: Report on the meeting of the Expert Group")
    _ask(page, "What is agenda item 6 of the meeting?")
    assert "[para. 56]" in page.inner_text("#chat")
    # The page empties the box once it has asked; the counter follows.
    page.wait_for_selector("#question-count :text('0 / 2000 characters')", timeout=5_000)
    assert "Confidence" in page.inner_text("#evidence .confidence")
    assert "para. 56" in page.inner_text("#evidence")
    assert page.inner_text("#evidence mark").startswith("6. Examining options to strengthen existing responses")
    copy = page.locator("#evidence button.copy-cite").first
    assert copy.get_attribute("data-cite").endswith("para. 56") and page.locator("#citations").count() == 0
    copy.click()
    # The button says so once the clipboard has taken the text (a promise): wait for it.
    page.wait_for_selector("#evidence button.copy-cite:text('Copied')", timeout=10_000)
    assert copy.inner_text() == "Copied" and copy.get_attribute("title").endswith("para. 56")
    neighbour = "At the meeting of its extended Bureau"  # not in the neighbour, so check its own text
    assert neighbour in page.inner_text("#evidence")
    page.click("#evidence details summary >> nth=0")
    assert "In addition, statements were made by the representatives" in page.inner_text("#evidence")
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "page-with-answer.png"), full_page=True)


@pytest.mark.browser
def test_page_abstains_plainly(browser_page):
    page = browser_page
    _ask(page, "What is the boiling point of mercury in kelvin?", until="#evidence .not-answer")
    assert "The documents do not answer this question." in page.inner_text("#chat")
    assert "not an answer" in page.inner_text("#evidence")
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "page-with-abstention.png"), full_page=True)


@pytest.mark.browser
def test_page_uploads_a_document_and_answers_from_it(browser_page, tmp_path):
    page = browser_page
    good = write(
        tmp_path / "harbour.md",
        "# Harbour committee\n\n1. The harbour committee met in Valletta.\n"
        "2. It decided to dredge the eastern basin before the winter storms.\n",
    )
    _upload(page, good, expect="Added")
    _ask(page, "What did the harbour committee decide to dredge?")
    assert "[Harbour committee, para. 2]" in page.inner_text("#chat")
    assert "Harbour committee, para. 2" in page.inner_text("#evidence")
    page.reload()  # a new page load reads the document list from the index: the upload is in it
    page.wait_for_selector("#question textarea", timeout=30_000)
    page.click("text=Settings")
    page.click("#doc input")
    page.wait_for_selector("ul[role=listbox] >> text=uploads/harbour", timeout=10_000)
    page.keyboard.press("Escape")
    # ... and it can be removed from the page: gone from the list and from the answers at once.
    page.click("text=Add a document")
    page.click("#remove-doc input")
    page.click("ul[role=listbox] >> text=uploads/harbour")
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "page-upload-panel.png"), full_page=True)
    page.click("#remove")
    page.wait_for_selector("#upload-status :text('Removed')", timeout=60_000)
    _ask(page, "What did the harbour committee decide to dredge?", until="#evidence .confidence")
    assert "harbour" not in page.inner_text("#evidence").lower()
    assert "uploads/harbour" not in page.inner_text("#chat")
    page.click("#doc input")
    page.wait_for_selector("ul[role=listbox] >> text=All documents", timeout=10_000)
    assert "uploads/harbour" not in page.inner_text("ul[role=listbox]")


@pytest.mark.browser
def test_page_uploads_a_pdf_and_shows_the_page_of_the_answer(browser_page, tmp_path):
    from pdfmaker import un_report

    page = browser_page
    _upload(page, un_report(tmp_path / "ruritania.pdf"), expect="Added")
    _ask(page, "Which recommendation asks Ruritania to ratify the Convention on Cybercrime?")
    assert "[A/HRC/99/1, para. 4.1, p. 2]" in page.inner_text("#chat")
    evidence = page.inner_text("#evidence")
    cite = page.locator("#evidence button.copy-cite").first.get_attribute("data-cite")
    assert "para. 4.1, p. 2" in evidence and "(A/HRC/99/1), para. 4.1, p. 2" in cite
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "page-with-pdf-answer.png"), full_page=True)


@pytest.mark.browser
def test_page_takes_a_file_named_in_another_script(browser_page, tmp_path):
    page = browser_page
    doc = write(tmp_path / "доклад.md", "# Доклад комитета\n\n1. Комитет собрался в Вене.\n2. Он принял план.\n")
    status = _upload(page, doc, expect="Added")
    assert "uploads/доклад" in status and "Доклад комитета" in status
    _ask(page, "Где собрался комитет?", until="#evidence .confidence")
    assert "Доклад комитета" in page.inner_text("#evidence")


@pytest.mark.browser
def test_page_refuses_a_bad_upload(browser_page, tmp_path):
    page = browser_page
    bad = tmp_path / "broken.md"
    bad.write_bytes(b"\x00\x01\x02 not text")
    assert "binary" in _upload(page, bad, expect="Not added")


@pytest.mark.browser
def test_two_users_at_once_each_get_their_own_answer(page_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        first, second = browser.new_page(), browser.new_page()
        for page in (first, second):
            page.goto(page_url)
            page.wait_for_selector("#question textarea", timeout=30_000)
        _ask(first, "What is agenda item 6 of the meeting?", until=None)
        _ask(second, "How many Member States attended the meeting?", until=None)
        for page in (first, second):
            page.wait_for_selector("#evidence mark", timeout=30_000)
        assert "[para. 56]" in first.inner_text("#chat") and "87 Member States" not in first.inner_text("#chat")
        assert "87 Member States" in second.inner_text("#chat") and "[para. 56]" not in second.inner_text("#chat")
        browser.close()


def test_uploading_a_copy_of_an_indexed_document_is_refused_and_leaves_nothing(site, tmp_path):
    src = tmp_path / "again.md"
    src.write_bytes((site.corpus / "cybercrime-expert-group-2017.md").read_bytes())
    before = sorted(p.name for p in site.corpus.iterdir())
    text, *_ = upload(site, _Named(src, "again.md"))
    assert "Not added" in text and "same content" in text
    assert sorted(p.name for p in site.corpus.iterdir()) == before


def test_a_refused_upload_is_named_as_the_user_called_it(site, tmp_path):
    src = tmp_path / "upload-8f3a1c.bin"  # how a server keeps an upload
    src.write_bytes(b"\x00\x01binary")
    text, *_ = upload(site, _Named(src, "Rapport annuel.md"))
    assert "Not added" in text and "Rapport annuel.md" in text and "binary" in text
    assert str(tmp_path) not in text and "upload-8f3a1c" not in text and "remove it from the corpus" not in text
    good = tmp_path / "x.md"
    good.write_text("# Доклад\n\n1. Комитет собрался в Вене.\n2. Он принял план.\n", encoding="utf-8")
    text, *_ = upload(site, _Named(good, "доклад.md"))
    assert "Added" in text and "`uploads/доклад`" in text


def test_quotes_from_several_documents_are_grouped_by_document(site, tmp_path):
    from dataclasses import replace

    src = write(
        tmp_path / "up.md",
        "# Water board minutes\n\n1. The water board met in Lisbon on 3 May 2024.\n"
        "2. The board approved a new reservoir for the northern district.\n",
    )
    upload(site, _Named(src, "water board.md"))
    a = site.current().ask("Which reservoir did the water board approve?", threshold=0.0)
    b = site.current().ask("What is agenda item 6 of the meeting?", threshold=0.0)
    mixed = replace(
        a,
        citations=(
            a.citations[0],
            b.citations[0],
        ),
    )
    page = evidence_html(site.current(), mixed)
    assert page.count("class='doc-group'") == 2
    assert page.index("From Water board minutes") < page.index("From Report on the meeting")
    single = evidence_html(site.current(), b)
    assert "doc-group" not in single


def test_an_upload_rebuilds_with_every_build_setting_of_the_index_and_embeds_only_itself(tmp_path, embedder):
    """The upload path passes the manifest's build settings on whole: each field kept, whatever
    fields BuildSettings grows."""
    import copy

    from rag.index import build_index
    from rag.settings import BuildSettings, WindowSettings

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    write(corpus / "alpha.md", "# Alpha\n\n1. The alpha group met in Geneva in May.\n2. It adopted a plan.\n")
    build = BuildSettings(model=embedder.name, window=WindowSettings(128, 32), max_file_mb=3.5, ann_threshold=2)
    windowed = copy.copy(embedder)
    windowed.window = build.window
    assert build != BuildSettings(model=embedder.name)  # every field but the model differs from its default
    build_index(corpus, index, build, embedder=windowed, progress=False)
    assert load_index(index).manifest.build == build

    class Counting(type(embedder)):
        def __init__(self, base):
            self.__dict__.update(base.__dict__)
            self.encoded = 0

        def encode(self, texts, *, progress=False):
            self.encoded += len(texts)
            return super().encode(texts, progress=progress)

    counting = Counting(windowed)
    src = write(tmp_path / "beta.md", "# Beta\n\n1. The beta committee met in Rome.\n")
    add_document(src, "beta.md", corpus, index, embedder=counting)
    manifest = load_index(index).manifest
    assert manifest.build == build and set(manifest.documents) == {"alpha", "uploads/beta"}
    assert "paragraphs.ivf" in manifest.files  # the index's own approximate-search threshold
    assert counting.encoded == 1  # beta's one paragraph (also its one sentence); alpha reused
    with pytest.raises(BadSetting, match="windows of 200 tokens"):
        add_document(src, "gamma.md", corpus, index, embedder=embedder)  # another window: refused
    assert sorted(p.name for p in (corpus / "uploads").iterdir()) == ["beta.md"]  # and nothing kept


def test_a_shared_page_can_ask_for_a_login_and_an_open_host_is_warned_about(site):
    import httpx

    from rag.ways_in.commands import exposure_warning

    assert exposure_warning("127.0.0.1", False) is None
    assert "anyone who reaches it" in exposure_warning("0.0.0.0", False)
    assert "must log in" in exposure_warning("0.0.0.0", True)
    port = _free_port()
    app = serve(site.current(), corpus=site.corpus, port=port, block=False, auth=("ana", "s3cret"))
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/config").status_code == 401
        # What is served before the login (the page) names no document of the index.
        before = httpx.get(base + "/").text
        assert "cybercrime-expert-group-2017" not in before and "Report on the meeting" not in before
        client = httpx.Client()
        assert client.post(base + "/login", data={"username": "ana", "password": "wrong"}).status_code != 200
        assert client.post(base + "/login", data={"username": "ana", "password": "s3cret"}).status_code == 200
        assert client.get(base + "/config").status_code == 200
    finally:
        app.close()


def test_the_chat_shows_dollar_signs_as_printed_not_as_mathematics(site):
    """A quote holding "$$x$$" is shown as the document prints it: the chat renders no LaTeX."""
    from ui.app import build_app

    app = build_app(site)
    chats = [c for c in app.config["components"] if c.get("props", {}).get("elem_id") == "chat"]
    assert len(chats) == 1 and chats[0]["props"]["latex_delimiters"] == []


def test_a_null_question_or_setting_through_the_api_is_answered_plainly(site):
    """The page's HTTP API can send null for the question or a setting: the chat says the
    question is empty, or answers with the assistant's own settings; no TypeError."""
    history, evidence, status, cleared = respond(site, None, [], 5, "All documents", 0.5)
    assert history[-1]["content"].startswith("Cannot answer: the question is empty")
    history, evidence, status, cleared = respond(site, "What is agenda item 6 of the meeting?", [], None, None, None)
    assert "para. 56" in history[-1]["content"] and "<mark>" in evidence


def test_gradios_copy_of_an_upload_is_deleted_once_handled(site, tmp_path, monkeypatch):
    """Gradio keeps each upload in a folder of its own; once added (a copy is in the corpus) or
    refused, that copy goes. A file outside Gradio's folder is never deleted."""
    from types import SimpleNamespace

    from ui.app import gradio_uploads

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    good = write(gradio_uploads() / "abc123" / "fees.md", "# Fees\n\n1. The registry charges a fee of 40 euros.\n")
    bad = write(gradio_uploads() / "def456" / "empty.md", "\n")
    message, _, _ = upload(site, SimpleNamespace(name=str(good), orig_name="fees.md"))
    assert message.startswith("Added") and not good.exists() and not good.parent.exists()
    message, _, _ = upload(site, SimpleNamespace(name=str(bad), orig_name="empty.md"))
    assert message.startswith("**Not added:**") and not bad.exists()
    outside = write(tmp_path / "mine" / "notes.md", "# Notes\n\n1. Kept where it is.\n")
    upload(site, SimpleNamespace(name=str(outside), orig_name="notes.md"))
    assert outside.exists()


def test_wrong_logins_are_slowed_and_then_refused_for_a_while(monkeypatch):
    import ui.app
    from ui.app import LoginGuard

    clock = [1000.0]
    monkeypatch.setattr(ui.app.time, "monotonic", lambda: clock[0])
    slept: list[float] = []
    monkeypatch.setattr(ui.app.time, "sleep", slept.append)
    guard = LoginGuard("ana", "s3cret", max_failures=5, window=60.0, delay=0.5)
    assert guard("ana", "s3cret") and not guard("ana", "wrong") and guard("ana", "s3cret")  # a success forgives
    for _ in range(5):
        assert not guard("ana", "guess")
    assert slept == [0.5] * 6  # every wrong try costs half a second
    assert not guard("ana", "s3cret")  # locked: even the right password waits
    clock[0] += 61
    assert guard("ana", "s3cret")
    assert not guard("bob", "s3cret") and not guard("ana", "s3cre")


def test_a_document_added_after_the_page_started_can_be_removed_through_its_api(site, tmp_path):
    from gradio_client import Client

    port = _free_port()
    app = serve(site.current(), corpus=site.corpus, port=port, block=False)
    try:
        source = write(tmp_path / "fees.md", "# Fees\n\n1. The registry charges a filing fee of 40 euros.\n")
        doc_id, _ = site.add(source, "fees.md")  # as the HTTP API or another user would
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        message, _, _ = client.predict(doc_id, api_name="/on_remove")
        assert message.startswith("Removed") and doc_id not in site.current().documents
    finally:
        app.close()
