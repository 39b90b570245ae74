curl -sS -X POST "$JSONCRAFT_API/api/projects/$PROJECT_ID/webhooks" \
  -H "Authorization: Bearer $JSONCRAFT_KEY" \
  -H "Content-Type: application/json" \
  -d "{\"url\": \"$WEBHOOK_URL\", \"events\": [\"upload.completed\", \"upload.rejected\"]}"
