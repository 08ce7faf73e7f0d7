"""The chat page: questions in, cited answers out, with the evidence beside them.

`build_app(holder, ...)` makes the page; its handlers are small functions from an Answer to
display values, so they can be tested without a browser. The page calls `Assistant.ask`,
the same call as the CLI and the Python API, so all three give the same answer.
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr

from rag.assistant import Assistant
from rag.cite.citations import copy_text, on_ocr_pages, pages_text, paragraph_pages
from rag.cite.citations import label as cite_label
from rag.cite.serialize import left_out_note
from rag.errors import RagError
from rag.readers import READERS
from rag.types import Answer, Citation, Paragraph
from rag.ways_in.library import Library
from rag.ways_in.uploads import DEFAULT_MAX_BYTES, UPLOADS, uploaded

log = logging.getLogger(__name__)

ALL_DOCUMENTS = "All documents"
EXAMPLES = [
    "What is agenda item 6 of the meeting?",
    "Which government provided resources for the third meeting?",
    "Who took over as Rapporteur of the Expert Group?",
    "Why did many speakers not support the key findings of the draft study?",
    "How many Member States attended the meeting?",
]

CSS = """
.evidence { font-size: 15px; line-height: 1.5; }
.evidence .card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 14px; margin-bottom: 12px; background: #fff; }
.evidence .card.not-answer { background: #fafafa; border-style: dashed; }
.evidence .head { font-weight: 600; margin-bottom: 2px; }
.evidence .section { color: #57606a; font-size: 13px; margin-bottom: 6px; }
.evidence .para { white-space: pre-wrap; }
.evidence mark { background: #fff3a3; padding: 1px 0; }
.evidence details { margin-top: 6px; color: #444; font-size: 14px; }
.evidence .badge { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #eef; margin-left: 6px; }
.evidence .warn { color: #8a4b00; font-weight: 600; }
.evidence button.copy-cite { font-size: 12px; margin-top: 6px; padding: 2px 10px; width: auto;
  border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; color: #24292f; cursor: pointer; }
.evidence h4.doc-group { margin: 14px 0 6px; font-size: 14px; color: #24292f; }
.evidence .confidence { font-size: 13px; color: #333; margin-bottom: 10px; }
.evidence .confidence .bar { position: relative; height: 8px; background: #eee; border-radius: 4px; margin-top: 3px; width: 260px; }
.evidence .confidence .fill { position: absolute; left: 0; top: 0; bottom: 0; background: #3b6ea5; border-radius: 4px; }
.evidence .confidence .mark { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #c0392b; }
#question-count { font-size: 12px; color: #57606a; text-align: right; }
#question-count.over { color: #c0392b; font-weight: 600; }
"""

# Copies a citation on click; delegated so that it works for evidence rendered later. Counts the
# characters of the question as it is typed (and after the page empties the box), against the
# limit the counter element carries.
HEAD = """<script>
function countQuestion() {
  const c = document.querySelector('#question-count span'), box = document.querySelector('#question textarea');
  if (!c || !box) return;
  const limit = parseInt(c.getAttribute('data-limit'), 10), n = box.value.length;
  const text = n + ' / ' + limit + ' characters' + (n > limit ? ' (too long: ask it in fewer words)' : '');
  if (c.textContent !== text) c.textContent = text;
  c.parentElement.classList.toggle('over', n > limit);
}
document.addEventListener('input', function (e) {
  if (e.target.closest && e.target.closest('#question')) countQuestion();
});
// The box is also emptied by the page itself once a question is asked, which fires no input event.
setInterval(countQuestion, 300);
document.addEventListener('click', function (e) {
  const b = e.target.closest('button.copy-cite');
  if (!b) return;
  const text = b.getAttribute('data-cite');
  const done = () => { b.textContent = 'Copied'; b.title = text; setTimeout(() => { b.textContent = 'Copy citation'; }, 2000); };
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, done); }
  else { const t = document.createElement('textarea'); t.value = text; document.body.appendChild(t);
         t.select(); try { document.execCommand('copy'); } catch (err) {} t.remove(); done(); }
});
</script>"""


#: The page holds its assistant in a rag.ways_in.library.Library (an upload swaps in a new one).
AssistantHolder = Library


def title_of(assistant: Assistant, doc_id: str) -> str:
    return assistant.documents.title(doc_id)


def citation_label(assistant: Assistant, c: Citation) -> str:
    """What "copy citation" gives, e.g. "<document title> (<symbol>), para. 41, p. 7"."""
    return copy_text(c, assistant.documents)


def _highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _neighbours(assistant: Assistant, p: Paragraph) -> str:
    parts = []
    before, after = assistant.neighbours(p)
    for n, where in ((before, "before"), (after, "after")):
        if n is not None:
            name = cite_label(n).replace("para.", "Paragraph", 1)
            parts.append(
                f"<details><summary>{html.escape(name[:1].upper() + name[1:])} ({where})</summary>"
                f"<div class='para'>{html.escape(n.text)}</div></details>"
            )
    return "".join(parts)


def _card(
    assistant: Assistant,
    p: Paragraph,
    spans: list[tuple[int, int]],
    *,
    label: str,
    cite: str | None,
    not_answer: bool = False,
) -> str:
    section = " > ".join(p.section)
    copy = (
        f"<button class='copy-cite' data-cite='{html.escape(cite, quote=True)}'>Copy citation</button>" if cite else ""
    )
    counted = "" if p.numbered_by_source else "<span class='badge'>numbered in order of appearance</span>"
    if on_ocr_pages(p.doc_id, paragraph_pages(p), assistant.documents):
        counted += (
            "<span class='badge ocr' title='This page is a scan without a text layer: its text is what OCR "
            "read, and may differ from the print. Check the quote against the scan.'>read by OCR</span>"
        )
    page = f", {pages_text(paragraph_pages(p))}" if p.pages else ""
    return (
        f"<div class='card{' not-answer' if not_answer else ''}'>"
        f"<div class='head'>{html.escape(title_of(assistant, p.doc_id))}, {html.escape(cite_label(p))}{page}"
        f"<span class='badge'>{html.escape(label)}</span>{counted}</div>"
        f"<div class='section'>{html.escape(section)}</div>"
        f"<div class='para'>{_highlighted(p.text, spans)}</div>{copy}{_neighbours(assistant, p)}</div>"
    )


NEAR_MISS = 0.05


def confidence_html(answer: Answer, threshold: float) -> str:
    """A small labelled bar: the answer's confidence against the threshold, and whether it was a
    near miss (within 0.05 of the threshold, either side)."""
    c = max(0.0, min(1.0, answer.confidence))
    near = abs(answer.confidence - threshold) <= NEAR_MISS
    if near and answer.confidence < threshold:
        note = " &mdash; a near miss: just below the threshold; lower it to see the closest sentence"
    elif near:
        note = " &mdash; a near miss: just above the threshold; check the quote"
    else:
        note = ""
    return (
        f"<div class='confidence'>Confidence {answer.confidence:.2f} (threshold {threshold:.2f}){note}"
        f"<div class='bar' title='confidence {answer.confidence:.2f}, threshold {threshold:.2f}'>"
        f"<div class='fill' style='width:{c * 100:.0f}%'></div>"
        f"<div class='mark' style='left:{threshold * 100:.0f}%'></div></div></div>"
    )


def evidence_html(assistant: Assistant, answer: Answer, threshold: float | None = None) -> str:
    """The evidence panel: the confidence bar, then each cited paragraph whole, its quoted
    sentences highlighted."""
    bar = confidence_html(answer, assistant.threshold if threshold is None else threshold) if answer.hits else ""
    if answer.abstained:
        cards = "".join(
            _card(assistant, h.paragraph, [], label=f"closest #{h.rank}, not an answer", cite=None, not_answer=True)
            for h in answer.hits[:3]
        )
        why = html.escape(answer.reason or "")
        return (
            f"<div class='evidence'>{bar}<p class='warn'>The documents do not answer this question.</p>"
            f"<p>Why: {why}.</p><p>The closest paragraphs found are shown below; they are "
            f"<b>not</b> an answer.</p>{cards}</div>"
        )
    grouped: dict[tuple[str, str], list[Citation]] = {}
    for c in answer.citations:
        grouped.setdefault((c.doc_id, cite_label(c)), []).append(c)
    # Quotes from several documents are grouped by document, in the order they are first quoted.
    by_doc: dict[str, list[str]] = {}
    for (doc_id, name), cites in grouped.items():
        p = assistant.paragraph(doc_id, name)
        if p is None:
            continue
        by_doc.setdefault(doc_id, []).append(
            _card(
                assistant, p, [(c.start, c.end) for c in cites], label="cited", cite=citation_label(assistant, cites[0])
            )
        )
    if len(by_doc) > 1:
        parts = [
            f"<h4 class='doc-group'>From {html.escape(title_of(assistant, d))}</h4>{''.join(cards)}"
            for d, cards in by_doc.items()
        ]
    else:
        parts = ["".join(cards) for cards in by_doc.values()]
    return f"<div class='evidence'>{bar}{''.join(parts)}</div>"


def chat_markdown(text: str) -> str:
    """Answer text for the chat bubble: Markdown characters escaped so quotes show as written."""
    escaped = re.sub(r"([\\`*_#<>|~\[\]()!])", r"\\\1", text)  # no live link, image or HTML
    return re.sub(r"(?m)^(\s*)(\d+)\.", r"\1\2\\.", escaped)


def _doc_choice(doc: str | None) -> str | None:
    return None if not doc or doc == ALL_DOCUMENTS else doc


def respond(
    holder: AssistantHolder,
    question: str | None,
    history: list[dict[str, Any]] | None,
    k: float | None,
    doc: str | None,
    threshold: float | None,
) -> tuple[list[dict[str, Any]], str, str, str]:
    """Answer one chat turn: (history, evidence html, status, cleared input)."""
    history = list(history or [])
    assistant = holder.current()
    # Through the page's HTTP API any of these may come as null: then the question is empty and
    # the settings are the assistant's own.
    question = question if isinstance(question, str) else ""
    k = assistant.settings.k if k is None else k
    threshold = assistant.threshold if threshold is None else threshold
    try:
        answer = assistant.ask(question, k=int(k), doc_id=_doc_choice(doc), threshold=float(threshold))
    except RagError as exc:
        # Said in the conversation, where the user looks; the question stays in the box to edit.
        shown = question if len(question) <= 300 else question[:300] + " …"
        history.append({"role": "user", "content": chat_markdown(shown)})
        history.append({"role": "assistant", "content": chat_markdown(f"Cannot answer: {exc}.")})
        return history, gr.skip(), "", question
    history.append({"role": "user", "content": chat_markdown(answer.question)})
    history.append(
        {
            "role": "assistant",
            "content": chat_markdown(answer.text if not answer.abstained else f"{answer.text} (Why: {answer.reason}.)"),
        }
    )
    return history, evidence_html(assistant, answer, float(threshold)), "", ""


def document_choices(holder: AssistantHolder) -> tuple[Any, Any]:
    """The two document lists as the index has them now: restrict-to, and removable uploads."""
    assistant = holder.current()
    return (
        gr.update(choices=[ALL_DOCUMENTS, *sorted(assistant.documents)]),
        gr.update(choices=uploaded(assistant.data.manifest), value=None),
    )


def documents_line(holder: AssistantHolder, shown: int = 6) -> str:
    """Which documents the page answers from, under its title: "Answering from: ..."."""
    docs = holder.current().documents
    names = [title_of(holder.current(), d) for d in sorted(docs)]
    listed = "; ".join(html.escape(n) for n in names[:shown])
    more = f"; and {len(names) - shown} more (see Settings)" if len(names) > shown else ""
    return f"Answering from {len(names)} document{'s' if len(names) != 1 else ''}: {listed}{more}."


def remove_upload(holder: AssistantHolder, doc_id: str | None) -> tuple[str, Any, Any]:
    """Take a document added through the page out of the corpus and the index; (message, document
    choices, removable choices). Its paragraphs leave the index before this returns."""
    if not doc_id:
        return "Choose a document to remove first.", gr.skip(), gr.skip()
    try:
        info = holder.remove(doc_id)
    except RagError as exc:
        return f"**Not removed:** {html.escape(str(exc))}", *document_choices(holder)
    return f"Removed **{html.escape(info.title or doc_id)}** (`{doc_id}`).", *document_choices(holder)


def gradio_uploads() -> Path:
    """Where Gradio keeps the files users upload before a handler sees them."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def discard_upload(path: Path) -> None:
    """Delete Gradio's copy of an upload once it is handled, added or refused (an added document
    has its own copy in the corpus); never a file outside Gradio's upload folder."""
    try:
        resolved = path.resolve()
        if gradio_uploads() not in resolved.parents:
            return
        resolved.unlink(missing_ok=True)
        if resolved.parent != gradio_uploads() and not any(resolved.parent.iterdir()):
            resolved.parent.rmdir()  # Gradio puts each upload in a folder of its own
    except OSError as exc:
        log.warning("could not delete the uploaded copy %s (%s)", path, exc)


def upload(holder: AssistantHolder, file: Any, progress: gr.Progress | None = None) -> tuple[str, Any, Any]:
    """Add an uploaded document to the corpus and the index; (message, document choices,
    removable choices)."""
    if not file:
        return "Choose a document first (PDF, Word, HTML, Markdown or text).", gr.skip(), gr.skip()
    path = Path(file if isinstance(file, str) else getattr(file, "name", str(file)))
    name = getattr(file, "orig_name", None) or path.name
    try:
        doc_id, info = holder.add(path, name, progress=True)
    except RagError as exc:
        return f"**Not added:** {html.escape(str(exc))}", gr.skip(), gr.skip()
    except OSError as exc:
        return f"**Not added:** the file could not be read ({html.escape(str(exc))})", gr.skip(), gr.skip()
    finally:
        discard_upload(path)
    note = left_out_note(info)
    left = f" {html.escape(note)}." if note else ""
    return (
        f"Added **{html.escape(info.title or doc_id)}** as document `{doc_id}` "
        f"({info.paragraphs} paragraphs). You can ask about it now.{left}",
        *document_choices(holder),
    )


def build_app(holder: AssistantHolder) -> gr.Blocks:
    """The chat page over one assistant holder."""
    assistant = holder.current()
    settings = assistant.settings
    with gr.Blocks(title="Cited answers from official documents") as app:
        gr.Markdown(
            "## Ask the documents\nAnswers are sentences quoted verbatim from the documents, "
            "each with its paragraph citation. When the documents do not answer, it says so."
        )
        # The document lists are filled when the page loads, not written into the page's
        # configuration: behind a login (--auth), the configuration is served before it.
        loaded = gr.Markdown("", elem_id="loaded")
        with gr.Row():
            with gr.Column(scale=5):
                # No mathematics: "$$x$$" in a quote is shown as the document prints it.
                chat = gr.Chatbot(label="Conversation", height=430, elem_id="chat", latex_delimiters=[])
                question = gr.Textbox(
                    label="Your question",
                    placeholder="e.g. Who opened the meeting?",
                    elem_id="question",
                    lines=1,
                    max_lines=4,
                )
                limit = settings.max_question_chars
                gr.HTML(f"<div id='question-count'><span data-limit='{limit}'>0 / {limit} characters</span></div>")
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("Clear conversation")
                status = gr.Markdown(elem_id="status")
                gr.Examples(EXAMPLES, inputs=[question], label="Example questions")
            with gr.Column(scale=6):
                gr.Markdown("### Evidence")
                evidence = gr.HTML(
                    "<div class='evidence'><p>The paragraphs an answer quotes appear here, "
                    "with the quoted sentences highlighted.</p></div>",
                    elem_id="evidence",
                )
        with gr.Accordion("Settings", open=False):
            with gr.Row():
                k = gr.Slider(1, 20, value=settings.k, step=1, label="Paragraphs retrieved", elem_id="k")
                doc = gr.Dropdown(
                    [ALL_DOCUMENTS],
                    value=ALL_DOCUMENTS,
                    allow_custom_value=True,  # documents added after the page was built
                    label="Restrict to one document",
                    elem_id="doc",
                )
                threshold = gr.Slider(
                    0.0,
                    1.0,
                    value=assistant.threshold,
                    step=0.01,
                    label="Abstention threshold (higher = more cautious)",
                    elem_id="threshold",
                )
        with gr.Accordion("Add a document", open=False):
            limit = holder.max_upload_bytes // 1024
            gr.Markdown(
                f"Upload a PDF, Word (.docx), HTML, Markdown (.md) or text (.txt) file, up to {limit} KB. "
                f"It is kept in the corpus's `{UPLOADS}/` folder, apart from the bundled documents, and "
                "indexed; the page then answers from it too, for every user."
            )
            file = gr.File(label="Document", file_types=sorted(READERS), elem_id="upload")
            add = gr.Button("Add to the corpus", elem_id="add")
            added = gr.Markdown(elem_id="upload-status")
            with gr.Row():
                removable = gr.Dropdown(
                    [],
                    value=None,
                    # A document added after the page loaded (by another user, or through the page's
                    # HTTP API) can be named too; remove_upload says so if it cannot be removed.
                    allow_custom_value=True,
                    label="Remove a document added here",
                    elem_id="remove-doc",
                )
                remove = gr.Button("Remove", elem_id="remove")

        def on_ask(q, h, k_, d, t):  # type: ignore[no-untyped-def]
            return respond(holder, q, h, k_, d, t)

        def on_upload(f, progress=gr.Progress(track_tqdm=True)):  # type: ignore[no-untyped-def]  # noqa: B008 (Gradio's idiom)
            return upload(holder, f, progress)

        def documents_now():  # type: ignore[no-untyped-def]
            return document_choices(holder)

        def on_remove(d):  # type: ignore[no-untyped-def]
            return remove_upload(holder, d)

        # Every page load reads the document list of the index as it is now (an upload by another
        # user, or before a reload, is there).
        app.load(documents_now, None, [doc, removable]).then(lambda: documents_line(holder), None, loaded)
        outputs = [chat, evidence, status, question]
        ask.click(on_ask, [question, chat, k, doc, threshold], outputs)
        question.submit(on_ask, [question, chat, k, doc, threshold], outputs)
        clear.click(lambda: ([], "", ""), None, [chat, evidence, status])
        add.click(on_upload, [file], [added, doc, removable]).then(lambda: documents_line(holder), None, loaded)
        remove.click(on_remove, [removable], [added, doc, removable]).then(lambda: documents_line(holder), None, loaded)
    return app


class LoginGuard:
    """The page's login check (Gradio calls it with a user name and password): right only for the
    configured pair, compared in constant time; after `max_failures` wrong tries within `window`
    seconds every try is refused for `window` seconds, and each wrong try costs `delay` seconds,
    so that passwords cannot be guessed at the speed of the network (200 tries took 0.2 s)."""

    def __init__(
        self, user: str, password: str, *, max_failures: int = 5, window: float = 60.0, delay: float = 0.5
    ) -> None:
        self._user, self._password = user.encode(), password.encode()
        self.max_failures, self.window, self.delay = max_failures, window, delay
        self._failures: list[float] = []
        self._locked_until = 0.0
        self._lock = threading.Lock()

    def __call__(self, user: str, password: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._locked_until:
                return False
            right = hmac.compare_digest(str(user).encode(), self._user) & hmac.compare_digest(
                str(password).encode(), self._password
            )
            if right:
                self._failures.clear()
                return True
            self._failures = [t for t in self._failures if now - t < self.window] + [now]
            if len(self._failures) >= self.max_failures:
                self._locked_until = now + self.window
                log.warning(
                    "%d wrong logins in %.0f s; logins refused for %.0f s",
                    len(self._failures),
                    self.window,
                    self.window,
                )
        time.sleep(self.delay)
        return False


def serve(
    assistant: Assistant,
    *,
    corpus: Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    max_upload_bytes: int = DEFAULT_MAX_BYTES,
    block: bool = True,
    auth: tuple[str, str] | None = None,
    workers: int = 4,
) -> gr.Blocks:
    """Start the page; the model and index stay loaded for every question. `auth`: a user name
    and password asked before the page opens (Gradio's own login); `workers`: questions answered
    at the same time (an answer is a few milliseconds of work, so more than two rarely queue)."""
    holder = AssistantHolder(assistant, Path(corpus), max_upload_bytes)
    app = build_app(holder)
    app.queue(default_concurrency_limit=workers)
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        css=CSS,
        head=HEAD,
        max_file_size=max_upload_bytes,
        show_error=True,
        footer_links=[],
        auth=LoginGuard(*auth) if auth else None,
        quiet=True,  # Gradio's own lines (a public link through share=True) are not for this page's users
    )
    return app
