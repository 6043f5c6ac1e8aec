"""Who a reader is: SSO tokens from the newsroom's own accounts (`sso`) and the signed
anonymous ids we issue (`anonymous`). The contract is in docs/identity.md.

Both verifications are pure (no database): the reader API runs them at the edge, before
anything is queued, and hands the worker a verified identity (`services.readers`).
"""
