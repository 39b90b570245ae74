"""Billing: the credit ledger, prices and plans, Stripe checkout and webhooks, reports."""
