"""Staff sign-in plumbing shared by the dashboard (sessions) and the CLI."""
import secrets

import sqlalchemy as sa

from .extensions import db, login_manager
from .models import User
from .models.accounts import ROLES


def init_app(app):
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id):
        try:
            user = db.session.get(User, int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and user.is_active else None


def generate_password():
    return secrets.token_urlsafe(15)


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
    if len(password) < 10:
        raise ValueError("the password must be at least 10 characters")
    user = User(email=email, role=role, active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user, password
