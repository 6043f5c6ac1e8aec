"""Staff sign-in plumbing shared by the dashboard (sessions) and the CLI.

A sign-in's session and remember cookie hold "<user id>:<session version>:<signed in
at>" (signed by Flask / Flask-Login with SECRET_KEY). The loader accepts it only while
the account is active, its session version is unchanged (sign-out, a password change or
reset and deactivation raise it: `User.end_sessions`) and the sign-in is younger than
REMEMBER_COOKIE_DURATION, so a copied or replayed cookie stops working on all of those.
"""
import secrets
import time

import sqlalchemy as sa
from flask import current_app

from .extensions import db, login_manager
from .models import User
from .models.accounts import ROLES


def load_user(value):
    """The active user a session or remember cookie names, or None when it has ended."""
    try:
        user_id, version, signed_in_at = (int(part) for part in str(value).split(":"))
    except ValueError:  # also sessions from before session versions: sign in again
        return None
    lifetime = current_app.config["REMEMBER_COOKIE_DURATION"]
    lifetime = lifetime.total_seconds() if hasattr(lifetime, "total_seconds") else float(lifetime)
    if time.time() - signed_in_at > lifetime:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def init_app(app):
    # What Flask-Login's `init_app` attaches; its hooks are the dashboard's (moderation.dashboard).
    app.login_manager = login_manager
    login_manager.session_protection = "strong"
    # login_user stores what this method returns; User.get_id stays the stable
    # "<id>:<version>" that UserMixin's equality compares.
    login_manager.id_attribute = "login_session_id"
    login_manager.user_loader(load_user)


# A staff password's length, for every way one is set (dashboard forms, the CLI).
PASSWORD_MIN, PASSWORD_MAX = 10, 200


def generate_password():
    return secrets.token_urlsafe(15)


def _check_password(password):
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValueError(f"the password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")


def create_user(email, role, password=None):
    """Create a staff account. Returns (user, password). Raises ValueError on bad input."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValueError("a valid e-mail address is required")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none():
        raise ValueError(f"a user {email} already exists")
    password = password or generate_password()
    _check_password(password)
    user = User(email=email, role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user, password


def set_password(email, password=None):
    """Give a staff account a new password (typed, or generated when None), which also ends
    its sessions everywhere. Returns (user, password); the caller audits and commits.
    Raises ValueError for an unknown account or a password of the wrong length."""
    user = db.session.execute(sa.select(User).where(User.email == (email or "").strip().lower())).scalar_one_or_none()
    if user is None:
        raise ValueError(f"no user {email}")
    password = password or generate_password()
    _check_password(password)
    user.set_password(password)
    return user, password
