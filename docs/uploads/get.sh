curl -sS "$JSONCRAFT_API/api/uploads/$UPLOAD_ID" \
  -H "Authorization: Bearer $JSONCRAFT_KEY"
