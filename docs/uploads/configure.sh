curl -sS -X PATCH "$JSONCRAFT_API/api/projects/$PROJECT_ID" \
  -H "Authorization: Bearer $JSONCRAFT_KEY" \
  -H "Content-Type: application/json" \
  -d '{"allowed_types": ["image/*", "application/pdf"], "max_file_size": 10485760,
       "max_files_per_upload": 5, "expire_after_days": 30}'
