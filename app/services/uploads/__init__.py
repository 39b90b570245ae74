"""The developer upload platform: projects, their keys and rules, presigned uploads."""
