"""Helpers shared by the tests: image factories, fake vendor servers, job helpers."""
