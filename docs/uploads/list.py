import json
import os

import httpx

answer = httpx.get(
    f"{os.environ['JSONCRAFT_API']}/api/uploads",
    headers={"Authorization": f"Bearer {os.environ['JSONCRAFT_KEY']}"},
    params={"status": "ready", "limit": 20},  # pass next_cursor as cursor for the next page
)
answer.raise_for_status()
print(json.dumps(answer.json()))
