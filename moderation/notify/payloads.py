"""What a webhook says: the event's data read from the database now, in one of three formats.

- json: {"event", "delivery_id", "site", "sent_at", "data"} — one object per request.
- slack: an incoming-webhook message, {"text", "blocks"} (mrkdwn, &<> escaped).
- telegram: a Bot API `sendMessage` body, {"chat_id", "text", "parse_mode": "HTML"} (HTML escaped).
"""
import html

from ..extensions import db
from ..models import Comment, ReportCluster
from ..models.base import isoformat, utcnow

TELEGRAM_LIMIT = 4096
CHAT_ITEMS = 10  # a chat message lists this many objects, then "and N more"

LINES = {
    "en": {
        "cluster.created": "New error report",
        "cluster.fixed": "Error fixed",
        "comment.pending": "Comment awaits moderation",
        "comment.approved": "Comment approved",
        "comment.rejected": "Comment rejected",
        "ping": "Test message from the moderation service",
        "more": "and {n} more",
        "readers": "readers",
    },
    "ru": {
        "cluster.created": "Новое сообщение об ошибке",
        "cluster.fixed": "Ошибка исправлена",
        "comment.pending": "Комментарий ждёт модерации",
        "comment.approved": "Комментарий одобрен",
        "comment.rejected": "Комментарий отклонён",
        "ping": "Проверочное сообщение от сервиса модерации",
        "more": "и ещё {n}",
        "readers": "читателей",
    },
}


def language(site):
    return "en" if getattr(site, "language", "en") == "en" else "ru"


def cluster_data(cluster):
    return {
        "cluster_id": cluster.id,
        "url": cluster.page.url,
        "title": cluster.page.title,
        "exact": cluster.exact,
        "prefix": cluster.prefix,
        "suffix": cluster.suffix,
        "correction": cluster.correction,
        "status": cluster.status,
        "report_count": cluster.report_count,
        "first_reported_at": isoformat(cluster.first_reported_at),
    }


def comment_data(comment):
    return {
        "comment_id": comment.id,
        "url": comment.page.url,
        "title": comment.page.title,
        "author": comment.author,
        "body": comment.body_raw,
        "status": comment.status,
        "parent_id": comment.parent_id,
        "created_at": isoformat(comment.created_at),
    }


def load(event, ids):
    """[(site_id, object_id, data)] for the objects that still exist, in id order."""
    if event == "ping":
        return []
    model, build = (ReportCluster, cluster_data) if event.startswith("cluster.") else (Comment, comment_data)
    rows = [db.session.get(model, object_id) for object_id in sorted(ids)]
    return [(row.site_id, row.id, build(row)) for row in rows if row is not None]


def envelope(event, delivery_id, site, data):
    return {"event": event, "delivery_id": delivery_id, "site": site.key,
            "sent_at": isoformat(utcnow()), "data": data}


def _summary(item):
    """One line of plain text about an object."""
    if "exact" in item:
        line = f"«{item['exact']}»"
        if item.get("correction"):
            line += f" → «{item['correction']}»"
        return line + f" ({item['report_count']})"
    body = " ".join(item["body"].split())
    return f"{item['author']}: {body[:200]}{'…' if len(body) > 200 else ''}"


def _slack_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(event, site, items):
    words = LINES[language(site)]
    head = f"{words.get(event, event)} · {site.name}"
    lines = []
    for item in items[:CHAT_ITEMS]:
        url = item["url"].replace("|", "%7C").replace(">", "%3E")
        lines.append(f"• <{_slack_escape(url)}|{_slack_escape(item.get('title') or item['url'])}>: "
                     + _slack_escape(_summary(item)))
    if len(items) > CHAT_ITEMS:
        lines.append(words["more"].format(n=len(items) - CHAT_ITEMS))
    text = "\n".join([f"*{_slack_escape(head)}*"] + lines)
    return {"text": f"{head}: {len(items) or ''}".rstrip(": "),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]}


def telegram(event, site, items, chat_id):
    words = LINES[language(site)]
    esc = html.escape
    lines = [f"<b>{esc(words.get(event, event))}</b> · {esc(site.name)}"]
    for item in items[:CHAT_ITEMS]:
        lines.append(f'• <a href="{esc(item["url"])}">{esc(item.get("title") or item["url"])}</a>: '
                     + esc(_summary(item)))
    if len(items) > CHAT_ITEMS:
        lines.append(esc(words["more"].format(n=len(items) - CHAT_ITEMS)))
    text = "\n".join(lines)
    while len(text) > TELEGRAM_LIMIT and len(lines) > 2:
        # Cut whole lines: a cut inside a tag or an entity is a 400 from Telegram.
        lines.pop(-1)
        text = "\n".join(lines + ["…"])
    return {"chat_id": chat_id, "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}
