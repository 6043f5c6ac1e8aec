"""What the tests share: payloads, accounts, the test database, processes and servers,
headless Chromium, SSO tokens. Fixtures stay in tests/conftest.py; these are plain modules."""
