"""Webhooks to developers' endpoints, signed per the Standard Webhooks specification."""
