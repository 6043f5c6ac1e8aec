"""SSO tokens as a newsroom's CMS makes them (Coral's shape; docs/identity.md)."""
import time

import jwt


def sso_claims(**changes):
    """Valid claims for now: an hour's lifetime, user u-42 "Анна К." with an e-mail."""
    now = int(time.time())
    body = {"jti": "a1b2", "iat": now, "exp": now + 3600,
            "user": {"id": "u-42", "username": "Анна К.", "email": "Anna@Reader.example"}}
    body.update(changes)
    return body


def sso_token(secret, algorithm="HS256", **changes):
    return jwt.encode(sso_claims(**changes), secret, algorithm=algorithm)
