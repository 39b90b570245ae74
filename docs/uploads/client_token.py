import json
import os

import httpx

# On your server: the secret key stays there, the browser gets a token for ten minutes.
answer = httpx.post(
    f"{os.environ['JSONCRAFT_API']}/api/uploads/client-tokens",
    headers={"Authorization": f"Bearer {os.environ['JSONCRAFT_KEY']}"},
    json={"expires_in": 600},
)
answer.raise_for_status()
print(json.dumps(answer.json()))  # {"token": "jct_...", "expires_at": ...}
