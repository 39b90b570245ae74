"""Accounts: sign-up, sign-in (password and Google), sessions, API keys, the admin's user list."""
