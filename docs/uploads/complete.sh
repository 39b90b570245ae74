curl -sS -X POST "$JSONCRAFT_API/api/uploads/$UPLOAD_ID/complete" \
  -H "Authorization: Bearer $JSONCRAFT_KEY"
