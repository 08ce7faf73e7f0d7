"""Write an eval Report as report.json, answers.jsonl and a self-contained report.html with plots."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from rag.evaluate.results import KS, QuestionResult, Report


def _png(fig) -> str:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(report: Report) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = report.figures
    out = {}
    fig, ax = plt.subplots(figsize=(4.5, 3))
    values = [f.retrieval.recall[k] or 0 for k in KS]
    ax.bar([f"@{k}" for k in KS], values, color="#3b6ea5")
    for i, v in enumerate(values):
        ax.text(i, v + 0.01, f"{v:.2f}", ha="center", fontsize=9)
    ax.set_ylim(0, 1.1)
    ax.set_title("Recall of gold paragraphs")
    out["recall"] = _png(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ts = [c.threshold for c in report.curve]
    ax.plot(ts, [c.abstained_unanswerable for c in report.curve], label="abstained, unanswerable (want high)")
    ax.plot(ts, [c.abstained_answerable for c in report.curve], label="abstained, answerable (want low)")
    ax.plot(ts, [c.correct_cited for c in report.curve], label="correct with gold citation", linestyle="--")
    ax.axvline(f.abstention.threshold or 0.0, color="k", linestyle=":", label=f"threshold {f.abstention.threshold}")
    ax.set_xlabel("abstention threshold")
    ax.set_ylim(0, 1.05)
    # Below the axes, so that it never covers the curves.
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    ax.set_title("Abstention trade-off")
    out["curve"] = _png(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3))
    a = [r.confidence for r in report.rows if r.answerable]
    u = [r.confidence for r in report.rows if r.unanswerable]
    bins = [i / 40 for i in range(41)]
    ax.hist(a, bins=bins, alpha=0.6, label=f"answerable ({len(a)})")
    ax.hist(u, bins=bins, alpha=0.6, label=f"unanswerable ({len(u)})")
    ax.axvline(f.abstention.threshold or 0.0, color="k", linestyle=":")
    ax.set_xlabel("confidence of the best sentence")
    ax.legend(fontsize=8)
    ax.set_title("Scores of answerable and unanswerable questions")
    out["scores"] = _png(fig)

    cal = f.calibration
    points = [b for b in cal.bins if b.questions]
    if points:
        fig, ax = plt.subplots(figsize=(4.5, 4))
        ax.plot([0, 1], [0, 1], color="#999", linestyle=":", label="perfectly calibrated")
        ax.plot(
            [b.confidence or 0.0 for b in points],
            [b.right or 0.0 for b in points],
            marker="o",
            color="#3b6ea5",
            label=f"this run (ECE {cal.expected_calibration_error})",
        )
        for b in points:
            ax.annotate(
                str(b.questions),
                (b.confidence, b.right),
                fontsize=7,
                textcoords="offset points",
                xytext=(3, -9),
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("confidence of the best sentence")
        ax.set_ylabel("share answered right")
        ax.legend(fontsize=7, loc="upper left")
        ax.set_title("Reliability (questions per point)")
        out["reliability"] = _png(fig)
    return out


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _reliability_table(report: Report) -> str:
    cal = report.figures.calibration
    rows = "".join(
        f"<tr><td>{b.bin[0]:.1f}-{b.bin[1]:.1f}</td><td>{b.questions}</td>"
        f"<td>{_number(b.confidence)}</td><td>{_number(b.right)}</td></tr>"
        for b in cal.bins
    )
    if not rows:
        return ""
    return (
        "<h2>Reliability of the confidence</h2><p>Questions binned by the confidence of their best "
        "sentence; <i>right</i> is the share whose answer with no threshold is correct and cited "
        "(an unanswerable question's answer never is). Expected calibration error: "
        f"{cal.expected_calibration_error}.</p><table><tr><th>confidence</th><th>questions</th>"
        f"<th>mean confidence</th><th>right</th></tr>{rows}</table>"
    )


def _failure(r: QuestionResult) -> str | None:
    if "error" in r.record:
        return f"error: {r.record['error']}"
    if r.grounding:
        return "quote not grounded: " + "; ".join(g["problem"] for g in r.grounding)
    if r.unanswerable and not r.abstained:
        return "answered a question the documents do not answer"
    if r.answerable and r.abstained:
        return "abstained on an answerable question"
    if r.answerable and not r.cites_gold():
        return "cited the wrong paragraph"
    if r.answerable and r.answer_keys and not r.key_hit():
        return "gold paragraph cited, answer key missing"
    return None


def _shorten(quote: str, limit: int = 240) -> str:
    """A quote for the failures table: whole if short, else cut at a word with an ellipsis."""
    if len(quote) <= limit:
        return quote
    return quote[:limit].rsplit(" ", 1)[0] + " \u2026"


def _floors(report: Report) -> str:
    floors = report.figures.floors
    if floors is None:
        return "<p>No floors were asked for (<code>--min-*</code>, <code>--max-wrong-abstention</code>).</p>"
    asked = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in floors.asked.items())
    if not floors.failed:
        return f"<p class='pass'><b>Floors passed</b> ({html.escape(asked)}).</p>"
    items = "".join(f"<li>{html.escape(x)}</li>" for x in floors.failed)
    return f"<p class='fail'><b>Floors failed</b> ({html.escape(asked)}):</p><ul>{items}</ul>"


def _table(report: Report) -> str:
    rows = []
    for r in report.rows:
        why = _failure(r)
        if why is None:
            continue
        quotes = " | ".join(_shorten(c["quote"]) for c in r.record.get("citations", []))
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(x))}</td>"
                for x in (
                    r.id,
                    r.question or "",
                    ", ".join(map(str, r.gold_paras or [])) or "none",
                    ", ".join(str(p) for _, p in r.cited()) or "-",
                    f"{r.confidence:.2f}",
                    why,
                    quotes,
                )
            )
            + "</tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in ("id", "question", "expected", "cited", "conf.", "what failed", "quote"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>" if rows else "<p>No failures.</p>"


def write_report(report: Report, out: Path) -> None:
    """Write report.json, answers.jsonl and report.html into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(report.to_json(), encoding="utf-8")
    with open(out / "answers.jsonl", "w", encoding="utf-8") as fh:
        for r in report.rows:
            fh.write(json.dumps(r.record, ensure_ascii=False) + "\n")
    plots = _plots(report)
    summary = html.escape(report.summary())
    imgs = "".join(f'<img alt="{k}" src="data:image/png;base64,{v}">' for k, v in plots.items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Evaluation report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}pre{{background:#f4f4f4;padding:1em}}
img{{margin:0.5em;border:1px solid #ddd}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}th{{background:#eee}}
.pass{{color:#1a7f37}}.fail{{color:#c0392b}}</style></head><body>
<h1>Evaluation report</h1>{_floors(report)}<pre>{summary}</pre><div>{imgs}</div>
{_reliability_table(report)}
<h2>Failures</h2>{_table(report)}</body></html>"""
    (out / "report.html").write_text(page, encoding="utf-8")
