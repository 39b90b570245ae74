"""The scaled-out deployment under load (`make test-scale`): see __main__.py."""
