"""The prompt library: the schema, writes, gallery and search, versions, access rules, tools
and bundles."""
