curl -sS -X POST "$JSONCRAFT_API/api/uploads/client-tokens" \
  -H "Authorization: Bearer $JSONCRAFT_KEY" \
  -H "Content-Type: application/json" \
  -d '{"expires_in": 600}'
