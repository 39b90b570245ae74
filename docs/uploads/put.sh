curl -sS -f -X PUT "$UPLOAD_URL" \
  -H "Content-Type: $FILE_TYPE" \
  --upload-file "$FILE_PATH"
