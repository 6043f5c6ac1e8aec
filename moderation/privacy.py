"""Reader addresses are stored only as salted hashes."""
import hashlib
import hmac

from flask import current_app, request


def _salt():
    salt = current_app.config.get("IP_HASH_SALT")
    if not salt:
        # Derived, not equal: leaking one never reveals the other.
        salt = hmac.new(current_app.config["SECRET_KEY"].encode(), b"ip-hash", "sha256").hexdigest()
        current_app.config["IP_HASH_SALT"] = salt
    return salt.encode()


def hash_value(value):
    """Keyed SHA-256 of an address or e-mail: stable for blocking, useless to a thief."""
    return hmac.new(_salt(), value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def client_address():
    """The reader's address as seen through the trusted proxies (ProxyFix sets remote_addr)."""
    return request.remote_addr or "unknown"


def reporter_hash():
    return hash_value(client_address())
