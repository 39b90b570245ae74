curl -sS "$JSONCRAFT_API/api/uploads?status=ready&limit=20" \
  -H "Authorization: Bearer $JSONCRAFT_KEY"
