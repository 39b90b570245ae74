curl -sS -X POST "$JSONCRAFT_API/api/uploads" \
  -H "Authorization: Bearer $JSONCRAFT_KEY" \
  -H "Content-Type: application/json" \
  -d "{\"files\": [{\"name\": \"$FILE_NAME\", \"size\": $FILE_SIZE, \"type\": \"$FILE_TYPE\"}]}"
