"""Database models. Import from here: `from moderation.models import Comment`."""
from .accounts import ApiToken, User, user_sites
from .audit import AuditEntry
from .clusters import ReportCluster
from .content import Comment, CommentFlag, TypoReport
from .corrections import Correction
from .imports import ImportedComment
from .moderation_rules import BlockedCommenter
from .reactions import CommentVote
from .notifications import NotificationPreference, ReaderSubscription, Webhook, WebhookDelivery
from .readers import Reader, SiteSsoSecret
from .sites import Page, Site
from .spam import SpamExample, SpamModelState, SpamSiteState

__all__ = [
    "ApiToken", "BlockedCommenter", "AuditEntry", "Comment", "CommentFlag", "ImportedComment", "Page",
    "ReportCluster", "Site", "SpamExample", "SpamModelState", "SpamSiteState", "TypoReport", "User", "user_sites",
    "NotificationPreference", "ReaderSubscription", "Webhook", "WebhookDelivery",
    "Reader", "SiteSsoSecret", "CommentVote", "Correction",
]
