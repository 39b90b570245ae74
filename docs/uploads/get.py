import json
import os

import httpx

answer = httpx.get(
    f"{os.environ['JSONCRAFT_API']}/api/uploads/{os.environ['UPLOAD_ID']}",
    headers={"Authorization": f"Bearer {os.environ['JSONCRAFT_KEY']}"},
)
answer.raise_for_status()
print(json.dumps(answer.json()))  # metadata and a signed download URL
