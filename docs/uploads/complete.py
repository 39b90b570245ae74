import json
import os

import httpx

answer = httpx.post(
    f"{os.environ['JSONCRAFT_API']}/api/uploads/{os.environ['UPLOAD_ID']}/complete",
    headers={"Authorization": f"Bearer {os.environ['JSONCRAFT_KEY']}"},
)
answer.raise_for_status()
print(json.dumps(answer.json()))  # {"id": ..., "status": "ready"} or "rejected" with a reason
