import json
import os

import httpx

answer = httpx.post(
    f"{os.environ['JSONCRAFT_API']}/api/projects/{os.environ['PROJECT_ID']}/webhooks",
    headers={"Authorization": f"Bearer {os.environ['JSONCRAFT_KEY']}"},
    json={"url": os.environ["WEBHOOK_URL"], "events": ["upload.completed", "upload.rejected"]},
)
answer.raise_for_status()
print(json.dumps(answer.json()))  # {"id": ..., "secret": "whsec_..."}: keep the secret
